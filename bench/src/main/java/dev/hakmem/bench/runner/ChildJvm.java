package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.NativeLibraries;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Runs one trial in a fresh JVM, so that no allocator inherits another's JIT profile, caches or resident memory. */
final class ChildJvm {
    /** Diagnostics kept from a failed child's output. */
    private static final int TAIL_LINES = 6;
    /** The prefix of the system properties that configure peers ({@code hakmem.bench.mimalloc}, ...). */
    private static final String PEER_PROPERTIES = "hakmem.bench.";

    private final String java;
    private final String classPath;
    private final double warmupSeconds;
    private final double seconds;
    private final int reps;
    /**
     * JVM options beyond the benchmark's own: a profile's ({@link #profiling}, {@link #memoryProfiling}); empty for
     * the benchmark.
     */
    private final List<String> extraOptions;

    ChildJvm(double warmupSeconds, double seconds, int reps) {
        this(warmupSeconds, seconds, reps, List.of());
    }

    private ChildJvm(double warmupSeconds, double seconds, int reps, List<String> extraOptions) {
        // The JVM that runs the runner runs the children: the same JDK and the same jar.
        this.java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        this.classPath = System.getProperty("java.class.path");
        this.warmupSeconds = warmupSeconds;
        this.seconds = seconds;
        this.reps = reps;
        this.extraOptions = List.copyOf(extraOptions);
    }

    /**
     * The same child with its measured windows recorded by JFR into {@code recording} ({@link MeasuredRecording}), and
     * the JIT's debug information kept at every instruction, not only at safepoints, so that a sample in inlined code
     * names its own method and line rather than the nearest safepoint's.
     */
    ChildJvm profiling(Path recording) {
        return new ChildJvm(warmupSeconds, seconds, reps, List.of("-XX:+UnlockDiagnosticVMOptions",
                "-XX:+DebugNonSafepoints", "-D" + MeasuredRecording.PROPERTY + "=" + recording));
    }

    /**
     * The same child with its measured windows' RSS growth split by a probe writing to {@code snapshots}
     * ({@link MemoryProbe}), and Native Memory Tracking on for the JVM's part of it.
     */
    ChildJvm memoryProfiling(Path snapshots) {
        return new ChildJvm(warmupSeconds, seconds, reps, List.of("-XX:NativeMemoryTracking=summary",
                "-D" + MemoryProbe.PROPERTY + "=" + snapshots));
    }

    List<String> command(Trial trial) {
        List<String> command = new ArrayList<>(List.of(java,
                // A fixed heap, resident from the start, keeps the Java heap out of the RSS figures.
                "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch",
                // Netty counts its direct memory against this, which defaults to the small heap's size.
                "-XX:MaxDirectMemorySize=8g",
                "--enable-native-access=ALL-UNNAMED",
                // Netty exposes direct buffers' addresses on JDK 25 only with this.
                "--sun-misc-unsafe-memory-access=allow"));
        // The peers' settings given to the runner (a library's path, hakmem-frozen's policy) hold for its children.
        System.getProperties().stringPropertyNames().stream().filter(name -> name.startsWith(PEER_PROPERTIES)).sorted()
                .forEach(name -> command.add("-D" + name + "=" + System.getProperty(name)));
        command.addAll(extraOptions);
        command.addAll(List.of("-cp", classPath, TrialMain.class.getName(),
                trial.workload(), trial.allocator(), Integer.toString(trial.threads()),
                Double.toString(warmupSeconds), Double.toString(seconds), Integer.toString(reps)));
        return command;
    }

    /** {@link #command} as a line for a shell, with the linker setting {@link #run} gives every child. */
    String shellLine(Trial trial) {
        return "GLIBC_TUNABLES=" + NativeLibraries.STATIC_TLS_TUNABLE + " "
                + command(trial).stream().map(ChildJvm::quoted).collect(Collectors.joining(" "));
    }

    private static String quoted(String argument) {
        return argument.matches("[A-Za-z0-9_./=:,+@%-]+") ? argument : "'" + argument.replace("'", "'\\''") + "'";
    }

    TrialResult run(Trial trial) {
        Path output = null;
        try {
            output = Files.createTempFile("hakmem-bench-", ".out");
            // To a file, not a pipe: a child that prints a lot cannot block on a full pipe while we wait for it.
            ProcessBuilder builder = new ProcessBuilder(command(trial)).redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            // Every child, not only jemalloc's, so that all peers run under the same dynamic linker settings.
            builder.environment().merge("GLIBC_TUNABLES", NativeLibraries.STATIC_TLS_TUNABLE,
                    (set, ours) -> set.contains("optional_static_tls") ? set : set + ":" + ours);
            Process child = builder.start();
            if (!child.waitFor(timeoutSeconds(), TimeUnit.SECONDS)) {
                child.destroyForcibly().waitFor();
                return TrialResult.failed(trial, "timed out after " + timeoutSeconds() + " s");
            }
            List<String> lines = Files.readAllLines(output);
            for (String line : lines) {
                if (line.startsWith(TrialResult.RESULT) || line.startsWith(TrialResult.SKIPPED)) {
                    return TrialResult.parse(trial, line);
                }
            }
            // Stack frames (indented) say less than the exception lines around them.
            List<String> said = lines.stream().filter(line -> !line.isBlank() && !Character.isWhitespace(line.charAt(0)))
                    .toList();
            return TrialResult.failed(trial, "exit code " + child.exitValue() + ": "
                    + String.join(" | ", said.subList(Math.max(0, said.size() - TAIL_LINES), said.size())));
        } catch (IOException e) {
            return TrialResult.failed(trial, "could not run the child JVM: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return TrialResult.failed(trial, "interrupted");
        } finally {
            if (output != null) {
                output.toFile().delete();
            }
        }
    }

    /** Generous: the windows bound the work, and a child that runs far past them is stuck. */
    private long timeoutSeconds() {
        return 60 + (long) Math.ceil(4 * (warmupSeconds + reps * seconds));
    }
}
