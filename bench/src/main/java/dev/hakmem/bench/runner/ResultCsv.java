package dev.hakmem.bench.runner;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The results as CSV (RFC 4180), one row per trial. RSS values are in bytes and empty where unknown; the
 * repetitions' Mops/s are in one field, separated by semicolons.
 */
final class ResultCsv {
    static final String HEADER = "workload,allocator,threads,status,mops_median,mops_reps,ratio_to_hakmem,"
            + "baseline_rss_bytes,peak_rss_bytes,peak_rss_growth_bytes,rss_after_free_bytes,rss_after_close_bytes,"
            + "after_free_vs_start,after_close_vs_start,message";

    private ResultCsv() {
    }

    static String format(List<TrialResult> results) {
        StringBuilder csv = new StringBuilder(HEADER).append("\r\n");
        for (TrialResult r : results) {
            csv.append(String.join(",",
                    field(r.trial().workload()), field(r.trial().allocator()), Integer.toString(r.trial().threads()),
                    r.status().name().toLowerCase(Locale.ROOT),
                    number(r.medianMops()),
                    r.mops().stream().map(ResultCsv::number).collect(Collectors.joining(";")),
                    number(Targets.throughputRatio(r, results)),
                    bytes(r.baselineRss()), bytes(r.peakRss()), bytes(r.peakGrowth()), bytes(r.afterFreeRss()),
                    bytes(r.afterCloseRss()), number(r.afterFreeRatio()), number(r.afterCloseRatio()),
                    field(r.message()))).append("\r\n");
        }
        return csv.toString();
    }

    /** Quoted when it holds a comma, a quote or a line break; quotes doubled. */
    static String field(String value) {
        if (value.chars().noneMatch(c -> c == ',' || c == '"' || c == '\n' || c == '\r')) {
            return value;
        }
        return '"' + value.replace("\"", "\"\"") + '"';
    }

    static String number(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.4f", value);
    }

    private static String bytes(long value) {
        return value < 0 ? "" : Long.toString(value);
    }
}
