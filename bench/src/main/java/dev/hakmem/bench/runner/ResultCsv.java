package dev.hakmem.bench.runner;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
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

    /**
     * Reads back what {@link #format} or {@link #formatCells} wrote: one result per row, its Mops/s samples from
     * {@code mops_reps} or {@code mops_rounds}, unknown RSS values as -1. The figures are as exact as the file's four
     * decimals; the ratio columns are left out, being derived from the rest.
     *
     * @throws IllegalArgumentException naming the row, if a row is malformed or the file is not a results CSV (a
     *                                  {@code -rounds.csv} of every JVM is not: its cells repeat once per round)
     */
    static List<TrialResult> parse(String csv) {
        List<List<String>> rows = records(csv);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("empty file: not a results CSV");
        }
        List<String> header = rows.getFirst();
        if (header.contains("round")) {
            throw new IllegalArgumentException("a CSV of every JVM of several rounds: give the cells' CSV, the one"
                    + " without -rounds in its name");
        }
        String mopsColumn = header.contains("mops_rounds") ? "mops_rounds" : "mops_reps";
        for (String column : List.of("workload", "allocator", "threads", "status", mopsColumn, "baseline_rss_bytes",
                "peak_rss_bytes", "rss_after_free_bytes", "rss_after_close_bytes", "message")) {
            if (!header.contains(column)) {
                throw new IllegalArgumentException("not a results CSV: no column '" + column + "' in " + header);
            }
        }
        List<TrialResult> results = new ArrayList<>();
        for (int i = 1; i < rows.size(); i++) {
            List<String> row = rows.get(i);
            if (row.size() != header.size()) {
                throw new IllegalArgumentException("row " + (i + 1) + " has " + row.size() + " fields, the header "
                        + header.size());
            }
            Function<String, String> at = column -> row.get(header.indexOf(column));
            try {
                Trial trial = new Trial(at.apply("workload"), at.apply("allocator"),
                        Integer.parseInt(at.apply("threads")));
                String mops = at.apply(mopsColumn);
                results.add(new TrialResult(trial, TrialResult.Status.valueOf(at.apply("status").toUpperCase(Locale.ROOT)),
                        at.apply("message"), mops.isEmpty() ? List.of()
                                : Arrays.stream(mops.split(";")).map(Double::valueOf).toList(),
                        readBytes(at.apply("baseline_rss_bytes")), readBytes(at.apply("peak_rss_bytes")),
                        readBytes(at.apply("rss_after_free_bytes")), readBytes(at.apply("rss_after_close_bytes"))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("row " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return results;
    }

    /** The records of RFC 4180 text: fields split at commas outside quotes, records at line breaks outside quotes. */
    private static List<List<String>> records(String csv) {
        List<List<String>> records = new ArrayList<>();
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < csv.length(); i++) {
            char c = csv.charAt(i);
            if (quoted) {
                if (c != '"') {
                    field.append(c);
                } else if (i + 1 < csv.length() && csv.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else {
                    quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                record.add(field.toString());
                field.setLength(0);
            } else if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < csv.length() && csv.charAt(i + 1) == '\n') {
                    i++;
                }
                record.add(field.toString());
                field.setLength(0);
                records.add(record);
                record = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException("a quoted field is not closed at the end of the file");
        }
        if (!field.isEmpty() || !record.isEmpty()) {
            record.add(field.toString());
            records.add(record);
        }
        return records;
    }

    private static long readBytes(String value) {
        return value.isEmpty() ? -1 : Long.parseLong(value);
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
