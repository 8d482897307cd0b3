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
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The learner on random synthetic workloads ({@link World}: phases that price every candidate of every knob, with
 * noise, unscored windows and shifts), under random settings, from random (also off-ladder) policies, in every
 * starting state. {@link Rails} watches each window from the outside, recomputing the comparisons from the costs:
 * a policy run is the incumbent or one step from it, FROZEN runs the incumbent, a change is one step, follows
 * {@code hysteresis} consecutive comparisons won by {@code minImprovement} and comes after the cooldown, the
 * lifecycle moves only along its arrows, and {@link Learner#check} holds. Replaying the recorded windows into a
 * learner of the same seed gives the same decisions.
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
            Window w = world.window(index, running, noise);
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
     * Watches a learner from the outside, knowing only its settings, the windows and what it returned. The
     * comparisons are the learner's documented ones: a candidate window against the last scored incumbent window
     * since the previous candidate window.
     */
    static final class Rails {
        private final Learner learner;
        private final LearnerOptions options;
        private Policy ran;
        private Policy best;
        private LearningState state;
        private double reference = Double.NaN;
        /** The candidate whose consecutive wins {@link #streak} counts. */
        private Policy streakOf;
        private int streak;
        private long lastChange = Long.MIN_VALUE;
        int changes;
        boolean froze;
        boolean canaried;
        boolean relearned;

        Rails(Learner learner, LearnerOptions options) {
            this.learner = learner;
            this.options = options;
            this.ran = learner.best();
            this.best = learner.best();
            this.state = learner.state();
        }

        void after(Window w, Policy next) {
            double cost = options.scores(w) ? Learner.cost(w, options.memoryWeight()) : Double.NaN;
            if (ran.equals(best)) {
                if (!Double.isNaN(cost)) {
                    reference = cost;
                }
            } else {
                require(Learner.step(best, ran) != null, w, "ran " + ran + ", not one step from " + best);
                require(state != LearningState.FROZEN, w, "FROZEN ran a candidate");
                if (!Double.isNaN(cost) && !Double.isNaN(reference)) {
                    if (!ran.equals(streakOf)) {
                        streakOf = ran;
                        streak = 0;
                    }
                    streak = cost <= (1 - options.minImprovement()) * reference ? streak + 1 : 0;
                }
                reference = Double.NaN;
            }
            Policy now = learner.best();
            if (!now.equals(best)) {
                require(Learner.step(best, now) != null, w, "changed from " + best + " to " + now + ": not one step");
                require(now.equals(ran), w, "changed to " + now + ", not to the candidate that ran: " + ran);
                require(now.equals(streakOf) && streak >= options.hysteresis(), w, "changed after "
                        + (now.equals(streakOf) ? streak : 0) + " consecutive wins, not " + options.hysteresis());
                require(lastChange == Long.MIN_VALUE || w.index() - lastChange > options.cooldown(), w,
                        "changed at " + w.index() + ", the last change was at " + lastChange + ", cooldown "
                                + options.cooldown());
                lastChange = w.index();
                streakOf = null;
                streak = 0;
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
            ran = next;
            best = now;
            state = s;
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

        Window window(long index, Policy p, SplittableRandom r) {
            int at = 0;
            while (at + 1 < phases.length && index >= startsAt[at + 1]) {
                at++;
            }
            Phase phase = phases[at];
            long sampled = 1000;
            double nanos = phase.cost(p) * (1 + noise * (2 * r.nextDouble() - 1)) * sampled;
            long ops = r.nextDouble() < unscored ? minOps - 1 : minOps + 100_000;
            return new Window(index, Math.max(0, ops), sampled, Math.round(nanos), -1, 0, 0, 1L << 26, 1L << 26,
                    phase.sizes());
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
