package dev.hakmem.ace;

import dev.hakmem.Policy;
import dev.hakmem.stats.SizeGrid;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A synthetic workload phase: what each policy costs in it, and the sizes it allocates. The cost is {@code base}
 * times 1.2 per step each knob is away from the phase's best candidate (and 1.2 without the phase's bridge class, if
 * it has one), so one step towards the best gains 17%, above the rails' 8% whatever the noise (at most 2% either
 * way). Windows carry 100 000 operations, 1000 timed mallocs whose sizes follow {@code sizes}, and no waste, so
 * that {@link Learner#cost} is the modelled cost.
 *
 * @param best   the index of the best candidate of each {@link Axis}, in axis order
 * @param bridge the bridge class that pays in this phase, or 0
 * @param sizes  the share of the mallocs by size, as (size, share) pairs
 */
record Phase(String name, double base, int[] best, int bridge, double[] sizes) {
    static final long OPS = 100_000;
    static final long SAMPLED = 1000;
    static final long COMMITTED = 64L << 20;

    /** Mostly small blocks and a peak at 37 KiB: W_MAX 1.125, big 1 MiB, retain 16 MiB, purge 1 s, a 38 KiB bridge. */
    static Phase parser() {
        return new Phase("parser", 200, new int[] {1, 4, 1, 3}, 38912, new double[] {100, 0.6, 37 << 10, 0.3,
            5000, 0.1});
    }

    /** Large blocks: W_MAX 1.5, big 256 KiB, retain 256 MiB, purge 5 s, no bridge. */
    static Phase vm() {
        return new Phase("vm", 200, new int[] {3, 2, 3, 4}, 0, new double[] {100, 0.2, 600 << 10, 0.4,
            1500 << 10, 0.4});
    }

    /** The same phase, every policy {@code factor} times as expensive (the machine got slower, say). */
    Phase slower(double factor) {
        return new Phase(name + " x" + factor, base * factor, best, bridge, sizes);
    }

    double cost(Policy p) {
        int steps = 0;
        for (Axis axis : Axis.values()) {
            steps += Math.abs(axis.indexOf(p) - best[axis.ordinal()]);
        }
        boolean bridged = bridge == 0 || Arrays.stream(p.bridgeClasses()).anyMatch(c -> c == bridge);
        return base * Math.pow(1.2, steps + (bridged ? 0 : 1));
    }

    /** The window {@code index} run under {@code p}, with its noise drawn from {@code noise}. */
    Window window(long index, Policy p, SplittableRandom noise) {
        return window(index, cost(p) * (1 + 0.02 * (2 * noise.nextDouble() - 1)));
    }

    Window window(long index, double nanosPerOp) {
        long[] histogram = new long[SizeGrid.BUCKETS];
        for (int i = 0; i < sizes.length; i += 2) {
            histogram[SizeGrid.bucketOf((long) sizes[i])] += Math.round(SAMPLED * sizes[i + 1]);
        }
        return new Window(index, OPS, SAMPLED, Math.round(nanosPerOp * SAMPLED), 0, 0, 0, COMMITTED, COMMITTED,
                histogram);
    }

    /** The phase's best policy, from {@code start}'s site rules. */
    Policy bestPolicy(Policy start) {
        Policy p = start;
        for (Axis axis : Axis.values()) {
            p = axis.with(p, best[axis.ordinal()]);
        }
        return bridge == 0 ? p : p.toBuilder().bridgeClasses(bridge).build();
    }

    @Override
    public String toString() {
        return name;
    }
}
