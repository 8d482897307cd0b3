package dev.hakmem.bench.runner;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What one child JVM measured for one (workload, allocator, threads): Mops/s per repetition and the process's
 * resident set size in bytes at four points (see {@link TrialMain}). RSS values are -1 where they are unknown.
 */
record TrialResult(Trial trial, Status status, String message, List<Double> mops,
                   long baselineRss, long peakRss, long afterFreeRss, long afterCloseRss) {

    enum Status { OK, SKIPPED, FAILED }

    /** The child's result line starts with this; everything else it prints is diagnostics. */
    static final String RESULT = "RESULT ";
    /** The child's line when the allocator cannot run the workload here. */
    static final String SKIPPED = "SKIPPED ";

    TrialResult {
        mops = List.copyOf(mops);
    }

    static TrialResult skipped(Trial trial, String message) {
        return new TrialResult(trial, Status.SKIPPED, message, List.of(), -1, -1, -1, -1);
    }

    static TrialResult failed(Trial trial, String message) {
        return new TrialResult(trial, Status.FAILED, message, List.of(), -1, -1, -1, -1);
    }

    /**
     * The child's line: {@code RESULT mops=1.5,1.6 baseline_rss=... peak_rss=...} for a finished trial,
     * {@code SKIPPED <why>} for a skipped one.
     */
    String toLine() {
        if (status == Status.SKIPPED) {
            return SKIPPED + message;
        }
        return RESULT + "mops=" + String.join(",", mops.stream().map(String::valueOf).toList())
                + " baseline_rss=" + baselineRss + " peak_rss=" + peakRss
                + " after_free_rss=" + afterFreeRss + " after_close_rss=" + afterCloseRss;
    }

    /** Reads a line that {@link #toLine()} or a {@link #SKIPPED} line wrote. */
    static TrialResult parse(Trial trial, String line) {
        if (line.startsWith(SKIPPED)) {
            return skipped(trial, line.substring(SKIPPED.length()));
        }
        if (!line.startsWith(RESULT)) {
            throw new IllegalArgumentException("not a result line: " + line);
        }
        Map<String, String> fields = new HashMap<>();
        for (String field : line.substring(RESULT.length()).trim().split(" ")) {
            int equals = field.indexOf('=');
            fields.put(field.substring(0, equals), field.substring(equals + 1));
        }
        List<Double> mops = Arrays.stream(fields.get("mops").split(",")).map(Double::valueOf).toList();
        return new TrialResult(trial, Status.OK, "", mops, Long.parseLong(fields.get("baseline_rss")),
                Long.parseLong(fields.get("peak_rss")), Long.parseLong(fields.get("after_free_rss")),
                Long.parseLong(fields.get("after_close_rss")));
    }

    boolean ok() {
        return status == Status.OK;
    }

    double medianMops() {
        return Stats.median(mops);
    }

    /** Peak minus baseline: the memory the workload made resident at its worst; -1 if unknown. */
    long peakGrowth() {
        return peakRss < 0 || baselineRss < 0 ? -1 : peakRss - baselineRss;
    }

    /** RSS with every block freed but the allocator still open, over the baseline: 1.0 means all given back. */
    double afterFreeRatio() {
        return ratio(afterFreeRss);
    }

    /** RSS after the allocator was closed too, over the baseline. */
    double afterCloseRatio() {
        return ratio(afterCloseRss);
    }

    private double ratio(long rss) {
        return rss < 0 || baselineRss <= 0 ? Double.NaN : (double) rss / baselineRss;
    }
}
