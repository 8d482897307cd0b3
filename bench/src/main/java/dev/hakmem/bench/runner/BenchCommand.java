package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.workload.Workloads;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * {@code hakmem bench}: every (workload, allocator, threads) in a fresh JVM, a warm-up and measured windows in it,
 * medians; then a table per workload on stdout, a CSV and a chart per workload under {@code --out}. With
 * {@code --rounds N}, every cell in N JVMs, interleaved and compared in pairs ({@link Rounds}).
 */
@Command(name = "bench",
        description = {
                "Benchmarks hakmem against the other allocators on the workloads, each",
                "(workload, allocator, threads) in a fresh JVM: a warm-up, then --reps measured",
                "windows of --seconds; medians. Prints a table per workload (Mops/s, peak RSS",
                "growth, RSS after free, each allocator's throughput over hakmem's, and the",
                "project's targets), writes bench-<time>.csv, latest.csv and bench-<time>/",
                "<workload>.png under --out. --list shows the workloads and allocators.",
                "With --rounds N, each cell runs in N JVMs: per (workload, threads) the",
                "allocators take turns, one JVM each per round, the order turned by one each",
                "round; each cell reports its median over the rounds, and each allocator the",
                "median of its per-round ratios to hakmem with their range, so that a 5%%",
                "difference can be told from the JVM-to-JVM spread."},
        mixinStandardHelpOptions = true)
public final class BenchCommand implements Callable<Integer> {
    /**
     * Left out by default: the control is plain hakmem again, and the other two differ from hakmem-guard only in
     * how often they record a site.
     */
    static final List<String> NOT_BY_DEFAULT = List.of(HakMemPeer.CONTROL, HakMemPeer.GUARD_SITES64,
            HakMemPeer.GUARD_NO_SITES);

    @Spec
    private CommandSpec spec;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME",
            description = "Workloads to run (default: all).")
    private List<String> workloads = Workloads.names();

    @Option(names = "--allocators", split = ",", paramLabel = "NAME",
            description = "Allocators to run (default: all but hakmem-control, hakmem-guard-sites64 and"
                    + " hakmem-guard-nosites).")
    private List<String> allocators = Peers.NAMES.stream().filter(name -> !NOT_BY_DEFAULT.contains(name)).toList();

    @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
            description = "Thread counts (default: ${DEFAULT-VALUE}).")
    private List<Integer> threads;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "1",
            description = "Length of each measured window (default: ${DEFAULT-VALUE}).")
    private double seconds;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "0.5",
            description = "Length of the warm-up before the measured windows (default: ${DEFAULT-VALUE}).")
    private double warmup;

    @Option(names = "--reps", paramLabel = "N", defaultValue = "3",
            description = "Measured windows per JVM; the median is reported (default: ${DEFAULT-VALUE}).")
    private int reps;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = "JVMs per cell, the allocators interleaved and their ratios to hakmem paired per round"
                    + " (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "bench/results",
            description = "Where the CSV and the charts go (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--list", description = "List the workloads and allocators, then exit.")
    private boolean list;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        if (list) {
            Workloads.ALL.forEach(w -> stdout.printf("%-18s %s%n", w.name(), w.description()));
            stdout.println("allocators: " + String.join(", ", Peers.NAMES));
            stdout.flush();
            return 0;
        }
        List<Rounds.Cell> cells = measure(new ChildJvm(warmup, seconds, reps)::run, stdout);
        List<TrialResult> summaries = cells.stream().map(Rounds.Cell::summary).toList();
        Map<Trial, Rounds.Paired> paired = Rounds.pairedToHakmem(cells);
        stdout.print(ResultTable.format(workloads, threads, summaries, paired));
        write(cells, summaries, paired, stdout);
        stdout.flush();
        return summaries.stream().anyMatch(r -> r.status() == TrialResult.Status.FAILED) ? 1 : 0;
    }

    /** Runs the {@link #schedule()}, one {@code child} call per JVM, with a progress line each. */
    List<Rounds.Cell> measure(Function<Trial, TrialResult> child, PrintWriter stdout) {
        List<Rounds.Run> runs = schedule();
        List<TrialResult> results = new ArrayList<>();
        long start = System.nanoTime();
        for (Rounds.Run run : runs) {
            stdout.printf("[%d/%d] %s%s ... ", results.size() + 1, runs.size(), run.trial(),
                    rounds > 1 ? " round " + (run.round() + 1) : "");
            stdout.flush();
            long trialStart = System.nanoTime();
            TrialResult result = child.apply(run.trial());
            results.add(result);
            stdout.printf("%s (%.1f s)%n", outcome(result), (System.nanoTime() - trialStart) / 1e9);
            stdout.flush();
        }
        stdout.printf("%n%d JVMs in %.1f min%n%n", runs.size(), (System.nanoTime() - start) / 60e9);
        return Rounds.cells(runs, results, rounds);
    }

    /**
     * The JVMs in the order they run: by workload, then thread count, then round, then allocator (see
     * {@link Rounds#schedule}); with one round, the allocators in the order given.
     */
    List<Rounds.Run> schedule() {
        checkCells(spec.commandLine(), workloads, allocators, threads);
        check(seconds > 0, "--seconds must be more than 0: " + seconds);
        check(warmup >= 0, "--warmup must not be negative: " + warmup);
        check(reps >= 1, "--reps must be at least 1: " + reps);
        check(rounds >= 1, "--rounds must be at least 1: " + rounds);
        return Rounds.schedule(workloads, threads, allocators, rounds);
    }

    /**
     * Refuses an unknown workload or allocator, a thread count under 1, and a name or count given twice.
     *
     * @throws ParameterException saying which
     */
    static void checkCells(CommandLine commandLine, List<String> workloads, List<String> allocators,
                           List<Integer> threads) {
        Consumer<String> refuse = message -> {
            throw new ParameterException(commandLine, message);
        };
        workloads.stream().filter(name -> !Workloads.names().contains(name)).findFirst().ifPresent(name ->
                refuse.accept("unknown workload '" + name + "', known: " + Workloads.names()));
        allocators.stream().filter(name -> !Peers.NAMES.contains(name)).findFirst().ifPresent(name ->
                refuse.accept("unknown allocator '" + name + "', known: " + Peers.NAMES));
        threads.stream().filter(t -> t < 1).findFirst().ifPresent(t ->
                refuse.accept("--threads must be at least 1: " + t));
        if (Set.copyOf(workloads).size() != workloads.size() || Set.copyOf(allocators).size() != allocators.size()
                || Set.copyOf(threads).size() != threads.size()) {
            refuse.accept("a workload, allocator or thread count is named twice");
        }
    }

    private void check(boolean condition, String message) {
        if (!condition) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    private static String outcome(TrialResult result) {
        return switch (result.status()) {
            case OK -> String.format(Locale.ROOT, "%s Mops/s, peak RSS growth %.1f MiB", ResultTable.mops(result.medianMops()),
                    result.peakGrowth() / (double) (1 << 20));
            case SKIPPED -> "skipped: " + result.message();
            case FAILED -> "FAILED: " + result.message();
        };
    }

    /** The CSV of the cells (and with several rounds, of every JVM), latest.csv, and the charts of the summaries. */
    private void write(List<Rounds.Cell> cells, List<TrialResult> summaries, Map<Trial, Rounds.Paired> paired,
                       PrintWriter stdout) throws IOException {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Files.createDirectories(out);
        Path csv = out.resolve("bench-" + stamp + ".csv");
        if (rounds == 1) {
            Files.writeString(csv, ResultCsv.format(summaries));
        } else {
            Files.writeString(csv, ResultCsv.formatCells(summaries, paired, rounds));
            Path runs = out.resolve("bench-" + stamp + "-rounds.csv");
            Files.writeString(runs, ResultCsv.formatRuns(cells));
            stdout.printf("wrote every JVM's result to %s%n", runs);
        }
        Files.copy(csv, out.resolve("latest.csv"), StandardCopyOption.REPLACE_EXISTING);
        List<Path> charts = ResultCharts.write(out.resolve("bench-" + stamp), workloads, allocators, threads,
                summaries);
        stdout.printf("wrote %s, %s and %d charts in %s%n", csv, out.resolve("latest.csv"), charts.size(),
                out.resolve("bench-" + stamp));
    }
}
