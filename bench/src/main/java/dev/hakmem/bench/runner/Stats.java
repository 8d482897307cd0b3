package dev.hakmem.bench.runner;

import java.util.Collection;

/** The summaries the runner reports: medians, because one noisy repetition must not move the result. */
final class Stats {
    private Stats() {
    }

    /** The middle value, or the mean of the two middle values; NaN for no values. */
    static double median(Collection<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int middle = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /** (max - min) / median: how far apart the repetitions were; 0 for fewer than two. */
    static double spread(Collection<Double> values) {
        if (values.size() < 2) {
            return 0;
        }
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        double max = values.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return (max - min) / median(values);
    }
}
