package dev.hakmem.cli;

import dev.hakmem.HakMem;
import dev.hakmem.stress.StressOptions;
import dev.hakmem.stress.StressResult;
import dev.hakmem.stress.StressWorkload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;

/** Runs {@link StressWorkload} on a fresh heap; the exit code says whether the heap came out intact. */
@Command(name = "stress",
        description = {
                "Runs a checked multi-threaded workload on a new heap.",
                "Every tier, malloc/calloc/realloc/mallocAligned, remote frees and thread churn;",
                "every block's contents are checked before it is freed. Exit code 0 only when",
                "no error was found and the heap ended with 0 live bytes."},
        mixinStandardHelpOptions = true)
final class StressCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads at once (default: the number of CPUs, ${DEFAULT-VALUE}).")
    private int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "10", description = "How long the workers run (default: ${DEFAULT-VALUE}).")
    private int seconds;

    @Option(names = "--seed", paramLabel = "X", description = "Random seed, to repeat a run's choices (default: from the clock, printed).")
    private Long seed;

    @Override
    public Integer call() {
        if (threads < 1) {
            throw new ParameterException(spec.commandLine(), "--threads must be at least 1: " + threads);
        }
        if (seconds < 1) {
            throw new ParameterException(spec.commandLine(), "--seconds must be at least 1: " + seconds);
        }
        long runSeed = seed != null ? seed : System.currentTimeMillis();
        PrintWriter out = spec.commandLine().getOut();
        try (HakMem heap = HakMem.create()) {
            out.printf("hakmem stress: threads %d, %d s, seed %d, %s%n", threads, seconds, runSeed, heap);
            out.flush();
            StressResult result = new StressWorkload(
                    new StressOptions(threads, Duration.ofSeconds(seconds), runSeed, heap),
                    line -> {
                        out.println(line);
                        out.flush();
                    }).run();
            result.summaryLines().forEach(out::println);
            out.flush();
            return result.clean() ? 0 : 1;
        }
    }
}
