package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
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
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code hakmem learn}: the adaptive layer at work where people can watch it. A learning heap runs the phase-shift
 * workload (json, mir, vm, mixed, the lifetime mix, in turn) for {@code --cycles} cycles; the command prints each
 * learning window as it closes (the phases that ran in it, the learner's state, the trial, the cost, the knobs in
 * force) and a progress line at each phase, then writes {@code windows.csv}, {@code learn.png} and the best policy
 * as {@code policy.json}, the file {@code hakmem-frozen} and {@code hakmem.policy} start from. With
 * {@code --compare} it runs the hand search of issue 10 instead ({@link Compare}).
 *
 * <p>The command's thread polls {@link HakMem#learningHistory()} every {@value #POLL_MILLIS} ms, the maintenance
 * tick at which windows close, so it reads each window long before it leaves the history (256 windows); a
 * {@link WindowReader} labels each with the phases that ran during it.
 */
@Command(name = "learn",
        description = {
                "Runs the phase-shift workload (json, mir, vm, mixed, lifetime_mix) on a learning",
                "heap and prints each learning window as it closes: the phases in it, the state",
                "(LEARN, FROZEN, CANARY), the cost, the knobs in force and what the window tried.",
                "Writes windows.csv, learn.png (the knobs and the cost over time) and policy.json",
                "(the best policy, for hakmem.policy and hakmem-frozen) under --out.",
                "With --compare: runs each phase alone under the default policy, a coordinate",
                "search of static policies and a learning heap, measures all with one external",
                "cost, and says whether learning matches the best static policy and beats the",
                "default by 20%% where the default is wrong (compare.csv, compare.md)."},
        mixinStandardHelpOptions = true)
public final class LearnCommand implements Callable<Integer> {
    /** How often the history is read: the maintenance thread's tick, at which windows close. */
    static final long POLL_MILLIS = 20;

    @Spec
    private CommandSpec spec;

    @Option(names = "--cycles", paramLabel = "N", defaultValue = "2",
            description = "Cycles through the phases (default: ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--phase-seconds", paramLabel = "S", defaultValue = "20",
            description = {"Length of each phase; with --compare, of each configuration's run",
                    "(default: ${DEFAULT-VALUE})."})
    double phaseSeconds;

    @Option(names = "--window-ms", paramLabel = "MS", defaultValue = "250",
            description = "The learner's window, and the compare's measured window (default: ${DEFAULT-VALUE}).")
    long windowMillis;

    @Option(names = "--memory-weight", paramLabel = "W", defaultValue = "0.5",
            description = "Weight of memory against time in the cost, [0, 10] (default: ${DEFAULT-VALUE}).")
    double memoryWeight;

    @Option(names = "--seed", paramLabel = "X", defaultValue = "" + HakMemConfig.DEFAULT_LEARN_SEED,
            description = {"The learner's seed; the same seed and measurements make the same choices",
                    "(default: ${DEFAULT-VALUE})."})
    long seed;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "1",
            description = "Threads of the workload (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/learn",
            description = "Where the files go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--policy-out", paramLabel = "FILE",
            description = "Also write the best policy here (e.g. bench/frozen-policy.json for hakmem-frozen).")
    Path policyOut;

    @Option(names = "--compare", description = "Run the hand search of static policies against learning instead.")
    boolean compare;

    @Option(names = "--phases", paramLabel = "P[,P...]", split = ",",
            description = {"With --compare: the phases to search, in this order (default: all of them,",
                    "json,mir,vm,mixed,lifetime_mix); one phase fits a shared machine's timing slot."})
    List<String> phases;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "1",
            description = {"With --compare: after each phase's search, N - 1 rounds of the default, the best static",
                    "policy and learning, whose paired ratios' medians give the verdicts (default: ${DEFAULT-VALUE}:",
                    "the search's runs give them)."})
    int rounds;

    @Override
    public Integer call() throws IOException, InterruptedException {
        HakMemConfig config = learningConfig();
        List<Workload> compared = compare ? comparedPhases() : List.of();
        PrintWriter stdout = spec.commandLine().getOut();
        Files.createDirectories(out);
        if (compare) {
            return new Compare(config, phaseSeconds, threads, rounds, out, stdout).run(compared) ? 0 : 1;
        }
        return learn(config, stdout);
    }

    /**
     * The learning heap's configuration: mode LEARNING from the default policy, with the command's window, weight
     * and seed; also checks the other options.
     *
     * @throws ParameterException naming the option that is out of range
     */
    HakMemConfig learningConfig() {
        check(cycles >= 1, "--cycles must be at least 1: " + cycles);
        check(phaseSeconds > 0, "--phase-seconds must be more than 0: " + phaseSeconds);
        check(threads >= 1, "--threads must be at least 1: " + threads);
        check(phases == null || compare, "--phases needs --compare");
        check(rounds >= 1, "--rounds must be at least 1: " + rounds);
        check(rounds == 1 || compare, "--rounds needs --compare");
        HakMemConfig.Builder b = HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING).learnSeed(seed);
        try {
            b.learnWindowMillis(windowMillis);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--window-ms: " + e.getMessage());
        }
        try {
            b.memoryWeight(memoryWeight);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--memory-weight: " + e.getMessage());
        }
        HakMemConfig config = b.build();
        // A static run's first window never counts, and a median wants a few more.
        check(!compare || phaseSeconds * 1000 >= 4 * windowMillis, "--compare needs --phase-seconds of at least 4"
                + " windows (--window-ms " + windowMillis + "): " + phaseSeconds);
        return config;
    }

    /**
     * The phases {@code --compare} searches: those named by {@code --phases}, in its order, or all of them.
     *
     * @throws ParameterException naming a phase that does not exist or is named twice
     */
    List<Workload> comparedPhases() {
        if (phases == null) {
            return Workloads.PHASES;
        }
        List<Workload> chosen = new ArrayList<>();
        for (String name : phases) {
            Workload phase = Workloads.PHASES.stream().filter(w -> w.name().equals(name)).findFirst()
                    .orElseThrow(() -> new ParameterException(spec.commandLine(), "--phases: no phase " + name
                            + "; the phases are " + Workloads.PHASES.stream().map(Workload::name).toList()));
            check(!chosen.contains(phase), "--phases: " + name + " named twice");
            chosen.add(phase);
        }
        return chosen;
    }

    private void check(boolean condition, String message) {
        if (!condition) {
            throw new ParameterException(spec.commandLine(), message);
        }
    }

    private int learn(HakMemConfig config, PrintWriter stdout) throws IOException, InterruptedException {
        long phaseMillis = Math.max(1, Math.round(phaseSeconds * 1000));
        long phaseNanos = phaseMillis * 1_000_000L;
        int phases = cycles * Workloads.PHASES.size();
        PhaseLog log = new PhaseLog();
        Workload workload = Workloads.phaseShift(phaseMillis, phase -> log.begin(phase.name(), System.nanoTime()));
        // Until the last phase has run its length: PhaseShift asks before each phase and within each.
        Budget budget = done -> log.begun() < phases || System.nanoTime() - log.last().nanos() < phaseNanos;
        stdout.printf("hakmem learn: %s; cycles %d (%.0f s), threads %d; learning windows of %d ms, memory weight"
                        + " %s, seed %d%n", workload.description(), cycles, phases * phaseMillis / 1e3, threads,
                windowMillis, memoryWeight, seed);
        stdout.println(LearnedWindow.HEADER);
        stdout.flush();
        List<LearnedWindow> windows = new ArrayList<>();
        try (HakMemPeer peer = HakMemPeer.sited(HakMemPeer.LEARNING, config)) {
            HakMem heap = peer.heap();
            long start = System.nanoTime();
            WindowReader reader = new WindowReader(heap::learningHistory, log, windowMillis * 1_000_000L, start);
            Background run = Background.start("learn-workload", () -> workload.run(peer, threads, budget));
            int announced = 0;
            boolean ended;
            do {
                ended = run.ended(POLL_MILLIS);
                for (LearnedWindow w : reader.read(System.nanoTime())) {
                    windows.add(w);
                    stdout.println(w.line());
                }
                stdout.flush();
                for (; announced < log.begun(); announced++) {
                    progress(announced, start, phases * phaseMillis, windows, heap, stdout);
                }
            } while (!ended);
            Throwable failure = run.join();
            HakMemStats stats = heap.stats();
            Policy best = LearnedWindow.best(windows, heap.policy());
            summary(windows, stats, heap.learningState(), best, (System.nanoTime() - start) / 1e9, stdout);
            if (reader.lost() > 0) {
                stdout.printf("%d windows left the heap's history before they were read%n", reader.lost());
            }
            write(windows, best, stdout);
            if (failure != null) {
                stdout.println("FAILED: the workload failed: " + failure);
                stdout.flush();
                return 1;
            }
        }
        return 0;
    }

    /** The progress line at the start of phase {@code index} (from 0). */
    private void progress(int index, long start, long totalMillis, List<LearnedWindow> windows, HakMem heap,
                          PrintWriter stdout) {
        int perCycle = Workloads.PHASES.size();
        stdout.printf("-- phase %d of %d: %s (cycle %d of %d) at %.1f s of %.0f s; %d windows so far, state %s,"
                        + " in force: %s%n", index + 1, cycles * perCycle,
                Workloads.PHASES.get(index % perCycle).name(), index / perCycle + 1, cycles,
                (System.nanoTime() - start) / 1e9, totalMillis / 1e3, windows.size(), heap.learningState(),
                PolicyText.describe(heap.policy()));
        stdout.flush();
    }

    private static void summary(List<LearnedWindow> windows, HakMemStats stats, LearningState state, Policy best,
                                double seconds, PrintWriter stdout) {
        Map<LearningState, Long> byState = new EnumMap<>(LearningState.class);
        windows.forEach(w -> byState.merge(w.window().state(), 1L, Long::sum));
        long scored = windows.stream().filter(w -> !Double.isNaN(w.window().cost())).count();
        stdout.printf("%nlearned for %.1f s: %d windows (%s; %d scored), %d policy changes adopted, %d trial"
                        + " windows, %d state transitions; state now %s%n", seconds, windows.size(),
                byState.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                        .collect(Collectors.joining(", ")), scored, stats.events().policyChanges(),
                stats.events().policyTrials(), stats.events().learningTransitions(), state);
        stdout.println("best policy: " + PolicyText.describe(best));
    }

    private void write(List<LearnedWindow> windows, Policy best, PrintWriter stdout) throws IOException {
        Path csv = out.resolve("windows.csv");
        Path chart = out.resolve("learn.png");
        Path policy = out.resolve("policy.json");
        // The data first: a chart that cannot be drawn must not lose the learned policy.
        Files.writeString(csv, LearnedWindow.csv(windows));
        Files.writeString(policy, best.toJson());
        String also = "";
        if (policyOut != null) {
            Path parent = policyOut.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(policyOut, best.toJson());
            also = " and " + policyOut;
        }
        LearnChart.write(chart, windows);
        stdout.printf("wrote %s, %s, %s%s%n", csv, chart, policy, also);
        stdout.flush();
    }
}
