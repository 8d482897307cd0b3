package dev.hakmem.bench.runner;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;

import java.util.List;
import java.util.Locale;

/**
 * One configuration's run in {@code hakmem learn --compare} ({@link Compare}): its windows, which of them count,
 * and their medians.
 *
 * @param phase        the workload run
 * @param config       the configuration's name: the static policy's knobs off the default, or "learning"
 * @param policy       the policy in force at the end of the run (a static run's never changes)
 * @param windows      the run's windows, in order
 * @param firstCounted the first window that counts; the medians are over the windows from it
 * @param note         how the windows were counted, when it is not the static rule
 */
record ConfigRun(String phase, String config, Policy policy, List<Measured> windows, int firstCounted, String note) {

    /** A window, the learner's state when it began, and its cost. */
    record Measured(ExternalWindow window, LearningState state, double cost) {
    }

    /** A static policy's run: every window counts but the first, which holds the thread's start and first mappings. */
    static ConfigRun fixed(String phase, String config, Policy policy, List<Measured> windows) {
        return new ConfigRun(phase, config, policy, windows, Math.min(1, windows.size()), "");
    }

    /**
     * A learning run: the windows count from the first that began with the learner out of LEARN (FROZEN or
     * CANARY), or the last half if it never left LEARN.
     */
    static ConfigRun learning(String phase, String config, Policy atEnd, List<Measured> windows, long windowNanos) {
        int frozen = 0;
        while (frozen < windows.size() && windows.get(frozen).state() == LearningState.LEARN) {
            frozen++;
        }
        String inForce = "in force at the end: " + PolicyText.describe(atEnd);
        if (frozen < windows.size()) {
            return new ConfigRun(phase, config, atEnd, windows, frozen, String.format(Locale.ROOT,
                    "counted from %.1f s, when it had first frozen; %s", frozen * windowNanos / 1e9, inForce));
        }
        return new ConfigRun(phase, config, atEnd, windows, windows.size() / 2,
                "never left LEARN: the last half counted; " + inForce);
    }

    List<Measured> counted() {
        return windows.subList(firstCounted, windows.size());
    }

    /** The median cost of the counted windows (windows without operations left out); NaN if none. */
    double cost() {
        return Stats.median(counted().stream().map(Measured::cost).filter(c -> !Double.isNaN(c)).toList());
    }

    /** The median throughput of the counted windows, Mops/s. */
    double mops() {
        return Stats.median(counted().stream().map(m -> m.window().mops()).toList());
    }

    /** The most the heap had committed at a window's end, over the whole run. */
    long peakCommitted() {
        return windows.stream().mapToLong(m -> m.window().committedBytes()).max().orElse(0);
    }
}
