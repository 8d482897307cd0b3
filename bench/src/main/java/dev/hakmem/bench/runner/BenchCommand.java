package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.workload.Workloads;
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
import java.util.concurrent.Callable;

/**
 * {@code hakmem bench}: every (workload, allocator, threads) in a fresh JVM, a warm-up and measured windows in it,
 * medians; then a table per workload on stdout, a CSV and a chart per workload under {@code --out}.
 */
@Command(name = "bench",
        description = {
                "Benchmarks hakmem against the other allocators on the workloads, each",
                "(workload, allocator, threads) in a fresh JVM: a warm-up, then --reps measured",
                "windows of --seconds; medians. Prints a table per workload (Mops/s, peak RSS",
                "growth, RSS after free, each allocator's throughput over hakmem's, and the",
                "project's targets), writes bench-<time>.csv, latest.csv and bench-<time>/",
                "<workload>.png under --out. --list shows the workloads and allocators."},
        mixinStandardHelpOptions = true)
public final class BenchCommand implements Callable<Integer> {
    /** Left out by default: they differ from hakmem-guard only in how often they record a site. */
    static final List<String> NOT_BY_DEFAULT = List.of("hakmem-guard-sampled", "hakmem-guard-nosites");

    @Spec
    private CommandSpec spec;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME",
            description = "Workloads to run (default: all).")
    private List<String> workloads = Workloads.names();

    @Option(names = "--allocators", split = ",", paramLabel = "NAME",
            description = "Allocators to run (default: all but hakmem-guard-sampled and hakmem-guard-nosites).")
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
        List<Trial> trials = plan();
        ChildJvm jvm = new ChildJvm(warmup, seconds, reps);
        List<TrialResult> results = new ArrayList<>();
        long start = System.nanoTime();
        for (Trial trial : trials) {
            stdout.printf("[%d/%d] %s ... ", results.size() + 1, trials.size(), trial);
            stdout.flush();
            long trialStart = System.nanoTime();
            TrialResult result = jvm.run(trial);
            results.add(result);
            stdout.printf("%s (%.1f s)%n", outcome(result), (System.nanoTime() - trialStart) / 1e9);
            stdout.flush();
        }
        stdout.printf("%n%d JVMs in %.1f min%n%n", trials.size(), (System.nanoTime() - start) / 60e9);
        stdout.print(ResultTable.format(workloads, threads, results));
        write(results, stdout);
        stdout.flush();
        return results.stream().anyMatch(r -> r.status() == TrialResult.Status.FAILED) ? 1 : 0;
    }

    /** The trials in the order they run: by workload, then thread count, then allocator. */
    List<Trial> plan() {
        workloads.forEach(name -> check(Workloads.names().contains(name), "unknown workload '" + name + "', known: "
                + Workloads.names()));
        allocators.forEach(name -> check(Peers.NAMES.contains(name), "unknown allocator '" + name + "', known: "
                + Peers.NAMES));
        threads.forEach(t -> check(t >= 1, "--threads must be at least 1: " + t));
        check(seconds > 0, "--seconds must be more than 0: " + seconds);
        check(warmup >= 0, "--warmup must not be negative: " + warmup);
        check(reps >= 1, "--reps must be at least 1: " + reps);
        List<Trial> trials = new ArrayList<>();
        for (String workload : workloads) {
            for (int t : threads) {
                for (String allocator : allocators) {
                    trials.add(new Trial(workload, allocator, t));
                }
            }
        }
        return trials;
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

    private void write(List<TrialResult> results, PrintWriter stdout) throws IOException {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Files.createDirectories(out);
        Path csv = out.resolve("bench-" + stamp + ".csv");
        Files.writeString(csv, ResultCsv.format(results));
        Files.copy(csv, out.resolve("latest.csv"), StandardCopyOption.REPLACE_EXISTING);
        List<Path> charts = ResultCharts.write(out.resolve("bench-" + stamp), workloads, allocators, threads, results);
        stdout.printf("wrote %s, %s and %d charts in %s%n", csv, out.resolve("latest.csv"), charts.size(),
                out.resolve("bench-" + stamp));
    }
}
