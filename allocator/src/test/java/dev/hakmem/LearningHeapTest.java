package dev.hakmem;

import dev.hakmem.ace.LearnerOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A learning heap end to end, on the real maintenance thread and clock: windows close, the learner's policies are put
 * in force, the profiles set the site rules, and the heap stays whole throughout. The learner's decisions themselves
 * are tested deterministically in {@code dev.hakmem.ace}.
 */
class LearningHeapTest {

    private static HakMemConfig learning(long windowMillis) {
        return HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING).learnWindowMillis(windowMillis).build();
    }

    /** Runs a small churn with a long-lived site until {@code windows} windows have closed (or 20 s pass). */
    private static void churnUntil(HakMem h, int windows) {
        Site cache = h.site("cache");
        ArrayDeque<Long> kept = new ArrayDeque<>();
        long deadline = System.nanoTime() + 20_000_000_000L;
        int i = 0;
        while (h.learningHistory().size() < windows && System.nanoTime() < deadline) {
            long a = h.malloc(16 + (i * 37) % 4000);
            h.free(a);
            if (i++ % 64 == 0) {
                kept.addLast(cache.malloc(200));
                if (kept.size() > 4096) {
                    h.free(kept.removeFirst());
                }
            }
        }
        kept.forEach(h::free);
    }

    @Test
    void aLearningHeapClosesWindowsPutsItsPoliciesInForceAndStaysWhole() {
        try (HakMem h = HakMem.create(learning(10), 1024)) {
            assertEquals(LearningState.LEARN, h.learningState());
            churnUntil(h, 30);
            List<LearningWindow> history = h.learningHistory();
            assertTrue(history.size() >= 30, "windows closed: " + history.size());
            for (int i = 1; i < history.size(); i++) {
                assertEquals(history.get(i - 1).index() + 1, history.get(i).index(), "consecutive windows");
            }
            long changes = 0;
            for (int i = 1; i < history.size(); i++) {
                changes += history.get(i).policy().equals(history.get(i - 1).policy()) ? 0 : 1;
            }
            long trials = history.stream().filter(w -> !w.trial().isEmpty()).count();
            HakMemStats s = h.stats();
            // Read after the history, so the counters include at least its windows. Each trial puts a candidate in
            // force and, unless adopted, the kept policy back; the other changes are the kept policy's own.
            assertTrue(s.events().policyTrials() >= trials, s.events() + " for " + trials + " trial windows seen");
            assertTrue(2 * s.events().policyTrials() + s.events().policyChanges() >= changes,
                    s.events() + " for " + changes + " changes seen");
            assertTrue(history.stream().anyMatch(w -> !Double.isNaN(w.cost())), "some window was scored");
            assertTrue(history.stream().anyMatch(w -> !w.trial().isEmpty()), "the learner tried a step");
            h.check();
        }
    }

    @Test
    void aSiteWhoseBlocksOutliveWindowsGetsTheLongLivedRule() {
        try (HakMem h = HakMem.create(learning(10), 1)) {
            Site cache = h.site("cache");
            long[] kept = new long[64];
            for (int i = 0; i < kept.length; i++) {
                kept[i] = cache.malloc(300);
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            Policy.SiteRule rule = null;
            while ((rule == null || !rule.longLived()) && System.nanoTime() < deadline) {
                h.free(h.malloc(64));
                rule = h.policy().site("cache");
            }
            assertNotNull(rule, "a rule for the cache site");
            assertTrue(rule.longLived(), rule.toString());
            assertFalse(rule.direct(), "small blocks are not mapped directly");
            for (long a : kept) {
                h.free(a);
            }
            h.check();
        }
    }

    @Test
    void aHeapThatDoesNotLearnStaysFrozenOnItsStartingPolicy() throws InterruptedException {
        Policy start = Policy.builder().wMax(1.5).build();
        try (HakMem h = HakMem.create(HakMemConfig.builder().policy(start).learnWindowMillis(10).build())) {
            h.free(h.malloc(100));
            Thread.sleep(100);
            assertEquals(LearningState.FROZEN, h.learningState());
            assertEquals(List.of(), h.learningHistory());
            assertEquals(start, h.policy());
            assertEquals(0, h.stats().events().policyChanges());
            assertEquals(0, h.stats().events().policyTrials());
        }
    }

    @Test
    void aLearningHeapStartedFromASavedPolicyStartsFrozenOnIt() {
        Policy start = Policy.builder().wMax(1.125).purgeDelayMillis(1000).build();
        try (HakMem h = HakMem.create(learning(1000).toBuilder().policy(start).build())) {
            assertEquals(LearningState.FROZEN, h.learningState());
            assertEquals(start, h.policy());
        }
    }

    /**
     * FROZEN samples untimed (the profiler rests), so its windows carry no cost; none reads as free. CANARY rests
     * too but in its comparisons: at most 2 windows a runner-up slot are scored (6 of 60 at the defaults).
     */
    @Test
    void aRestingWindowIsUnscored() {
        Policy start = Policy.builder().wMax(1.125).build();
        LearnerOptions options = LearnerOptions.defaults();
        try (HakMem h = HakMem.create(learning(10).toBuilder().policy(start).build(), 1024)) {
            churnUntil(h, options.frozenWindows() + options.canaryWindows());
            List<LearningWindow> frozen = h.learningHistory().stream()
                    .filter(w -> w.state() == LearningState.FROZEN).toList();
            assertFalse(frozen.isEmpty(), "windows while frozen: " + h.learningHistory());
            assertTrue(frozen.stream().allMatch(w -> Double.isNaN(w.cost())), frozen.toString());
            List<LearningWindow> canary = h.learningHistory().stream()
                    .filter(w -> w.state() == LearningState.CANARY).toList();
            assertEquals(options.canaryWindows(), canary.size(), "one CANARY period: " + h.learningHistory());
            long scored = canary.stream().filter(w -> !Double.isNaN(w.cost())).count();
            assertTrue(scored <= 2 * Math.floor(options.canaryWindows() * options.canaryShare()), canary.toString());
            h.check();
        }
    }

    /**
     * The lifecycle on the real heap: started FROZEN on a saved policy, the learner moves on to CANARY after its
     * FROZEN period (60 windows), and {@code check()}, whose identities include what each state samples (FROZEN
     * rests, untimed; CANARY samples at the learning period, timed), holds in every state the heap passes through.
     */
    @Test
    void aFrozenHeapMovesOnToCanaryAndStaysWholeInEveryState() {
        Policy start = Policy.builder().wMax(1.125).build();
        try (HakMem h = HakMem.create(learning(10).toBuilder().policy(start).build(), 1024)) {
            Set<LearningState> checked = EnumSet.noneOf(LearningState.class);
            long deadline = System.nanoTime() + 20_000_000_000L;
            // Checked after every window through a whole CANARY period: CANARY times only its comparisons, so the
            // profiler's period changes between its windows, not only at transitions. (The history keeps 256.)
            int canaryWindows = 0;
            int period = LearnerOptions.defaults().canaryWindows();
            while (canaryWindows < period && h.learningHistory().size() < 250 && System.nanoTime() < deadline) {
                churnUntil(h, h.learningHistory().size() + 1);
                h.check();
                checked.add(h.learningState());
                if (h.learningState() == LearningState.CANARY) {
                    canaryWindows++;
                }
            }
            assertTrue(checked.containsAll(EnumSet.of(LearningState.FROZEN, LearningState.CANARY)),
                    "states checked: " + checked + ", history " + h.learningHistory());
            h.check();
        }
    }
}
