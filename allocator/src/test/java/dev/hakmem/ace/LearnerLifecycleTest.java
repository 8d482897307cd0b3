package dev.hakmem.ace;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays of the lifecycle on synthetic workloads ({@link Phase}), with {@link Learner#check} after every window.
 * Each run is recorded (the windows fed and the policies returned) and replayed into a fresh learner of the same
 * seed, which must decide exactly the same.
 */
class LearnerLifecycleTest {
    private static final LearnerOptions OPTIONS = LearnerOptions.defaults();

    /** A recorded run: the windows fed, the policy each returned, and the learner. */
    private record Run(Learner learner, List<Window> windows, List<Policy> policies) {
        List<LearnerEvent> transitions(LearningState to) {
            return learner.events().stream()
                    .filter(e -> e.kind() == LearnerEvent.Kind.TRANSITION && e.to() == to).toList();
        }
    }

    /** Feeds {@code n} windows of the phase {@code phaseAt} gives for each index, checking after each one. */
    private static Run run(Learner learner, int n, LongFunction<Phase> phaseAt, long seed) {
        SplittableRandom noise = new SplittableRandom(seed);
        List<Window> windows = new ArrayList<>();
        List<Policy> policies = new ArrayList<>();
        Policy running = learner.best();
        for (int i = 0; i < n; i++) {
            Window w = phaseAt.apply(i).window(i, running, noise);
            windows.add(w);
            running = learner.onWindow(w);
            policies.add(running);
            assertNull(learner.check(), "after window " + i);
            if (learner.state() == LearningState.FROZEN) {
                assertEquals(learner.best(), running, "FROZEN runs the incumbent");
            }
        }
        return new Run(learner, windows, policies);
    }

    private static void assertReplays(Run run, LearnerOptions options, Policy start, LearningState state, long seed) {
        Learner replay = new Learner(options, start, state, seed);
        for (int i = 0; i < run.windows().size(); i++) {
            assertEquals(run.policies().get(i), replay.onWindow(run.windows().get(i)), "window " + i);
        }
        assertEquals(run.learner().events(), replay.events());
        assertEquals(run.learner().state(), replay.state());
    }

    private static void assertAxes(Phase phase, Policy p) {
        for (Axis axis : Axis.values()) {
            assertEquals(phase.best()[axis.ordinal()], axis.indexOf(p), phase + ": " + axis.knob() + " in " + p);
        }
    }

    @Test
    void learnsFreezesWatchesAndRelearnsOnARecordedShift() {
        Policy start = Policy.defaults();
        Phase parser = Phase.parser();
        Phase vm = Phase.vm();
        // In a FROZEN period: the next CANARY period's first windows hold only the new sizes, whose signature then
        // moves at once, before the p99 of the cost can drift (a shift within a CANARY period may be seen either way).
        long shiftAt = 420;
        Run run = run(new Learner(OPTIONS, start, LearningState.LEARN, 1), 1100,
                i -> i < shiftAt ? parser : vm, 11);
        List<LearnerEvent> events = run.learner().events();

        LearnerEvent firstFreeze = run.transitions(LearningState.FROZEN).getFirst();
        assertEquals(parser.bestPolicy(start), firstFreeze.best(), "converged to the parser's best, bridge included");
        LearnerEvent firstCanary = run.transitions(LearningState.CANARY).getFirst();
        assertTrue(firstFreeze.window() < firstCanary.window() && firstCanary.window() < shiftAt);
        assertTrue(events.stream().anyMatch(e -> e.from() == LearningState.CANARY && e.to() == LearningState.FROZEN
                && e.window() < shiftAt), "a canary period passed without a shift: " + events);
        assertTrue(run.policies().subList(0, (int) shiftAt).stream().anyMatch(p -> !p.equals(firstFreeze.best())
                && events.stream().noneMatch(e -> e.best().equals(p) && e.window() < shiftAt)),
                "the canary tried the runner-up");

        assertEquals(LearningState.FROZEN, events.stream().filter(e -> e.window() < shiftAt).toList().getLast().to(),
                "the shift comes in a FROZEN period: " + events);
        LearnerEvent relearn = run.transitions(LearningState.LEARN).getFirst();
        assertTrue(relearn.window() > shiftAt && relearn.from() == LearningState.CANARY, relearn.toString());
        assertTrue(relearn.reason().startsWith("sizes shifted"), relearn.reason());
        LearnerEvent refreeze = run.transitions(LearningState.FROZEN).stream()
                .filter(e -> e.window() > relearn.window()).findFirst().orElseThrow();
        assertAxes(vm, refreeze.best());
        long changes = events.stream().filter(e -> e.kind() == LearnerEvent.Kind.CHANGE).count();
        assertEquals(4 + 7, changes, "one change per step: 4 to the parser's best, 7 to the vm's: " + events);
        assertReplays(run, OPTIONS, start, LearningState.LEARN, 1);
    }

    @Test
    void aCostDriftWithTheSameSizesGoesBackToLearn() {
        Phase parser = Phase.parser();
        Policy best = parser.bestPolicy(Policy.defaults());
        Phase slower = parser.slower(3);
        // Started frozen, the p99's baseline takes the first DRIFT_WINDOWS timed incumbent windows: 3 a CANARY period
        // of 60 after a FROZEN one of 60, so the first ten periods (windows 60 to 1199) before the drift; the next ten
        // see it.
        Run run = run(new Learner(OPTIONS, best, LearningState.FROZEN, 2), 2500, i -> i < 1200 ? parser : slower,
                12);
        LearnerEvent relearn = run.transitions(LearningState.LEARN).getFirst();
        assertTrue(relearn.reason().startsWith("cost drifted"), relearn.reason());
        assertTrue(relearn.window() > 1200);
        assertEquals(best, run.learner().best(), "the best policy stays the best: only the machine is slower");
        assertReplays(run, OPTIONS, best, LearningState.FROZEN, 2);
    }

    /**
     * The workload moves the best one step, to where the runner-up is: CANARY sees it win, adopts it and relearns.
     * A first run finds the runner-up; a second, the same up to the move, moves the best there.
     */
    @Test
    void aRunnerUpThatWinsByTheRailsReplacesTheIncumbentAndRelearns() {
        Phase parser = Phase.parser();
        Policy start = Policy.defaults();
        Run first = run(new Learner(OPTIONS, start, LearningState.LEARN, 3), 400, i -> parser, 13);
        Policy best = parser.bestPolicy(start);
        long frozenAt = first.transitions(LearningState.FROZEN).getFirst().window();
        List<Policy> tried = first.policies().subList((int) frozenAt, 400).stream()
                .filter(p -> !p.equals(best)).distinct().toList();
        assertEquals(1, tried.size(), "the canary tries one runner-up: " + tried);
        Policy runnerUp = tried.getFirst();

        int[] moved = new int[Axis.values().length];
        for (Axis axis : Axis.values()) {
            moved[axis.ordinal()] = axis.indexOf(runnerUp);
        }
        Phase shifted = new Phase("parser, moved", parser.base(), moved, parser.bridge(), parser.sizes());
        // The runner-up runs 3 windows a CANARY period: its 14 pairs slide through the losses before the move.
        Run run = run(new Learner(OPTIONS, start, LearningState.LEARN, 3), 1600, i -> i < 400 ? parser : shifted,
                13);
        LearnerEvent change = run.learner().events().stream()
                .filter(e -> e.kind() == LearnerEvent.Kind.CHANGE && e.window() >= 400).findFirst().orElseThrow();
        assertEquals(LearningState.CANARY, change.from());
        assertEquals(runnerUp, change.best());
        LearnerEvent relearn = run.transitions(LearningState.LEARN).getFirst();
        assertEquals(change.window(), relearn.window());
        assertTrue(relearn.reason().startsWith("the runner-up won"), relearn.reason());
        assertReplays(run, OPTIONS, start, LearningState.LEARN, 3);
    }

    /** A heap started frozen has no baseline: its first canary period takes the signature's, the next compare. */
    @Test
    void aHeapStartedFrozenTakesItsBaselineInItsFirstCanaryPeriod() {
        Phase parser = Phase.parser();
        Policy best = parser.bestPolicy(Policy.defaults());
        Run run = run(new Learner(OPTIONS, best, LearningState.FROZEN, 5), 700, i -> i < 300 ? parser : Phase.vm(),
                15);
        List<LearnerEvent> events = run.learner().events();
        assertEquals(LearningState.CANARY, events.get(0).to());
        assertEquals(OPTIONS.frozenWindows() - 1, events.get(0).window());
        assertEquals(LearningState.FROZEN, events.get(1).to(), "nothing to compare with yet: " + events);
        LearnerEvent relearn = run.transitions(LearningState.LEARN).getFirst();
        assertTrue(relearn.window() >= 300 && relearn.reason().startsWith("sizes shifted"), relearn.toString());
        assertNotEquals(best, run.learner().best(), "learning the vm phase");
    }

    /** Windows without enough operations or samples are not scored: LEARN neither compares nor freezes on them. */
    @Test
    void unscoredWindowsTeachNothing() {
        Learner learner = new Learner(OPTIONS, Policy.defaults(), LearningState.LEARN, 6);
        Phase parser = Phase.parser();
        for (int i = 0; i < 300; i++) {
            Window full = parser.window(i, parser.cost(learner.best()));
            Window idle = new Window(i, OPTIONS.minOps() - 1, full.sampledOps(), full.sampledNanos(), 0, 0, 0,
                    full.committedBytes(), full.liveBytes(), full.sizeHistogram());
            assertEquals(Policy.defaults(), learner.onWindow(idle));
            assertNull(learner.check());
        }
        assertEquals(LearningState.LEARN, learner.state());
        assertTrue(learner.events().isEmpty());
        assertEquals("best", learner.choice());
    }

    @Test
    void theEventHistoryKeepsTheNewest() {
        LearnerOptions quick = OPTIONS.withLifecycle(2, 1, 2);
        Phase parser = Phase.parser();
        Run run = run(new Learner(quick, parser.bestPolicy(Policy.defaults()), LearningState.FROZEN, 7), 1000,
                i -> parser, 17);
        List<LearnerEvent> events = run.learner().events();
        assertEquals(Learner.MAX_EVENTS, events.size());
        assertEquals(999, events.getLast().window());
    }
}
