package dev.hakmem.bench.runner;

import dev.hakmem.HakMemConfig;
import dev.hakmem.ace.Learner;
import dev.hakmem.bench.runner.Compare.PhaseResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What {@code hakmem learn --compare} prints and writes: a table per phase with its verdicts, the summary of the
 * verdicts over the phases, {@code compare.csv} (a row per run), {@code compare-windows.csv} (a row per measured
 * window, to check any median) and {@code compare.md}.
 */
final class CompareReport {
    static final String CSV_HEADER = "phase,config,marks,median_cost,median_mops,peak_committed_bytes,"
            + "windows_counted,windows,note";
    static final String WINDOWS_CSV_HEADER = "phase,config,window,counted,state,nanos,ops,page_faults,map_calls,"
            + "purges,committed_bytes,live_bytes,ns_per_op,waste,cost";
    private static final double MiB = 1 << 20;

    private CompareReport() {
    }

    /** The phase's runs, marked, then its verdicts. */
    static String table(PhaseResult r) {
        StringBuilder text = new StringBuilder();
        text.append('\n').append(r.phase().name()).append(": ").append(r.phase().description()).append('\n');
        text.append(String.format(Locale.ROOT, "  %-56s %10s %9s %15s %8s%n", "config", "cost", "Mops/s",
                "peak committed", "windows"));
        for (ConfigRun run : runs(r)) {
            String marks = marks(run, Optional.of(r));
            text.append(String.format(Locale.ROOT, "  %-56s %10s %9s %15s %8d%s%s%n", run.config(), cost(run.cost()),
                    ResultTable.mops(run.mops()), mib(run.peakCommitted()), run.counted().size(),
                    marks.isEmpty() ? "" : "  [" + marks + "]", run.note().isEmpty() ? "" : " " + run.note()));
        }
        r.verdicts().forEach(line -> text.append("  ").append(line).append('\n'));
        return text.toString();
    }

    /** The two targets over every phase compared: MET when each phase meets them. */
    static String summary(List<PhaseResult> results) {
        long matches = results.stream().filter(PhaseResult::matchesBest).count();
        List<PhaseResult> wrong = results.stream().filter(PhaseResult::defaultWrong).toList();
        long beats = wrong.stream().filter(PhaseResult::beatsDefault).count();
        return String.format(Locale.ROOT, "%nlearning matches the best static policy (cost <= %.2fx) on %d of %d"
                        + " phases: %s%nlearning beats the default by 20%% (cost <= %.2fx) on %d of the %d phases where"
                        + " the default is wrong (%s): %s%n", Compare.MATCH, matches, results.size(),
                matches == results.size() ? "MET" : "MISSED", Compare.BEAT_DEFAULT, beats, wrong.size(),
                wrong.stream().map(p -> p.phase().name()).reduce((a, b) -> a + ", " + b).orElse("none"),
                beats == wrong.size() ? "MET" : "MISSED");
    }

    /** compare.csv: a row per run, in the order they ran, marked as the table marks them. */
    static String csv(List<ConfigRun> runs, List<PhaseResult> results) {
        StringBuilder csv = new StringBuilder(CSV_HEADER).append("\r\n");
        for (ConfigRun run : runs) {
            Optional<PhaseResult> result = results.stream().filter(r -> r.phase().name().equals(run.phase()))
                    .findFirst();
            csv.append(String.join(",", ResultCsv.field(run.phase()), ResultCsv.field(run.config()),
                    ResultCsv.field(marks(run, result)), ResultCsv.number(run.cost()), ResultCsv.number(run.mops()),
                    Long.toString(run.peakCommitted()), Integer.toString(run.counted().size()),
                    Integer.toString(run.windows().size()), ResultCsv.field(run.note()))).append("\r\n");
        }
        return csv.toString();
    }

    /** compare-windows.csv: every measured window of every run. */
    static String windowsCsv(List<ConfigRun> runs) {
        StringBuilder csv = new StringBuilder(WINDOWS_CSV_HEADER).append("\r\n");
        for (ConfigRun run : runs) {
            for (int i = 0; i < run.windows().size(); i++) {
                ConfigRun.Measured m = run.windows().get(i);
                ExternalWindow w = m.window();
                csv.append(String.join(",", ResultCsv.field(run.phase()), ResultCsv.field(run.config()),
                        Integer.toString(i), Boolean.toString(i >= run.firstCounted()), m.state().name(),
                        Long.toString(w.nanos()), Long.toString(w.ops()), Long.toString(w.pageFaults()),
                        Long.toString(w.mapCalls()), Long.toString(w.purges()), Long.toString(w.committedBytes()),
                        Long.toString(w.liveBytes()), ResultCsv.number(w.nanosPerOp()), ResultCsv.number(w.waste()),
                        ResultCsv.number(m.cost())))
                        .append("\r\n");
            }
        }
        return csv.toString();
    }

    /** compare.md: how it was measured, a table and the verdicts per phase, the summary. */
    static String markdown(List<PhaseResult> results, HakMemConfig learning, long phaseNanos) {
        StringBuilder md = new StringBuilder("# hakmem learn --compare\n\n");
        md.append(String.format(Locale.ROOT, "Each configuration ran each phase alone for %.0f s on a fresh heap,"
                        + " measured in windows of %d ms from outside the heap: cost = (wall-clock ns per op + %.0f ns"
                        + " x page faults per op + %.0f ns x (mappings + purges) per op) x (1 + %s x waste), waste ="
                        + " (committed - live) / committed; a run's cost is the median of its counted windows."
                        + " Learning: mode LEARNING, seed %d.%n", phaseNanos / 1e9, learning.learnWindowMillis(),
                Learner.FAULT_NANOS, Learner.SYSCALL_NANOS, learning.memoryWeight(),
                learning.learnSeed()));
        for (PhaseResult r : results) {
            md.append("\n## ").append(r.phase().name()).append("\n\n").append(r.phase().description()).append("\n\n");
            md.append("| config | cost | Mops/s | peak committed MiB | windows | marks |\n");
            md.append("| --- | ---: | ---: | ---: | ---: | --- |\n");
            for (ConfigRun run : runs(r)) {
                String marks = marks(run, Optional.of(r));
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %d | %s |%n", run.config(),
                        cost(run.cost()), ResultTable.mops(run.mops()), String.format(Locale.ROOT, "%.1f",
                                run.peakCommitted() / MiB), run.counted().size(),
                        (marks + (run.note().isEmpty() ? "" : " " + run.note())).trim()));
            }
            md.append('\n');
            r.verdicts().forEach(line -> md.append("- ").append(line).append('\n'));
        }
        md.append(summary(results).replace("\nlearning", "\n- learning"));
        return md.toString();
    }

    /** The static runs in the order they ran, then the learning run. */
    private static List<ConfigRun> runs(PhaseResult r) {
        List<ConfigRun> all = new ArrayList<>(r.statics());
        all.add(r.learning());
        return all;
    }

    /** "default", "best static", "learning", or "" for a run that is none of these (or of a phase not finished). */
    private static String marks(ConfigRun run, Optional<PhaseResult> result) {
        if (result.isEmpty()) {
            return "";
        }
        List<String> marks = new ArrayList<>();
        if (run == result.get().defaults()) {
            marks.add("default");
        }
        if (run == result.get().bestStatic()) {
            marks.add("best static");
        }
        if (run == result.get().learning()) {
            marks.add("learning");
        }
        return String.join("; ", marks);
    }

    static String cost(double cost) {
        return Double.isNaN(cost) ? "-" : String.format(Locale.ROOT, "%.1f", cost);
    }

    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / MiB);
    }
}
