package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.Workloads;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.concurrent.Callable;

/**
 * {@code hakmem sites}: a workload on a hakmem heap whose site hints go to sites, then the table of the sites'
 * profiles ({@link HakMemStats#sites()}) and the rule the policy in force gives each. The profiles are taken shortly
 * before the run ends, while the workload still holds its blocks, so that the live column means something.
 */
@Command(name = "sites",
        description = {
                "Runs a workload on a hakmem heap whose site hints (parse, cache) go to sites,",
                "then prints each site's profile: estimated allocations and bytes, median and",
                "p90 lifetime of the sampled blocks, sampled blocks live, the share freed by",
                "another thread, and the rule in force for it (long-lived, direct)."},
        mixinStandardHelpOptions = true)
public final class SitesCommand implements Callable<Integer> {
    /** The profiles are taken this long before the end, or a tenth of the run if that is shorter. */
    private static final long BEFORE_END_NANOS = 250_000_000L;
    private static final double MiB = 1 << 20;

    @Spec
    private CommandSpec spec;

    @Option(names = "--workload", paramLabel = "NAME", defaultValue = Workloads.LIFETIME_MIX,
            description = "The workload (default: ${DEFAULT-VALUE}; ./hakmem bench --list shows them).")
    String workload;

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "5",
            description = "How long it runs (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "learning", converter = ModeConverter.class,
            description = "The heap's mode: minimal, fast, balanced, learning or research (default: ${DEFAULT-VALUE})."
                    + " Only learning modes set site rules.")
    HakMemConfig.Mode mode;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
            description = "Threads of the workload (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--window-ms", paramLabel = "MS", defaultValue = "" + HakMemPeer.LEARN_WINDOW_MILLIS,
            description = {"The learner's window, hakmem-learning's by default: rules are decided once a window",
                    "(a site is long-lived when 75%% of its sampled blocks outlive 10 ms) (default: ${DEFAULT-VALUE})."})
    long windowMillis;

    @Override
    public Integer call() throws InterruptedException {
        Workload w;
        try {
            w = Workloads.named(workload);
        } catch (NoSuchElementException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        check(seconds > 0, "--seconds must be more than 0: " + seconds);
        check(threads >= 1, "--threads must be at least 1: " + threads);
        HakMemConfig config;
        try {
            config = HakMemConfig.builder().mode(mode).learnWindowMillis(windowMillis).build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--window-ms: " + e.getMessage());
        }
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("hakmem sites: %s (%s), %.1f s, %d thread(s), mode %s%n", w.name(), w.description(), seconds,
                threads, mode.name().toLowerCase(Locale.ROOT));
        stdout.flush();
        try (HakMemPeer peer = HakMemPeer.sited(HakMemPeer.NAME, config)) {
            HakMem heap = peer.heap();
            long start = System.nanoTime();
            long runNanos = (long) (seconds * 1e9);
            Background run = Background.start("sites-workload",
                    () -> w.run(peer, threads, Budget.until(start + runNanos)));
            long before = Math.min(BEFORE_END_NANOS, runNanos / 10);
            run.ended(Math.max(0, (runNanos - before) / 1_000_000));
            HakMemStats stats = heap.stats();
            Policy policy = heap.policy();
            double at = (System.nanoTime() - start) / 1e9;
            Throwable failure = run.join();
            stdout.printf("profiles at %.2f s (the learner %s), %d sites:%n", at, heap.learningState(),
                    stats.sites().size());
            stdout.print(table(stats.sites(), policy));
            stdout.printf("policy in force: %s%n", PolicyText.describe(policy));
            if (failure != null) {
                stdout.println("FAILED: the workload failed: " + failure);
                stdout.flush();
                return 1;
            }
        }
        stdout.flush();
        return 0;
    }

    private void check(boolean condition, String message) {
        if (!condition) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    /** The profiles, in their order, with the rule {@code policy} gives each site. */
    static String table(List<SiteProfile> sites, Policy policy) {
        StringBuilder text = new StringBuilder(String.format(Locale.ROOT, "  %-28s %12s %11s %10s %10s %7s %7s  %s%n",
                "site", "allocations", "MiB", "p50 life", "p90 life", "live", "remote", "rule"));
        for (SiteProfile p : sites) {
            text.append(String.format(Locale.ROOT, "  %-28s %12d %11.1f %10s %10s %7d %6.1f%%  %s%n", p.name(),
                    p.allocations(), p.bytes() / MiB, lifetime(p.lifetimes(), p.medianLifetimeNanos()),
                    lifetime(p.lifetimes(), p.p90LifetimeNanos()), p.liveSamples(), 100 * p.remoteFreeShare(),
                    PolicyText.rule(policy.site(p.name()))));
        }
        return text.toString();
    }

    /** A lifetime as people read it (850 ns, 12.3 us, 4.5 ms, 1.23 s); "-" when none was measured. */
    static String lifetime(long measured, long nanos) {
        if (measured == 0) {
            return "-";
        }
        if (nanos < 1_000) {
            return nanos + " ns";
        }
        if (nanos < 1_000_000) {
            return String.format(Locale.ROOT, "%.1f us", nanos / 1e3);
        }
        return nanos < 1_000_000_000 ? String.format(Locale.ROOT, "%.1f ms", nanos / 1e6)
                : String.format(Locale.ROOT, "%.2f s", nanos / 1e9);
    }

    /** A mode in any case, as {@code hakmem.mode} takes it. */
    static final class ModeConverter implements ITypeConverter<HakMemConfig.Mode> {
        @Override
        public HakMemConfig.Mode convert(String value) {
            try {
                return HakMemConfig.Mode.valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("not a mode: '" + value
                        + "' (minimal, fast, balanced, learning or research)");
            }
        }
    }
}
