package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Workloads;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The results as text: per workload, a row per allocator and thread count, then the targets it can check. With
 * several rounds ({@link Rounds}) the ratio to hakmem is the median of the per-round ratios, with their range beside it.
 */
final class ResultTable {
    private static final double MiB = 1 << 20;
    private static final String HEADER = String.format(Locale.ROOT, "  %-22s %7s %9s %6s %8s %9s %11s %10s %11s",
            "allocator", "threads", "Mops/s", "+-", "/hakmem", "peak MiB", "growth MiB", "free/start",
            "close/start");
    private static final String PAIRED_HEADER = String.format(Locale.ROOT, " %11s", "paired range");

    private ResultTable() {
    }

    /** Workloads in the order given, each with its rows in the order of {@code results}. */
    static String format(List<String> workloads, List<Integer> threadCounts, List<TrialResult> results) {
        return format(workloads, threadCounts, results, Map.of());
    }

    /**
     * As {@link #format(List, List, List)}, with the paired ratios to hakmem of several rounds: empty for one round,
     * which leaves the table as it was.
     */
    static String format(List<String> workloads, List<Integer> threadCounts, List<TrialResult> results,
                         Map<Trial, Rounds.Paired> paired) {
        StringBuilder text = new StringBuilder();
        for (String workload : workloads) {
            text.append(workload).append(": ").append(Workloads.named(workload).description()).append('\n');
            text.append(HEADER).append(paired.isEmpty() ? "" : PAIRED_HEADER).append('\n');
            for (int threads : threadCounts) {
                List<TrialResult> rows = results.stream().filter(r -> r.trial().workload().equals(workload)
                        && r.trial().threads() == threads).toList();
                rows.forEach(row -> text.append(paired.isEmpty() ? row(row, Targets.throughputRatio(row, rows))
                        : pairedRow(row, paired.get(row.trial()))).append('\n'));
                Map<String, Rounds.Paired> byAllocator = rows.stream().filter(r -> paired.containsKey(r.trial()))
                        .collect(Collectors.toMap(r -> r.trial().allocator(), r -> paired.get(r.trial())));
                Targets.check(rows, byAllocator).forEach(line -> text.append("  t=").append(threads).append(' ')
                        .append(line).append('\n'));
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

    /**
     * A row of several rounds: the ratio is the median of the paired per-round ratios ({@code null}: none, as for a
     * failed cell), followed by the smallest and largest of them.
     */
    static String pairedRow(TrialResult r, Rounds.Paired paired) {
        if (paired == null) {
            return row(r, Double.NaN) + (r.ok() ? String.format(Locale.ROOT, " %11s", "-") : "");
        }
        return row(r, paired.median()) + String.format(Locale.ROOT, " %11s",
                String.format(Locale.ROOT, "%.2f-%.2f", paired.min(), paired.max()));
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
