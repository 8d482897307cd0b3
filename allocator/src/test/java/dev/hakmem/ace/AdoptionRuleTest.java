package dev.hakmem.ace;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The adoption rule against noise ({@link Learner#verdict}): a sign test over the candidate's last
 * {@link LearnerOptions#trialPairs()} paired comparisons and their median won by {@code minImprovement}. Replays run
 * on a virtual clock (the window index), {@link Learner#check} after every window.
 */
class AdoptionRuleTest {
    private static final LearnerOptions OPTIONS = LearnerOptions.defaults();

    @Test
    void theTrialIsTheFewestPairsWhoseSignTestHoldsItsLevel() {
        assertEquals(106.0 / 16384, LearnerOptions.signTestTail(14, 12), 1e-15, "14 flips, at least 12 heads");
        assertEquals(1.0 / 128, LearnerOptions.signTestTail(7, 7), 1e-15);
        assertEquals(1.0, LearnerOptions.signTestTail(5, 0), 1e-15);
        for (int h = 1; h <= 16; h++) {
            LearnerOptions o = OPTIONS.withRails(0.08, h, 10);
            int n = o.trialPairs();
            assertTrue(LearnerOptions.signTestTail(n, n - h + 1) <= LearnerOptions.SIGN_TEST_LEVEL, "hysteresis " + h);
            assertTrue(n == h || LearnerOptions.signTestTail(n - 1, n - h) > LearnerOptions.SIGN_TEST_LEVEL,
                    "hysteresis " + h + ": " + (n - 1) + " pairs would do");
            assertTrue(n < Long.SIZE, "the pairs fit a long's bits");
        }
        assertEquals(14, OPTIONS.trialPairs());
    }

    /**
     * A candidate no better than the incumbent: each pair is cheaper with probability 1/2 and, when cheaper, won by
     * {@code minImprovement} with probability {@code wonShare} (how far the noise reaches). Whatever the noise, it
     * passes in at most {@link LearnerOptions#SIGN_TEST_LEVEL} of its turns (0.65% at the defaults): 20000 turns,
     * expected at most 130 passed, 200 is 6 standard deviations above.
     */
    @Test
    void aCandidateNoBetterPassesInAtMostTheTestsLevelOfItsTurns() {
        SplittableRandom r = new SplittableRandom(41);
        int n = OPTIONS.trialPairs();
        for (double wonShare : new double[] {0.2, 0.6, 1.0}) {
            int passed = 0;
            int turns = 20_000;
            for (int t = 0; t < turns; t++) {
                int pairs = 0;
                long cheaper = 0;
                long wonBy = 0;
                Learner.Verdict v = Learner.Verdict.OPEN;
                while (v == Learner.Verdict.OPEN) {
                    boolean c = r.nextBoolean();
                    cheaper = (cheaper << 1 | (c ? 1 : 0)) & ((1L << n) - 1);
                    wonBy = (wonBy << 1 | (c && r.nextDouble() < wonShare ? 1 : 0)) & ((1L << n) - 1);
                    pairs = Math.min(pairs + 1, n);
                    v = Learner.verdict(OPTIONS, pairs, cheaper, wonBy);
                }
                passed += v == Learner.Verdict.WON ? 1 : 0;
            }
            assertTrue(passed <= 200, passed + " of " + turns + " turns passed, won share " + wonShare);
        }
    }

    /**
     * Noise alone, on a recorded run of 3000 windows (a minute of 20 ms windows): every policy costs the same, each
     * window's cost is off by a log-normal factor (sigma 0.25: one window in three off by more than 25%) and one window
     * in ten is an outlier of up to 2x either way. The learner goes through LEARN, FROZEN and CANARY and adopts
     * nothing; the run replays.
     */
    @Test
    void noiseAloneAdoptsNothing() {
        SplittableRandom noise = new SplittableRandom(7);
        Recorded run = record(new Learner(OPTIONS, Policy.defaults(), LearningState.LEARN, 3), 3000, p -> 100,
                noise);
        List<LearnerEvent> changes = run.learner.events().stream()
                .filter(e -> e.kind() == LearnerEvent.Kind.CHANGE).toList();
        assertEquals(List.of(), changes);
        assertTrue(run.learner.events().stream().anyMatch(e -> e.to() == LearningState.CANARY),
                "the run reached CANARY: " + run.learner.events());
        run.assertReplays(Policy.defaults(), 3);
    }

    /**
     * One step of W_MAX (down) costs 20% less than every other policy, each window off by up to 10% either way: it is
     * adopted, and nothing before it, within two rounds of turns (UCB1 plays each of W_MAX's two neighbours once
     * before either again), each turn at most {@code trialPairs} pairs of three windows (I C W).
     */
    @Test
    void aRealTwentyPercentImprovementIsAdoptedWithinABound() {
        Policy start = Policy.defaults();
        Policy better = Axis.W_MAX.with(start, Axis.W_MAX.indexOf(start) - 1);
        SplittableRandom noise = new SplittableRandom(8);
        int bound = 2 * (Axis.values().length + 1) * 3 * OPTIONS.trialPairs();
        Learner learner = new Learner(OPTIONS, start, LearningState.LEARN, 4);
        Policy running = start;
        for (int i = 0; i < bound && learner.best().equals(start); i++) {
            double cost = 100 * (running.wMax() == better.wMax() ? 0.8 : 1) * (1 + 0.1 * (2 * noise.nextDouble() - 1));
            running = learner.onWindow(window(i, cost));
            assertNull(learner.check(), "window " + i);
        }
        assertEquals(better, learner.best(), "not adopted within " + bound + " windows: " + learner.events());
        LearnerEvent change = learner.events().getLast();
        assertTrue(change.kind() == LearnerEvent.Kind.CHANGE && change.reason().contains("cheaper in"),
                change.toString());
    }

    /**
     * The case of issue 10's json and mir phases (docs/PERFORMANCE.md, change 9): one step of W_MAX (down) costs 16%
     * less than the incumbent, every other step 10% more, and each window is off by a log-normal factor (sigma 0.2:
     * a pair's ratio off by 28%), so the better step is cheaper in about 3 pairs of 4 and loses many of its turns to
     * 3 pairs not cheaper. Over 100 recorded runs of 450 windows (9 s of 20 ms windows), it is adopted in at least 40
     * (47 when written; 64 when the retry held the freeze back without a bound). With the knobs' rotation alone it had
     * one turn in five and LEARN froze after 90 quiet windows: it was adopted in 19 of these runs. The runs replay.
     */
    @Test
    void aBetterStepThatLostTurnsToTheNoiseIsRetriedUntilAdopted() {
        Policy start = Policy.defaults();
        Policy better = Axis.W_MAX.with(start, Axis.W_MAX.indexOf(start) - 1);
        ToDoubleFunction<Policy> cost = p -> p.equals(better) ? 84 : p.equals(start) ? 100 : 110;
        int adopted = 0;
        for (int run = 0; run < 100; run++) {
            SplittableRandom noise = new SplittableRandom(1000 + run);
            Learner learner = new Learner(OPTIONS, start, LearningState.LEARN, run);
            List<Window> windows = new ArrayList<>();
            List<Policy> policies = new ArrayList<>();
            Policy running = start;
            for (int i = 0; i < 450; i++) {
                Window w = window(i, cost.applyAsDouble(running) * Math.exp(0.2 * gaussian(noise)));
                windows.add(w);
                running = learner.onWindow(w);
                policies.add(running);
                assertNull(learner.check(), "run " + run + ", window " + i);
            }
            adopted += learner.best().equals(better) ? 1 : 0;
            if (run % 10 == 0) {
                new Recorded(learner, windows, policies).assertReplays(start, run);
            }
        }
        assertTrue(adopted >= 40, "adopted in " + adopted + " runs of 100");
    }

    private record Recorded(Learner learner, List<Window> windows, List<Policy> policies) {
        void assertReplays(Policy start, long seed) {
            Learner replay = new Learner(OPTIONS, start, LearningState.LEARN, seed);
            for (int i = 0; i < windows.size(); i++) {
                assertEquals(policies.get(i), replay.onWindow(windows.get(i)), "window " + i);
            }
            assertEquals(learner.events(), replay.events());
        }
    }

    /** {@code n} windows, each costing {@code cost} of the policy it ran times the noise described above. */
    private static Recorded record(Learner learner, int n, ToDoubleFunction<Policy> cost, SplittableRandom noise) {
        List<Window> windows = new ArrayList<>();
        List<Policy> policies = new ArrayList<>();
        Policy running = learner.best();
        for (int i = 0; i < n; i++) {
            double factor = Math.exp(0.25 * gaussian(noise));
            if (noise.nextInt(10) == 0) {
                factor *= Math.pow(2, 2 * noise.nextDouble() - 1);
            }
            Window w = window(i, cost.applyAsDouble(running) * factor);
            windows.add(w);
            running = learner.onWindow(w);
            policies.add(running);
            assertNull(learner.check(), "window " + i);
        }
        return new Recorded(learner, windows, policies);
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** A scored window whose cost is {@code nanosPerOp}, with sizes for a signature and no waste. */
    private static Window window(long index, double nanosPerOp) {
        long sampled = 1000;
        long[] sizes = new long[SizeGrid.BUCKETS];
        sizes[SizeGrid.bucketOf(100)] = sampled;
        return new Window(index, 100_000, sampled, Math.round(nanosPerOp * sampled), 0, 0, 0, 64L << 20, 64L << 20,
                sizes);
    }
}
