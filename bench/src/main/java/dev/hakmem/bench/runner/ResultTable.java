package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Workloads;

import java.util.List;
import java.util.Locale;

/** The results as text: per workload, a row per allocator and thread count, then the targets it can check. */
final class ResultTable {
    private static final double MiB = 1 << 20;
    private static final String HEADER = String.format(Locale.ROOT, "  %-22s %7s %9s %6s %8s %9s %11s %10s %11s",
            "allocator", "threads", "Mops/s", "+-", "/hakmem", "peak MiB", "growth MiB", "free/start",
            "close/start");

    private ResultTable() {
    }

    /** Workloads in the order given, each with its rows in the order of {@code results}. */
    static String format(List<String> workloads, List<Integer> threadCounts, List<TrialResult> results) {
        StringBuilder text = new StringBuilder();
        for (String workload : workloads) {
            text.append(workload).append(": ").append(Workloads.named(workload).description()).append('\n');
            text.append(HEADER).append('\n');
            for (int threads : threadCounts) {
                List<TrialResult> rows = results.stream().filter(r -> r.trial().workload().equals(workload)
                        && r.trial().threads() == threads).toList();
                rows.forEach(row -> text.append(row(row, Targets.throughputRatio(row, rows))).append('\n'));
                Targets.check(rows).forEach(line -> text.append("  t=").append(threads).append(' ').append(line)
                        .append('\n'));
            }
            text.append('\n');
        }
        return text.toString();
    }

    /** One allocator's row; {@code ratio} is its throughput over hakmem's. */
    static String row(TrialResult r, double ratio) {
        String head = String.format(Locale.ROOT, "  %-22s %7d", r.trial().allocator(), r.trial().threads());
        if (!r.ok()) {
            return head + "  " + r.status().name().toLowerCase(Locale.ROOT) + ": " + r.message();
        }
        return head + String.format(Locale.ROOT, " %9s %5.0f%% %8s %9s %11s %10s %11s", mops(r.medianMops()),
                100 * Stats.spread(r.mops()), fixed(ratio, "%.2fx"), mib(r.peakRss()), mib(r.peakGrowth()),
                fixed(r.afterFreeRatio(), "%.2f"), fixed(r.afterCloseRatio(), "%.2f"));
    }

    /** Three significant digits: guard mode on 2 MiB blocks and tiny_hot differ by five orders of magnitude. */
    static String mops(double value) {
        if (Double.isNaN(value)) {
            return "-";
        }
        int decimals = value <= 0 ? 2 : Math.max(0, 2 - (int) Math.floor(Math.log10(value)));
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.1f", bytes / MiB);
    }

    private static String fixed(double value, String format) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, format, value);
    }
}
