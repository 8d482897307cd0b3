package dev.hakmem.fuzz;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.ace.Axis;
import dev.hakmem.ace.Learner;
import dev.hakmem.ace.LearnerEvent;
import dev.hakmem.ace.LearnerOptions;
import dev.hakmem.ace.Window;
import dev.hakmem.stats.SizeGrid;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The learner on random synthetic workloads ({@link World}: phases that price every candidate of every knob, with
 * noise, unscored windows and shifts), under random settings, from random (also off-ladder) policies, in every starting
 * state. {@link Rails} watches each window from the outside, recomputing the comparisons from the costs: a policy run
 * is the incumbent or one step from it, FROZEN runs the incumbent, a change is one step, is made only when some of the
 * candidate's last {@link LearnerOptions#trialPairs()} paired comparisons pass the sign test (at most {@code hysteresis
 * - 1} of the trial not cheaper) and their median is won by {@code minImprovement}, and comes after the cooldown, the
 * lifecycle moves only along its arrows, the learner times every LEARN window, no FROZEN one, and in CANARY at most 2
 * windows a runner-up slot, the runner-up's only after a timed one (an untimed window's samples carry no time here, as
 * a resting heap's), and {@link Learner#check} holds. Replaying the recorded windows into a learner of the same seed
 * gives the same decisions. The decision rule alone, on two-armed worlds with bounded noise and up to {@code hysteresis
 * - 1} outlier pairs: a better candidate is adopted in its first turn ({@link #aBetterCandidateWinsDespiteOutliers}), a
 * candidate that is no better never is ({@link #aCandidateNoBetterNeverWinsDespiteOutliers}).
 */
@AddLifecycleHook(FuzzScale.class)
class LearnerProperties {
    private static final int WINDOWS = 400;

    @Property(tries = 150)
    void theRailsHoldAndTheRunReplays(@ForAll("options") LearnerOptions options, @ForAll("starts") Policy start,
                                      @ForAll LearningState startState, @ForAll long seed, @ForAll long worldSeed) {
        World world = World.random(new SplittableRandom(worldSeed), options);
        Learner learner = new Learner(options, start, startState, seed);
        Rails rails = new Rails(learner, options);
        List<Window> windows = new ArrayList<>();
        List<Policy> policies = new ArrayList<>();
        SplittableRandom noise = new SplittableRandom(worldSeed ^ 0x5DEECE66DL);
        Policy running = start;
        long index = 0;
        for (int i = 0; i < WINDOWS; i++) {
            Window w = world.window(index, running, learner.timed(), noise);
            windows.add(w);
            running = learner.onWindow(w);
            policies.add(running);
            rails.after(w, running);
            index += noise.nextInt(8) == 0 ? 2 : 1;
        }
        Statistics.label("changes").collect(rails.changes == 0 ? "0" : rails.changes < 4 ? "1-3" : "4+");
        Statistics.label("lifecycle").collect(rails.relearned ? "relearned" : rails.canaried ? "canary"
                : rails.froze ? "froze" : "learned only");

        Learner replay = new Learner(options, start, startState, seed);
        for (int i = 0; i < windows.size(); i++) {
            if (!replay.onWindow(windows.get(i)).equals(policies.get(i))) {
                throw new AssertionError("the replay decided differently at window " + windows.get(i).index());
            }
        }
        if (!replay.events().equals(learner.events())) {
            throw new AssertionError("the replay's events differ:\n" + replay.events() + "\n" + learner.events());
        }
    }

    /**
     * A world of one better step: W_MAX moved to {@code better}'s value costs {@code ratio} of any other policy, with
     * every window's cost off by at most {@code noise} either way, below what a pair could win by honestly
     * ({@code (1 - noise) / (1 + noise) > 1 - minImprovement}), and the ratio low enough that its pairs are won
     * honestly. Up to {@code hysteresis - 1} of the first {@link LearnerOptions#trialPairs()} windows that run the
     * better step are outliers, their cost multiplied by up to 10. The better step is adopted within its first
     * {@code trialPairs} pairs, and nothing else ever is.
     */
    @Property(tries = 200)
    void aBetterCandidateWinsDespiteOutliers(@ForAll("rails") LearnerOptions options, @ForAll boolean down,
                                             @ForAll @DoubleRange(max = 0.99) double noiseShare,
                                             @ForAll @DoubleRange(min = 0.3, max = 0.99) double margin,
                                             @ForAll long seed) {
        int h = options.hysteresis();
        double noise = noiseShare * honestNoise(options);
        double ratio = (1 - options.minImprovement()) * (1 - noise) / (1 + noise) * margin;
        Policy start = Policy.defaults();
        Policy better = Axis.W_MAX.with(start, Axis.W_MAX.indexOf(start) + (down ? -1 : 1));
        SplittableRandom r = new SplittableRandom(seed);
        long outliers = outlierSlots(r, h, options.trialPairs());
        Learner learner = new Learner(options, start, LearningState.LEARN, seed);
        Rails rails = new Rails(learner, options);
        Policy running = start;
        int betterRuns = 0;
        for (int i = 0; i < 4000 && learner.best().equals(start); i++) {
            boolean isBetter = running.wMax() == better.wMax();
            double cost = 100 * (isBetter ? ratio : 1) * (1 + noise * (2 * r.nextDouble() - 1));
            if (isBetter && betterRuns < 64 && (outliers & 1L << betterRuns) != 0) {
                cost *= 1 + 9 * r.nextDouble();
            }
            betterRuns += isBetter ? 1 : 0;
            Window w = modelled(i, cost);
            running = learner.onWindow(w);
            rails.after(w, running);
        }
        if (!learner.best().equals(better) || betterRuns > options.trialPairs()) {
            throw new AssertionError("not adopted in its first turn: " + betterRuns + " windows of " + better
                    + ", best now " + learner.best() + "\n" + learner.events());
        }
        for (int i = 0; i < 400; i++) {
            Window w = modelled(4000 + i, 100 * (running.wMax() == better.wMax() ? ratio : 1)
                    * (1 + noise * (2 * r.nextDouble() - 1)));
            running = learner.onWindow(w);
            rails.after(w, running);
        }
        if (rails.changes != 1 || !learner.best().equals(better)) {
            throw new AssertionError(rails.changes + " changes, best " + learner.best() + "\n" + learner.events());
        }
    }

    /**
     * A world where {@code start} is the best policy and every other policy costs {@code worse} times it (1: a
     * tie), with bounded noise below what a pair could win by honestly, and up to {@code hysteresis - 1} lucky
     * windows among the first 64 that run a candidate, their cost divided by up to 100. No candidate is ever
     * adopted, in LEARN or as CANARY's runner-up, whose pairs slide on across periods.
     */
    @Property(tries = 200)
    void aCandidateNoBetterNeverWinsDespiteOutliers(@ForAll("rails") LearnerOptions options,
                                                    @ForAll("starts") Policy start,
                                                    @ForAll @DoubleRange(max = 0.99) double noiseShare,
                                                    @ForAll @DoubleRange(max = 1) double worse, @ForAll long seed) {
        double noise = noiseShare * honestNoise(options);
        SplittableRandom r = new SplittableRandom(seed);
        long lucky = outlierSlots(r, options.hysteresis(), 64);
        Learner learner = new Learner(options.withLifecycle(20, 30, 40), start, LearningState.LEARN, seed);
        Rails rails = new Rails(learner, options.withLifecycle(20, 30, 40));
        Policy running = start;
        int candidateRuns = 0;
        for (int i = 0; i < 1500; i++) {
            boolean candidate = !running.equals(start);
            double cost = 100 * (candidate ? 1 + worse : 1) * (1 + noise * (2 * r.nextDouble() - 1));
            if (candidate && candidateRuns < 64 && (lucky & 1L << candidateRuns) != 0) {
                cost /= 1 + 99 * r.nextDouble();
            }
            candidateRuns += candidate ? 1 : 0;
            Window w = modelled(i, cost);
            running = learner.onWindow(w);
            rails.after(w, running);
        }
        if (rails.changes != 0 || !learner.best().equals(start)) {
            throw new AssertionError("a candidate no better was adopted:\n" + learner.events());
        }
        Statistics.label("canary").collect(rails.canaried ? "reached CANARY" : "stayed in LEARN/FROZEN");
    }

    /** Noise at which a pair of windows of equal cost can never be won: {@code (1 - e) / (1 + e) > 1 - m}. */
    private static double honestNoise(LearnerOptions options) {
        double m = options.minImprovement();
        return m / (2 - m);
    }

    /** A set of at most {@code h - 1} of the slots [0, n), as bits. */
    private static long outlierSlots(SplittableRandom r, int h, int n) {
        long slots = 0;
        for (int k = r.nextInt(h); k > 0; k--) {
            slots |= 1L << r.nextInt(n);
        }
        return slots;
    }

    /** A scored window whose cost is exactly {@code nanosPerOp}: no faults, calls or waste, no sizes. */
    private static Window modelled(long index, double nanosPerOp) {
        long sampled = 1000;
        return new Window(index, 101_000, sampled, Math.round(nanosPerOp * sampled), -1, 0, 0, 1L << 26, 1L << 26,
                new long[SizeGrid.BUCKETS]);
    }

    /** Random rails (no cooldown for the better candidate's world, which starts with none) and defaults else. */
    @Provide
    Arbitrary<LearnerOptions> rails() {
        return Combinators.combine(Arbitraries.doubles().between(0.02, 0.25), Arbitraries.integers().between(1, 5),
                Arbitraries.integers().between(0, 12)).as((m, h, c) -> LearnerOptions.defaults().withRails(m, h, c)
                .withLifecycle(100_000, 60, 60));
    }

    /**
     * Watches a learner from the outside, knowing only its settings, the windows and what it returned. The
     * comparisons are the learner's documented ones: a candidate window paired with the last scored incumbent window
     * since the previous candidate window that ran the same policy as the window before it (not a washout); a pair
     * is cheaper when the candidate's cost is below the reference's, won when at most {@code 1 - minImprovement} of
     * it. The pairs of the candidate that ran last are kept from its first run after another candidate (or a change):
     * the learner's own pairs are the newest of them, at most {@code trialPairs} (a turn ended and the same candidate
     * proposed again starts afresh there), so a change must be justified by some newest {@code k <= trialPairs} kept
     * here: at least {@code trialPairs - hysteresis + 1} of them cheaper, more than half of them won.
     */
    /** A paired comparison: the candidate window cost less than its reference, and by {@code minImprovement}. */
    record Pair(boolean cheaper, boolean won) {
    }

    static final class Rails {
        private final Learner learner;
        private final LearnerOptions options;
        private Policy ran;
        /** What the window before {@link #ran}'s ran. */
        private Policy ranBefore;
        private Policy best;
        private LearningState state;
        /** Whether the learner said it times the window that runs {@link #ran}; whether it timed the one before. */
        private boolean timed;
        private boolean timedBefore;
        /** The timed windows of the current CANARY period. */
        private int canaryTimed;
        private double reference = Double.NaN;
        /** The candidate whose paired comparisons {@link #pairs} holds, oldest first. */
        private Policy pairsOf;
        private final List<Pair> pairs = new ArrayList<>();
        private long lastChange = Long.MIN_VALUE;
        int changes;
        boolean froze;
        boolean canaried;
        boolean relearned;

        Rails(Learner learner, LearnerOptions options) {
            this.learner = learner;
            this.options = options;
            this.ran = learner.best();
            this.ranBefore = ran;
            this.best = learner.best();
            this.state = learner.state();
            this.timed = learner.timed();
        }

        void after(Window w, Policy next) {
            double cost = timed && options.scores(w) ? Learner.cost(w, options.memoryWeight()) : Double.NaN;
            require(timed == (state == LearningState.LEARN) || state == LearningState.CANARY, w,
                    state + (timed ? " timed" : " did not time") + " a window");
            if (state == LearningState.CANARY) {
                // CANARY's learning cost: its runner-up's windows and their references, at most 2 a slot.
                canaryTimed += timed ? 1 : 0;
                int slots = (int) Math.floor(options.canaryWindows() * options.canaryShare());
                require(canaryTimed <= 2 * slots, w, "CANARY timed " + canaryTimed + " windows of a period of "
                        + slots + " runner-up slots");
                require(ran.equals(best) || timed && timedBefore, w, "CANARY ran its runner-up in a window "
                        + (timed ? "after one not timed" : "not timed"));
            }
            if (ran.equals(best)) {
                if (!Double.isNaN(cost) && ran.equals(ranBefore)) {
                    reference = cost;
                }
            } else {
                require(Learner.step(best, ran) != null, w, "ran " + ran + ", not one step from " + best);
                require(state != LearningState.FROZEN, w, "FROZEN ran a candidate");
                if (!Double.isNaN(cost) && !Double.isNaN(reference)) {
                    if (!ran.equals(pairsOf)) {
                        pairsOf = ran;
                        pairs.clear();
                    }
                    pairs.add(new Pair(cost < reference, cost <= (1 - options.minImprovement()) * reference));
                }
                reference = Double.NaN;
            }
            Policy now = learner.best();
            if (!now.equals(best)) {
                require(Learner.step(best, now) != null, w, "changed from " + best + " to " + now + ": not one step");
                require(now.equals(ran), w, "changed to " + now + ", not to the candidate that ran: " + ran);
                require(now.equals(pairsOf) && justified(), w, "changed with no newest pairs of at most "
                        + options.trialPairs() + " passing the sign test and winning their median: " + pairs);
                require(lastChange == Long.MIN_VALUE || w.index() - lastChange > options.cooldown(), w,
                        "changed at " + w.index() + ", the last change was at " + lastChange + ", cooldown "
                                + options.cooldown());
                lastChange = w.index();
                pairsOf = null;
                pairs.clear();
                changes++;
            }
            LearningState s = learner.state();
            require(s == state || allowed(state, s), w, "moved from " + state + " to " + s);
            froze |= s == LearningState.FROZEN;
            canaried |= s == LearningState.CANARY;
            relearned |= state == LearningState.CANARY && s == LearningState.LEARN;
            require(s != LearningState.FROZEN || next.equals(now), w, "FROZEN returned " + next);
            require(next.equals(now) || Learner.step(now, next) != null, w, "returned " + next
                    + ", not one step from " + now);
            String problem = learner.check();
            require(problem == null, w, problem);
            List<LearnerEvent> events = learner.events();
            require(events.size() <= Learner.MAX_EVENTS, w, events.size() + " events kept");
            ranBefore = ran;
            ran = next;
            best = now;
            canaryTimed = s == state ? canaryTimed : 0;
            state = s;
            timedBefore = timed;
            timed = learner.timed();
        }

        /** Whether some newest {@code k <= trialPairs} pairs kept pass the sign test and win their median. */
        private boolean justified() {
            int n = options.trialPairs();
            for (int k = 1; k <= Math.min(n, pairs.size()); k++) {
                List<Pair> last = pairs.subList(pairs.size() - k, pairs.size());
                long cheaper = last.stream().filter(Pair::cheaper).count();
                long won = last.stream().filter(Pair::won).count();
                if (cheaper >= n - options.hysteresis() + 1 && 2 * won > k) {
                    return true;
                }
            }
            return false;
        }

        /** The arrows of the lifecycle (LEARN to LEARN on a runner-up's win in CANARY is CANARY to LEARN). */
        private static boolean allowed(LearningState from, LearningState to) {
            return switch (from) {
                case LEARN -> to == LearningState.FROZEN;
                case FROZEN -> to == LearningState.CANARY;
                case CANARY -> to == LearningState.FROZEN || to == LearningState.LEARN;
            };
        }

        private void require(boolean ok, Window w, String what) {
            if (!ok) {
                throw new AssertionError("window " + w.index() + ": " + what + "\n" + learner.events());
            }
        }
    }

    /**
     * Random phases, each pricing each knob's candidates (a factor in [1, 2] each, 1.3 for a value off the ladder),
     * rewarding one bridge class at a peak of its sizes, with a base cost, sizes, and noise; some windows are too
     * small to score.
     */
    record World(Phase[] phases, long[] startsAt, double noise, double unscored, long minOps) {
        record Phase(double base, double[][] factor, int bridge, double bridgeGain, long[] sizes) {
            double cost(Policy p) {
                double c = base;
                for (Axis axis : Axis.values()) {
                    int i = axis.indexOf(p);
                    c *= i < 0 ? 1.3 : factor[axis.ordinal()][i];
                }
                return Arrays.stream(p.bridgeClasses()).anyMatch(b -> b == bridge) ? c * (1 - bridgeGain) : c;
            }
        }

        static World random(SplittableRandom r, LearnerOptions options) {
            int n = 1 + r.nextInt(3);
            Phase[] phases = new Phase[n];
            long[] startsAt = new long[n];
            for (int p = 0; p < n; p++) {
                double[][] factor = new double[Axis.values().length][];
                for (Axis axis : Axis.values()) {
                    factor[axis.ordinal()] = r.doubles(axis.candidates(), 1, 2).toArray();
                }
                long[] sizes = new long[SizeGrid.BUCKETS];
                int peaks = 1 + r.nextInt(4);
                long peak = 0;
                for (int i = 0; i < peaks; i++) {
                    long size = (long) Math.exp(r.nextDouble(Math.log(16), Math.log(2 << 20)));
                    sizes[SizeGrid.bucketOf(size)] += 50 + r.nextInt(500);
                    peak = size > 1024 && size < (1 << 20) - (1 << 16) ? size : peak;
                }
                int bridge = peak == 0 ? 0 : (int) SizeGrid.high(SizeGrid.bucketOf(peak)) + 1;
                phases[p] = new Phase(50 + r.nextDouble(1000), factor, bridge, r.nextDouble(0.3), sizes);
                startsAt[p] = p == 0 ? 0 : startsAt[p - 1] + 50 + r.nextInt(WINDOWS);
            }
            return new World(phases, startsAt, r.nextDouble(0.25), r.nextDouble(0.3), options.minOps());
        }

        /** A window of {@code p}; untimed, its samples carry no time, as a heap's resting windows' do. */
        Window window(long index, Policy p, boolean timed, SplittableRandom r) {
            int at = 0;
            while (at + 1 < phases.length && index >= startsAt[at + 1]) {
                at++;
            }
            Phase phase = phases[at];
            long sampled = 1000;
            double nanos = phase.cost(p) * (1 + noise * (2 * r.nextDouble() - 1)) * sampled;
            long ops = r.nextDouble() < unscored ? minOps - 1 : minOps + 100_000;
            return new Window(index, Math.max(0, ops), sampled, timed ? Math.round(nanos) : 0, -1, 0, 0, 1L << 26,
                    1L << 26, phase.sizes());
        }
    }

    @Provide
    Arbitrary<LearnerOptions> options() {
        Arbitrary<double[]> signals = Combinators.combine(Arbitraries.doubles().between(0, 10),
                Arbitraries.doubles().between(0.2, 2), Arbitraries.doubles().between(1.2, 3),
                Arbitraries.doubles().between(0.05, 0.5)).as((w, d, f, s) -> new double[] {w, d, f, s});
        return Combinators.combine(signals, Arbitraries.doubles().between(0.02, 0.25),
                Arbitraries.integers().between(1, 4), Arbitraries.integers().between(0, 12),
                Arbitraries.integers().between(2, 40), Arbitraries.integers().between(1, 30),
                Arbitraries.integers().between(2, 30)).as((s, m, h, c, f, fw, cw) ->
                new LearnerOptions(s[0], 1000, 32, m, h, c, f, fw, cw, s[3], s[1], s[2]));
    }

    /** Policies on the ladders and off them, with up to two bridge classes. */
    @Provide
    Arbitrary<Policy> starts() {
        Arbitrary<Double> wMax = Arbitraries.oneOf(Arbitraries.of(1.0625, 1.125, 1.25, 1.5, 2.0),
                Arbitraries.doubles().between(1.0625, 2).ofScale(6));
        Arbitrary<Long> big = Arbitraries.of(64L << 10, 128L << 10, 256L << 10, 512L << 10, 1L << 20);
        Arbitrary<Long> retain = Arbitraries.oneOf(Arbitraries.of(0L, 16L << 20, 64L << 20, 256L << 20),
                Arbitraries.longs().between(0, Policy.MAX_RETAIN_BYTES));
        Arbitrary<Long> purge = Arbitraries.oneOf(Arbitraries.of(0L, 50L, 250L, 1000L, 5000L),
                Arbitraries.longs().between(0, Policy.MAX_PURGE_DELAY_MILLIS));
        Arbitrary<int[]> bridges = Arbitraries.of(3072, 38912, 40960, 106496, 786432).set().ofMaxSize(2)
                .map(s -> s.stream().mapToInt(Integer::intValue).toArray());
        return Combinators.combine(wMax, big, retain, purge, bridges).as((w, b, r, p, br) ->
                Policy.builder().wMax(w).bigThreshold(b).retainBytes(r).purgeDelayMillis(p).bridgeClasses(br)
                        .build());
    }
}
