package dev.hakmem.cli;

import dev.hakmem.stress.StressHeap;
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
                "no error was found and the heap ended with 0 live bytes.",
                "With --guard the heap runs in guard mode and the workers also commit heap",
                "errors on purpose (overflows, underflows, double and interior frees, writes",
                "after free), each of which guard mode must detect exactly once. With --faults",
                "the page source fails a small random share of its calls; out-of-memory errors",
                "are then expected."},
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

    @Option(names = "--guard", description = "Run the heap in guard mode and plant heap errors that it must detect.")
    private boolean guard;

    @Option(names = "--faults", description = "Fail a small random share of page-source calls (seeded by --seed).")
    private boolean faults;

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
        StressHeap stressHeap = StressHeap.create(guard, faults, runSeed);
        StressResult result;
        try (stressHeap) {
            out.printf("hakmem stress: threads %d, %d s, seed %d, %s, %s%n", threads, seconds, runSeed,
                    stressHeap.describe(), stressHeap.heap());
            out.flush();
            result = new StressWorkload(stressHeap.options(threads, Duration.ofSeconds(seconds), runSeed),
                    line -> {
                        out.println(line);
                        out.flush();
                    }).run();
            result.summaryLines().forEach(out::println);
            out.flush();
        }
        if (faults) {
            long unreleased = stressHeap.unreleasedBytes();
            out.println(unreleased == 0 ? "close       every page-source reservation released"
                    : "close       FAIL: " + unreleased + " bytes still reserved through the page source");
            out.flush();
            return result.clean() && unreleased == 0 ? 0 : 1;
        }
        return result.clean() ? 0 : 1;
    }
}
