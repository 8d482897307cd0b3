package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.HakMemPeer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code hakmem profile}: bench cells profiled, for a reader who must say where a cell's time goes, or with
 * {@code --memory} where its RSS growth sits. Each cell runs in the benchmark's own child JVM ({@link ChildJvm}: the
 * same heap, flags, warm-up and workload code) with its measured window recorded by JFR ({@link MeasuredRecording}),
 * summarised here ({@link ExecutionProfile}), or probed for memory ({@link MemoryProbe}), split here
 * ({@link MemorySplit}). With {@code --misses}, the cells are hakmem's on every (workload, threads) of a bench run that
 * missed the native throughput target (a CPU profile) or the RSS growth target (a memory profile), as {@link Targets}
 * decides it.
 */
@Command(name = "profile",
        description = {
                "Profiles bench cells with JFR: each (workload, allocator, threads) in the bench's",
                "own child JVM, its measured window of --seconds recorded (settings=profile,",
                "DebugNonSafepoints). Prints and writes under --out a markdown section per cell:",
                "the throughput, the workload threads' samples by part (the package of the",
                "topmost allocator frame), the top frames by self samples (method and line) and",
                "the allocator's methods by inclusive samples, and the child's command; the .jfr",
                "files stay beside it. With --misses CSV, profiles hakmem on every (workload,",
                "threads) of a ./hakmem bench CSV that missed the native throughput target, and",
                "a memory profile of every one that missed the RSS growth target (1.25x mimalloc's).",
                "With --memory, a memory profile instead: the child's peak RSS growth over the",
                "baseline split into hakmem's resident mappings by kind (mincore), the JVM's",
                "growth by Native Memory Tracking category, and the remainder; the heap's live and",
                "committed bytes beside it (with --misses: the RSS-missed rows only)."},
        mixinStandardHelpOptions = true)
public final class ProfileCommand implements Callable<Integer> {
    /** The start of a cell's outcome when its profile could not be taken. */
    private static final String FAILED = "FAILED";

    @Spec
    private CommandSpec spec;

    @Option(names = "--workloads", split = ",", paramLabel = "NAME",
            description = "Workloads to profile (./hakmem bench --list shows them); not with --misses.")
    private List<String> workloads;

    @Option(names = "--allocators", split = ",", paramLabel = "NAME", defaultValue = HakMemPeer.NAME,
            description = "Allocators to profile (default: ${DEFAULT-VALUE}).")
    private List<String> allocators;

    @Option(names = "--threads", split = ",", paramLabel = "T", defaultValue = "1,2",
            description = "Thread counts (default: ${DEFAULT-VALUE}).")
    private List<Integer> threads;

    @Option(names = "--misses", paramLabel = "CSV",
            description = "A ./hakmem bench results CSV: profile hakmem on each of its (workload, threads) that missed"
                    + " the native throughput target.")
    private Path misses;

    @Option(names = "--memory",
            description = "Profile where the RSS growth sits instead of the CPU time.")
    private boolean memory;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "5",
            description = "The recorded window (default: ${DEFAULT-VALUE}).")
    private double seconds;

    @Option(names = "--warmup", paramLabel = "S", defaultValue = "0.5",
            description = "The warm-up before it, not recorded (default: ${DEFAULT-VALUE}, as the bench's).")
    private double warmup;

    @Option(names = "--top", paramLabel = "N", defaultValue = "15",
            description = "Rows of the frame and method tables (default: ${DEFAULT-VALUE}).")
    private int top;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/profile",
            description = "Where the summary and the recordings go (default: ${DEFAULT-VALUE}).")
    private Path out;

    /**
     * A cell to profile, and why (the bench's figures it missed by), empty when it was asked for by name; with a CPU
     * profile, a memory profile or both.
     */
    record Cell(Trial trial, String why, boolean cpu, boolean memory) {
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        check(seconds > 0, "--seconds must be more than 0: " + seconds);
        check(warmup >= 0, "--warmup must not be negative: " + warmup);
        check(top >= 1, "--top must be at least 1: " + top);
        List<Cell> cells = cells();
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder("# hakmem profile, ").append(stamp).append("\n\n");
        if (misses != null) {
            String targets = memory ? "the RSS growth target" : "the native throughput or the RSS growth target";
            md.append(cells.isEmpty() ? "No row of `" + misses + "` missed " + targets + ".\n"
                    : "hakmem on every (workload, threads) of `" + misses + "` that missed " + targets + ": a CPU"
                    + " profile of a throughput miss, a memory profile of an RSS growth miss.\n");
        }
        Path summary = out.resolve("profile-" + stamp + ".md");
        boolean failed = false;
        for (int i = 0; i < cells.size(); i++) {
            // Written before each cell too, so that a run stopped midway keeps the cells it finished.
            Files.writeString(summary, md);
            stdout.printf("[%d/%d] %s ... ", i + 1, cells.size(), cells.get(i).trial());
            stdout.flush();
            long start = System.nanoTime();
            Cell cell = cells.get(i);
            List<String> outcomes = new ArrayList<>();
            if (cell.cpu()) {
                outcomes.add(profile(cell, stamp, md));
            }
            if (cell.memory()) {
                outcomes.add(profileMemory(cell, stamp, md));
            }
            failed |= outcomes.stream().anyMatch(outcome -> outcome.startsWith(FAILED));
            stdout.printf("%s (%.1f s)%n", String.join("; ", outcomes), (System.nanoTime() - start) / 1e9);
            stdout.flush();
        }
        Files.writeString(summary, md);
        stdout.printf("%n%s%nwrote %s%n", md, summary);
        stdout.flush();
        return failed ? 1 : 0;
    }

    /**
     * Profiles one cell in a child JVM and appends its section to {@code md}.
     *
     * @return the progress line's outcome: the throughput and samples, or why there is no profile, starting with
     *         {@link #FAILED} when the child or the recording failed
     */
    private String profile(Cell cell, String stamp, StringBuilder md) {
        Trial trial = cell.trial();
        // Absolute, so that the child's command reruns from anywhere.
        Path recording = out.resolve(String.format(Locale.ROOT, "profile-%s-%s-%s-t%d.jfr", stamp,
                trial.workload(), trial.allocator(), trial.threads())).toAbsolutePath();
        TrialResult result = runSection(cell, trial.toString(),
                new ChildJvm(warmup, seconds, 1).profiling(recording), md);
        if (!result.ok()) {
            return notRun(result);
        }
        ExecutionProfile profile;
        try {
            profile = ExecutionProfile.read(recording, ExecutionProfile.WORKLOAD_THREAD);
        } catch (IOException e) {
            String outcome = FAILED + ": cannot read the recording " + recording + ": " + e;
            md.append("- ").append(outcome).append('\n');
            return outcome;
        }
        md.append(String.format(Locale.ROOT, "- throughput: %s Mops/s in the recorded window of %s s, after a"
                        + " warm-up of %s s%n", ResultTable.mops(result.medianMops()), seconds, warmup))
                .append(String.format(Locale.ROOT, "- samples: %d execution samples on the workload threads"
                                + " (every 10 ms per thread running Java code: at most about %d per thread; time"
                                + " in the JVM itself, a stack walk or a safepoint, is not sampled), %d in native"
                                + " code (every 20 ms, not in the tables), %d on other threads left out%n",
                        profile.samples(), Math.round(seconds * 100), profile.nativeSamples(),
                        profile.otherThreads()))
                .append("- recording: `").append(recording).append("`\n\n");
        if (profile.samples() == 0) {
            md.append("No execution sample on the workload threads: nothing to summarise.\n");
            return FAILED + ": no execution sample on the workload threads in " + recording;
        }
        md.append(profile.markdown(top));
        return String.format(Locale.ROOT, "%s Mops/s, %d samples", ResultTable.mops(result.medianMops()),
                profile.samples());
    }

    /**
     * Profiles where one cell's RSS growth sits, in a child JVM with a {@link MemoryProbe}, and appends its section to
     * {@code md}.
     *
     * @return the progress line's outcome: the growth, or why there is no profile, starting with {@link #FAILED} when
     *         the child or its probe failed
     */
    private String profileMemory(Cell cell, String stamp, StringBuilder md) {
        Trial trial = cell.trial();
        Path snapshots = out.resolve(String.format(Locale.ROOT, "profile-%s-%s-%s-t%d-memory.txt", stamp,
                trial.workload(), trial.allocator(), trial.threads())).toAbsolutePath();
        TrialResult result = runSection(cell, trial + ", memory",
                new ChildJvm(warmup, seconds, 1).memoryProfiling(snapshots), md);
        if (!result.ok()) {
            return notRun(result);
        }
        MemorySplit split;
        try {
            split = MemorySplit.parse(Files.readAllLines(snapshots));
        } catch (IOException | IllegalArgumentException e) {
            String outcome = FAILED + ": cannot read the memory probe's " + snapshots + ": " + e;
            md.append("- ").append(outcome).append('\n');
            return outcome;
        }
        md.append(String.format(Locale.ROOT, "- throughput: %s Mops/s in the measured window of %s s, after a"
                        + " warm-up of %s s; transparent huge pages: %s%n", ResultTable.mops(result.medianMops()),
                seconds, warmup, transparentHugePages()))
                .append(split.markdown(result.peakGrowth()));
        return String.format(Locale.ROOT, "%s Mops/s, peak RSS growth %.1f MiB, %.1f MiB unaccounted",
                ResultTable.mops(result.medianMops()), result.peakGrowth() / (double) (1 << 20),
                split.remainder().peak() / (double) (1 << 20));
    }

    /**
     * Runs the cell in {@code child} and appends the head of its section, {@code title}: why it is profiled, the
     * child's command, and why there is no profile when the child did not finish.
     */
    private static TrialResult runSection(Cell cell, String title, ChildJvm child, StringBuilder md) {
        TrialResult result = child.run(cell.trial());
        md.append("\n## ").append(title).append("\n\n");
        if (!cell.why().isEmpty()) {
            md.append("- in the bench: ").append(cell.why()).append('\n');
        }
        md.append("- child: `").append(child.shellLine(cell.trial())).append("`\n");
        if (!result.ok()) {
            md.append("- ").append(notRun(result)).append('\n');
        }
        return result;
    }

    /** A child that did not finish, as its outcome: {@link #FAILED} or skipped, and why. */
    private static String notRun(TrialResult result) {
        return (result.status() == TrialResult.Status.FAILED ? FAILED : "skipped") + ": " + result.message();
    }

    /** The kernel's setting, the bracketed word of {@code [always] madvise never}, or why it is unknown. */
    private static String transparentHugePages() {
        try {
            String setting = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).strip();
            int open = setting.indexOf('[');
            int close = setting.indexOf(']');
            return open >= 0 && close > open ? setting.substring(open + 1, close) : setting;
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** The cells named by --workloads, --allocators and --threads, or hakmem's cells that missed in --misses. */
    List<Cell> cells() {
        if (misses == null) {
            check(workloads != null, "give --workloads (and --allocators, --threads), or --misses CSV");
            BenchCommand.checkCells(spec.commandLine(), workloads, allocators, threads);
            return Rounds.schedule(workloads, threads, allocators, 1).stream()
                    .map(run -> new Cell(run.trial(), "", !memory, memory)).toList();
        }
        check(List.of("--workloads", "--allocators", "--threads").stream()
                        .noneMatch(spec.commandLine().getParseResult()::hasMatchedOption),
                "--misses chooses the cells itself: give it without --workloads, --allocators and --threads");
        List<TrialResult> run;
        try {
            run = ResultCsv.parse(Files.readString(misses));
        } catch (IOException e) {
            throw new ParameterException(spec.commandLine(), "cannot read " + misses + ": " + e);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), misses + ": " + e.getMessage());
        }
        return Targets.misses(run).stream().filter(miss -> !memory || miss.growth() != null)
                .map(miss -> new Cell(miss.hakmem(), miss.line(), !memory && miss.throughput() != null,
                        miss.growth() != null)).toList();
    }

    private void check(boolean condition, String message) {
        if (!condition) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }
}
