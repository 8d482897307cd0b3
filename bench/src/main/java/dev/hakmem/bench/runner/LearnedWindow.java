package dev.hakmem.bench.runner;

import dev.hakmem.LearningWindow;
import dev.hakmem.Policy;
import dev.hakmem.bench.workload.Bytes;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A learning window of {@code hakmem learn} and the phases of the workload that ran during it; as a line of the
 * command's output and a row of its {@code windows.csv}.
 */
record LearnedWindow(LearningWindow window, String phase) {
    static final String CSV_HEADER = "window,phase,state,trial,cost,ops,w_max,big_threshold_bytes,retain_bytes,"
            + "purge_delay_ms,bridge_classes,site_rules";
    static final String HEADER = String.format(Locale.ROOT, "%6s  %-20s %-6s %10s %10s %7s %8s %8s %8s  %-16s %-20s %s",
            "window", "phase", "state", "cost", "ops", "wMax", "big", "retain", "purge", "bridges", "sites", "trial");

    /** The window as the command prints it: its number, phase, state, cost ("-" unscored), ops, knobs and trial. */
    String line() {
        Policy p = window.policy();
        return String.format(Locale.ROOT, "%6d  %-20s %-6s %10s %10d %7s %8s %8s %8s  %-16s %-20s %s",
                window.index(), phase, window.state(), CompareReport.cost(window.cost()), window.ops(), p.wMax(),
                Bytes.format(p.bigThreshold()), Bytes.format(p.retainBytes()), p.purgeDelayMillis() + " ms",
                PolicyText.bridges(p), PolicyText.sites(p), window.trial());
    }

    /** A row of windows.csv: sizes in bytes, the delay in ms, lists separated by ';', the cost empty when unscored. */
    String csvRow() {
        Policy p = window.policy();
        String bridges = Arrays.stream(p.bridgeClasses()).mapToObj(Integer::toString).collect(Collectors.joining(";"));
        String sites = p.sites().isEmpty() ? "" : PolicyText.sites(p);
        return String.join(",", Long.toString(window.index()), ResultCsv.field(phase), window.state().name(),
                ResultCsv.field(window.trial()), ResultCsv.number(window.cost()), Long.toString(window.ops()),
                Double.toString(p.wMax()), Long.toString(p.bigThreshold()), Long.toString(p.retainBytes()),
                Long.toString(p.purgeDelayMillis()), bridges, ResultCsv.field(sites));
    }

    /** windows.csv (RFC 4180). */
    static String csv(List<LearnedWindow> windows) {
        StringBuilder csv = new StringBuilder(CSV_HEADER).append("\r\n");
        windows.forEach(w -> csv.append(w.csvRow()).append("\r\n"));
        return csv.toString();
    }

    /**
     * The policy the learner would freeze: the one the last window that ran the learner's best ran (its trial is
     * empty); {@code inForce} when no window did.
     */
    static Policy best(List<LearnedWindow> windows, Policy inForce) {
        for (LearnedWindow w : windows.reversed()) {
            if (w.window().trial().isEmpty()) {
                return w.window().policy();
            }
        }
        return inForce;
    }
}
