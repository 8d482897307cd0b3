package dev.hakmem.cli;

import dev.hakmem.GuardOptions;
import dev.hakmem.stress.BugHunt;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.ToLongFunction;

/** Runs {@link BugHunt} over seeded runs and prints the distribution of the time to the first report of each bug. */
@Command(name = "bughunt",
        description = {
                "Sampled guard mode's bug hunt: a program that overflows 1 block in 100,000 by one",
                "byte at one site and writes after free into 1 in 100,000 at another runs on a heap",
                "in sampled guard mode until both are reported with their allocating and freeing",
                "stacks, once per seed. Prints each seed's times to the first report and their",
                "distribution; exit code 0 only when at least 99%% of the runs found both bugs."},
        mixinStandardHelpOptions = true)
final class BugHuntCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "10", description = "Runs (default: ${DEFAULT-VALUE}).")
    private int seeds;

    @Option(names = "--first-seed", paramLabel = "S", defaultValue = "1", description = "Seed of the first run; the others follow (default: ${DEFAULT-VALUE}), so that runs can be split across processes.")
    private long firstSeed;

    @Option(names = "--rate", paramLabel = "N", description = "Sample 1 allocation in N (default: the default rate, ${DEFAULT-VALUE}).")
    private int rate = GuardOptions.DEFAULT_SAMPLE_RATE;

    @Option(names = "--max-seconds", paramLabel = "S", defaultValue = "2400", description = "Length of a run: a bug not reported by then is missed (default: ${DEFAULT-VALUE}).")
    private double maxSeconds;

    /** The largest --max-millions whose count of allocations fits a long: the default, no bound. */
    private static final long UNBOUNDED_MILLIONS = Long.MAX_VALUE / 1_000_000;

    @Option(names = "--max-millions", paramLabel = "M", description = "Length of a run in allocations, millions: a bug not reported by then is missed whatever the machine's load (default: no bound).")
    private long maxMillions = UNBOUNDED_MILLIONS;

    @Override
    public Integer call() {
        if (seeds < 1 || rate < 1 || maxSeconds <= 0 || maxMillions < 1) {
            throw new ParameterException(spec.commandLine(),
                    "--seeds, --rate, --max-seconds and --max-millions must be positive");
        }
        if (maxMillions > UNBOUNDED_MILLIONS) {
            // A count of allocations that overflowed a long would end every run at once, each bug "missed".
            throw new ParameterException(spec.commandLine(), "--max-millions must be at most " + UNBOUNDED_MILLIONS);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "hakmem bughunt: seeds %d..%d, sampled guard 1 in %d, runs of at most %.0f s and %,d M allocations%n",
                firstSeed, firstSeed + seeds - 1, rate, maxSeconds, maxMillions);
        List<BugHunt.Result> results = new ArrayList<>();
        for (long seed = firstSeed; seed < firstSeed + seeds; seed++) {
            BugHunt.Result r = BugHunt.run(seed, rate, (long) (maxSeconds * 1e9), maxMillions * 1_000_000);
            results.add(r);
            out.printf(Locale.ROOT, "seed %3d  overflow %s %s  write after free %s %s  (%,d allocations)%n", seed,
                    seconds(r.overflowNanos()), millions(r.overflowAllocations()), seconds(r.writeAfterFreeNanos()),
                    millions(r.writeAfterFreeAllocations()), r.allocations());
            out.flush();
        }
        long found = results.stream().filter(BugHunt.Result::found).count();
        out.printf(Locale.ROOT, "both bugs reported in %d of %d runs%n", found, seeds);
        summary(out, "overflow", results, BugHunt.Result::overflowNanos, BugHunt.Result::overflowAllocations);
        summary(out, "write after free", results, BugHunt.Result::writeAfterFreeNanos,
                BugHunt.Result::writeAfterFreeAllocations);
        out.flush();
        return found * 100 >= 99L * seeds ? 0 : 1;
    }

    private static String seconds(long nanos) {
        return nanos < 0 ? "  missed" : String.format(Locale.ROOT, "%7.1f s", nanos / 1e9);
    }

    private static String millions(long allocations) {
        return allocations < 0 ? "" : String.format(Locale.ROOT, "(%,.0f M allocations)", allocations / 1e6);
    }

    /**
     * Percentiles of the time to the first report over the runs that found the bug, in seconds and in allocations
     * (which do not depend on the machine's load).
     */
    private static void summary(PrintWriter out, String bug, List<BugHunt.Result> results,
                                ToLongFunction<BugHunt.Result> nanos, ToLongFunction<BugHunt.Result> allocations) {
        long[] t = sorted(results, nanos);
        if (t.length == 0) {
            out.printf("%-17s never reported%n", bug);
            return;
        }
        long[] a = sorted(results, allocations);
        out.printf(Locale.ROOT, "%-17s reported in %d runs; time to first report: min %.1f s, median %.1f s, "
                        + "p90 %.1f s, p99 %.1f s, max %.1f s%n", bug, t.length, t[0] / 1e9, at(t, 0.5) / 1e9,
                at(t, 0.9) / 1e9, at(t, 0.99) / 1e9, t[t.length - 1] / 1e9);
        out.printf(Locale.ROOT, "%-17s allocations to first report, millions: min %,.0f, median %,.0f, p90 %,.0f, "
                        + "p99 %,.0f, max %,.0f%n", "", a[0] / 1e6, at(a, 0.5) / 1e6, at(a, 0.9) / 1e6,
                at(a, 0.99) / 1e6, a[a.length - 1] / 1e6);
    }

    private static long[] sorted(List<BugHunt.Result> results, ToLongFunction<BugHunt.Result> value) {
        return results.stream().mapToLong(value).filter(n -> n >= 0).sorted().toArray();
    }

    private static long at(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    }
}
