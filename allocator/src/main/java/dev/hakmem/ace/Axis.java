package dev.hakmem.ace;

import dev.hakmem.Policy;

import java.util.function.ToDoubleFunction;

/**
 * A knob the learner tunes over a short ladder of candidate values, ascending. A step moves a knob to the next
 * candidate below or above its value; a value between two candidates (a policy loaded from a file or configured by
 * hand) steps to either of them. Bridge classes are not an axis: they are placed where the size distribution
 * asks for them ({@link Bridges}).
 *
 * <p>How each axis learns: W_MAX, the retain budget and the purge delay by {@link Ucb1} (a reward per step), the big
 * threshold by {@link Elo} (games between thresholds), the seed's "ELO over threshold strategies".
 */
public enum Axis {
    /** Internal waste against slab reuse (finer classes spread blocks over more partly used slabs). */
    W_MAX("wMax", false, Policy::wMax, Policy.Builder::wMax, 1.0625, 1.125, 1.25, 1.5, 2.0),
    /** Pool slabs against a mapping per block; the seed's thresholds (64 KiB .. 1 MiB, the pool's top). */
    BIG_THRESHOLD("bigThreshold", true, Policy::bigThreshold, (b, v) -> b.bigThreshold((long) v),
            64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20),
    /** Mapping calls against address space and RSS held for reuse. */
    RETAIN("retainBytes", false, Policy::retainBytes, (b, v) -> b.retainBytes((long) v),
            0, 16 << 20, 64 << 20, 256 << 20),
    /** Page faults (memory given back too early, touched again) against RSS (kept too long). */
    PURGE_DELAY("purgeDelayMillis", false, Policy::purgeDelayMillis, (b, v) -> b.purgeDelayMillis((long) v),
            0, 50, 250, 1000, 5000);

    /** Sets a knob on a builder. */
    private interface Setter {
        Policy.Builder set(Policy.Builder b, double v);
    }

    private final String knob;
    private final boolean rated;
    private final ToDoubleFunction<Policy> getter;
    private final Setter setter;
    private final double[] candidates;

    Axis(String knob, boolean rated, ToDoubleFunction<Policy> getter, Setter setter, double... candidates) {
        this.knob = knob;
        this.rated = rated;
        this.getter = getter;
        this.setter = setter;
        this.candidates = candidates;
    }

    double value(Policy p) {
        return getter.applyAsDouble(p);
    }

    /** The knob's name in {@link Policy} and its JSON. */
    public String knob() {
        return knob;
    }

    /** Learned by Elo ratings (true) or by UCB1 (false). */
    public boolean rated() {
        return rated;
    }

    public int candidates() {
        return candidates.length;
    }

    /** The candidate equal to the knob's value in {@code p}, or -1 when its value is between candidates. */
    public int indexOf(Policy p) {
        double v = value(p);
        for (int i = 0; i < candidates.length; i++) {
            if (candidates[i] == v) {
                return i;
            }
        }
        return -1;
    }

    /** The candidates one step from the knob's value in {@code p}, as a bit mask: the nearest below and above. */
    public long neighbours(Policy p) {
        double v = value(p);
        long mask = 0;
        for (int i = 0; i < candidates.length; i++) {
            if (candidates[i] < v && (i + 1 == candidates.length || candidates[i + 1] >= v)) {
                mask |= 1L << i;
            }
            if (candidates[i] > v && (i == 0 || candidates[i - 1] <= v)) {
                mask |= 1L << i;
            }
        }
        return mask;
    }

    /** {@code p} with this knob set to candidate {@code i}, every other knob unchanged. */
    public Policy with(Policy p, int i) {
        return setter.set(p.toBuilder(), candidates[i]).build();
    }

    /** The knob's value in {@code p} as it is written: W_MAX as a decimal, the others as integers. */
    public String format(Policy p) {
        double v = value(p);
        return this == W_MAX ? Double.toString(v) : Long.toString((long) v);
    }
}
