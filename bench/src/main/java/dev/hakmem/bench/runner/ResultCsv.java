package dev.hakmem.bench.runner;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The results as CSV (RFC 4180), one row per trial. RSS values are in bytes and empty where unknown; the
 * repetitions' Mops/s are in one field, separated by semicolons. With several rounds ({@link Rounds}) there are two
 * files: one row per cell ({@link #HEADER_ROUNDS}: the rounds' medians in place of the repetitions, RSS medians over
 * the rounds and the paired ratios to hakmem), and every child's own row with its round in front
 * ({@link #formatRuns}).
 */
final class ResultCsv {
    static final String HEADER = "workload,allocator,threads,status,mops_median,mops_reps,ratio_to_hakmem,"
            + "baseline_rss_bytes,peak_rss_bytes,peak_rss_growth_bytes,rss_after_free_bytes,rss_after_close_bytes,"
            + "after_free_vs_start,after_close_vs_start,message";

    static final String HEADER_ROUNDS = HEADER.replace("mops_reps", "mops_rounds")
            + ",rounds,paired_ratio_median,paired_ratio_min,paired_ratio_max";

    private ResultCsv() {
    }

    static String format(List<TrialResult> results) {
        StringBuilder csv = new StringBuilder(HEADER).append("\r\n");
        results.forEach(r -> csv.append(row(r, results)).append("\r\n"));
        return csv.toString();
    }

    /** One row per cell of several rounds: {@code summaries} are the cells' {@link Rounds.Cell#summary()}. */
    static String formatCells(List<TrialResult> summaries, Map<Trial, Rounds.Paired> paired, int rounds) {
        StringBuilder csv = new StringBuilder(HEADER_ROUNDS).append("\r\n");
        for (TrialResult r : summaries) {
            Rounds.Paired p = paired.get(r.trial());
            csv.append(row(r, summaries)).append(',').append(rounds).append(',')
                    .append(p == null ? ",," : String.join(",", number(p.median()), number(p.min()), number(p.max())))
                    .append("\r\n");
        }
        return csv.toString();
    }

    /** Every child's row, its round (from 1) in front; the ratio to hakmem is to hakmem's run in the same round. */
    static String formatRuns(List<Rounds.Cell> cells) {
        StringBuilder csv = new StringBuilder("round,").append(HEADER).append("\r\n");
        int rounds = cells.isEmpty() ? 0 : cells.getFirst().rounds().size();
        for (int round = 0; round < rounds; round++) {
            int r = round;
            List<TrialResult> inRound = cells.stream().map(c -> c.rounds().get(r)).toList();
            inRound.forEach(result -> csv.append(r + 1).append(',').append(row(result, inRound)).append("\r\n"));
        }
        return csv.toString();
    }

    /** The fields of {@link #HEADER} for {@code r}, its ratio to hakmem's result among {@code peers}. */
    private static String row(TrialResult r, List<TrialResult> peers) {
        return String.join(",",
                field(r.trial().workload()), field(r.trial().allocator()), Integer.toString(r.trial().threads()),
                r.status().name().toLowerCase(Locale.ROOT),
                number(r.medianMops()),
                r.mops().stream().map(ResultCsv::number).collect(Collectors.joining(";")),
                number(Targets.throughputRatio(r, peers)),
                bytes(r.baselineRss()), bytes(r.peakRss()), bytes(r.peakGrowth()), bytes(r.afterFreeRss()),
                bytes(r.afterCloseRss()), number(r.afterFreeRatio()), number(r.afterCloseRatio()),
                field(r.message()));
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
