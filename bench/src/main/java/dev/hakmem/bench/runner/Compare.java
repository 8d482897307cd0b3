package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.WorkloadFailure;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.DoubleStream;

/**
 * {@code hakmem learn --compare}: the hand search of issue 10, "after convergence, learning at least matches the best
 * static configuration you can find by hand on each phase, and beats the default configuration by at least 20% in
 * cost on the phases where the default is wrong". For each phase of the phase shift, after a warm-up
 * ({@link #warmUp}), run alone for {@code --phase-seconds} on a fresh heap each time:
 * <ol>
 *   <li>the default policy;</li>
 *   <li>a coordinate search of static policies: one knob at a time, in the learner's order, over the learner's
 *       candidates ({@link #LADDERS}), each knob from the best policy found so far, which then takes the knob's best
 *       value; then, for each site the workload allocates from, its rule (none or long-lived), as a person who
 *       knows which site keeps its blocks would set it;</li>
 *   <li>a learning heap (mode LEARNING from the default policy, the command's window, weight and seed).</li>
 * </ol>
 * Every run is measured the same way, from outside the heap and from public data only ({@link HeapProbe}): the
 * command's thread cuts it into windows of {@code --window-ms} and computes each window's
 * {@link ExternalWindow#cost}; a run's cost is the median over its counted windows. A static run counts every window but the first (the thread's start and
 * the first mappings); the learning run counts the windows from the first one that began with the learner FROZEN
 * or CANARY, or, if it never left LEARN, the last half (the table says which).
 *
 * <p>The verdicts: learning matches the best static policy when its cost is at most {@value #MATCH}x the best's
 * (the 2% of noise); the default is wrong on a phase when the best static policy costs at most
 * {@value #DEFAULT_WRONG}x the default's (8% cheaper, the learner's own threshold of a real improvement), and there
 * learning must cost at most {@value #BEAT_DEFAULT}x the default's. One run per configuration: the best static
 * policy is the cheapest of about 17 noisy runs, a minimum biased low, which makes "matches" harder, not easier.
 *
 * <p>With {@code --rounds N} above 1, N - 1 confirmation rounds follow each phase's search, each a run of the
 * default, the best static policy and learning, in an order that rotates by round ({@link Round}); the verdicts then
 * take the median over the rounds of each round's ratio, and the search's own runs only choose the best static
 * policy. On a shared machine the throughput of consecutive runs swung by 4x (a static json run at 6.6 Mops/s, the
 * next at 23.7), so one run per configuration mostly ranks the machine's moments: paired rounds cancel its drift
 * between rounds and the minimum's bias.
 */
final class Compare {
    static final double MATCH = 1.02;
    static final double DEFAULT_WRONG = 0.92;
    static final double BEAT_DEFAULT = 0.80;
    /** The longest warm-up of a phase before its search. */
    static final long WARMUP_NANOS = 2_000_000_000L;
    /**
     * The most a run goes on past {@code --phase-seconds} while it has no cost. On a loaded machine (load 8 on 2
     * cores) a run of 0.3 s once ended with 2 windows and no operation in the counted one (nothing even mapped): a
     * run without a cost is never the cheapest, so a stalled candidate dropped out of the search, and a stalled
     * default left the phase's ratios NaN.
     */
    static final long EXTENSION_NANOS = 10_000_000_000L;

    /** A knob of the search: for a policy, the policies with the knob at each candidate, in the ladder's order. */
    record Knob(String name, List<UnaryOperator<Policy.Builder>> settings) {
        List<Policy> candidates(Policy base) {
            return settings.stream().map(s -> s.apply(base.toBuilder()).build()).toList();
        }
    }

    /** The learner's knobs and candidates, in its order (docs/ADAPTIVE.md, "What is learned"). */
    static final List<Knob> LADDERS = List.of(
            ladder("wMax", Policy.Builder::wMax, 1.0625, 1.125, 1.25, 1.5, 2),
            ladder("bigThreshold", (b, v) -> b.bigThreshold(v.longValue()), 64 << 10, 128 << 10, 256 << 10,
                    512 << 10, 1 << 20),
            ladder("retainBytes", (b, v) -> b.retainBytes(v.longValue()), 0, 16 << 20, 64 << 20, 256 << 20),
            ladder("purgeDelayMillis", (b, v) -> b.purgeDelayMillis(v.longValue()), 0, 50, 250, 1000, 5000));

    private final HakMemConfig learning;
    private final long phaseNanos;
    private final long windowNanos;
    private final int threads;
    private final int rounds;
    private final Path out;
    private final PrintWriter stdout;
    /** Every run finished so far, in order. */
    private final List<ConfigRun> runs = new ArrayList<>();

    /**
     * {@code learning} is the learning heap's configuration; its window and memory weight are the compare's.
     * {@code rounds} is at least 1: the search's, then the confirmation rounds.
     */
    Compare(HakMemConfig learning, double phaseSeconds, int threads, int rounds, Path out, PrintWriter stdout) {
        if (rounds < 1) {
            throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
        }
        this.learning = learning;
        this.rounds = rounds;
        this.phaseNanos = (long) (phaseSeconds * 1e9);
        this.windowNanos = learning.learnWindowMillis() * 1_000_000L;
        this.threads = threads;
        this.out = out;
        this.stdout = stdout;
    }

    private static Knob ladder(String name, BiFunction<Policy.Builder, Double, Policy.Builder> set,
                               double... values) {
        return new Knob(name, DoubleStream.of(values)
                .mapToObj(v -> (UnaryOperator<Policy.Builder>) b -> set.apply(b, v)).toList());
    }

    /** A site's rule: none, or long-lived. */
    static Knob siteRule(String site) {
        return new Knob("site " + site, List.of(b -> without(b, site), b -> b.site(new Policy.SiteRule(site, true,
                false))));
    }

    private static Policy.Builder without(Policy.Builder b, String site) {
        List<Policy.SiteRule> kept = b.build().sites().values().stream().filter(r -> !r.site().equals(site)).toList();
        b.clearSites();
        kept.forEach(b::site);
        return b;
    }

    /**
     * Searches every phase, prints a table and the verdicts per phase as it ends, then writes compare.csv,
     * compare-windows.csv and compare.md under the output directory, also after a failure (with what was measured).
     *
     * @return false when a run failed
     */
    boolean run(List<Workload> phases) throws IOException, InterruptedException {
        int perPhase = 2 + LADDERS.stream().mapToInt(k -> k.settings().size() - 1).sum() + 3 * (rounds - 1);
        stdout.printf("hakmem learn --compare: %d phases, %d runs of %.1f s each (more on phases with sites), about"
                        + " %.1f min; windows of %d ms, memory weight %s, learning seed %d%n", phases.size(), perPhase,
                phaseNanos / 1e9, phases.size() * perPhase * phaseNanos / 60e9, windowNanos / 1_000_000,
                learning.memoryWeight(), learning.learnSeed());
        stdout.flush();
        List<PhaseResult> results = new ArrayList<>();
        String failure = null;
        try {
            for (Workload phase : phases) {
                PhaseResult result = search(phase);
                results.add(result);
                stdout.print(CompareReport.table(result));
                stdout.flush();
            }
        } catch (RunFailure e) {
            failure = e.getMessage();
        }
        stdout.print(CompareReport.summary(results));
        Files.writeString(out.resolve("compare.csv"), CompareReport.csv(runs, results));
        Files.writeString(out.resolve("compare-windows.csv"), CompareReport.windowsCsv(runs));
        Files.writeString(out.resolve("compare.md"), CompareReport.markdown(results, learning, phaseNanos));
        stdout.printf("wrote %s, %s and %s%n", out.resolve("compare.csv"), out.resolve("compare-windows.csv"),
                out.resolve("compare.md"));
        if (failure != null) {
            stdout.println("FAILED: " + failure);
        }
        stdout.flush();
        return failure == null;
    }

    /** The default, the coordinate search from it, and learning, on one phase. */
    private PhaseResult search(Workload phase) throws InterruptedException {
        List<Knob> knobs = new ArrayList<>(LADDERS);
        warmUp(phase).forEach(site -> knobs.add(siteRule(site)));
        ConfigRun defaults = measureStatic(phase, Policy.defaults());
        List<ConfigRun> statics = new ArrayList<>(List.of(defaults));
        ConfigRun best = defaults;
        for (Knob knob : knobs) {
            ConfigRun bestOfKnob = best;
            for (Policy candidate : knob.candidates(best.policy())) {
                if (candidate.equals(best.policy())) {
                    continue;
                }
                ConfigRun r = measureStatic(phase, candidate);
                statics.add(r);
                if (cheaper(r, bestOfKnob)) {
                    bestOfKnob = r;
                }
            }
            best = bestOfKnob;
        }
        ConfigRun learned = measure(phase, "learning", learning, true);
        List<Round> confirmed = new ArrayList<>();
        for (int r = 1; r < rounds; r++) {
            String label = " (round " + (r + 1) + ")";
            ConfigRun[] run = new ConfigRun[3];
            for (int k = 0; k < 3; k++) {
                int which = (k + r) % 3;
                run[which] = switch (which) {
                    case 0 -> measure(phase, "default" + label, staticConfig(Policy.defaults()), false);
                    case 1 -> measure(phase, PolicyText.describe(best.policy()) + label, staticConfig(best.policy()),
                            false);
                    default -> measure(phase, "learning" + label, learning, true);
                };
            }
            confirmed.add(new Round(run[0], run[1], run[2]));
        }
        return new PhaseResult(phase, defaults, statics, best, learned, confirmed);
    }

    /**
     * A confirmation round: the default, the best static policy and learning, run one after the other (the first of
     * round r is {@code r mod 3} in this order, so that each goes first, second and third in turn).
     */
    record Round(ConfigRun defaults, ConfigRun bestStatic, ConfigRun learning) {
    }

    /** Whether {@code a} costs less than {@code b}; a run without a cost (no operation counted) costs the most. */
    static boolean cheaper(ConfigRun a, ConfigRun b) {
        return !Double.isNaN(a.cost()) && (Double.isNaN(b.cost()) || a.cost() < b.cost());
    }

    /**
     * Runs the phase for {@link #WARMUP_NANOS} (or its length, if shorter) on a heap of the default policy before
     * its search, as the bench runner warms up: the JIT compiles the phase before the default's run, which would
     * otherwise pay for it alone. Returns the sites of the hints the phase allocates from, whose rules the search
     * then tries.
     */
    private List<String> warmUp(Workload phase) {
        try (HakMemPeer peer = HakMemPeer.sited(HakMemPeer.NAME, HakMemConfig.defaults())) {
            HintsSeen seen = new HintsSeen(peer);
            phase.run(seen, threads, Budget.until(System.nanoTime() + Math.min(phaseNanos, WARMUP_NANOS)));
            return seen.sites();
        } catch (WorkloadFailure e) {
            throw new RunFailure(phase.name() + " warm-up: " + e.getMessage(), e);
        }
    }

    private ConfigRun measureStatic(Workload phase, Policy policy) throws InterruptedException {
        return measure(phase, PolicyText.describe(policy), staticConfig(policy), false);
    }

    private static HakMemConfig staticConfig(Policy policy) {
        return HakMemConfig.builder().mode(HakMemConfig.Mode.BALANCED).policy(policy).build();
    }

    /**
     * One run of {@code phase} for {@code --phase-seconds} on a new heap of {@code config}, cut into windows at
     * fixed edges from its start ({@link #nextEdge}); the windows end before the run's deadline, so none holds the
     * final frees. A run that has no cost at its deadline (none of its counted windows saw an operation) goes on a
     * window at a time, for at most {@link #EXTENSION_NANOS} more.
     */
    ConfigRun measure(Workload phase, String config, HakMemConfig heapConfig, boolean learns)
            throws InterruptedException {
        List<ConfigRun.Measured> windows = new ArrayList<>();
        double weight = learning.memoryWeight();
        long started = System.nanoTime();
        Policy atEnd;
        RuntimeException refused = null;
        try (HakMemPeer peer = HakMemPeer.sited(learns ? HakMemPeer.LEARNING : HakMemPeer.FROZEN, heapConfig)) {
            HakMem heap = peer.heap();
            long deadline = System.nanoTime() + phaseNanos;
            HeapProbe last = HeapProbe.read(heap);
            LearningState state = heap.learningState();
            // NOTE: the workload stops when this thread says so, not at a deadline of its own: a workload that
            // stopped by the clock could end while this thread, descheduled, was deciding to extend the run. The
            // flag is set after the last window's probe, so no window holds the final frees either way.
            AtomicBoolean stop = new AtomicBoolean();
            Background run = Background.start("compare-workload",
                    () -> phase.run(peer, threads, done -> !stop.get()));
            boolean ended = false;
            try {
                for (long edge = last.nanos() + windowNanos; !ended;
                     edge = nextEdge(edge, System.nanoTime(), windowNanos)) {
                    long late = edge - deadline;
                    if (late >= 0 && (late >= EXTENSION_NANOS
                            || !Double.isNaN(result(phase, config, heap.policy(), windows, learns).cost()))) {
                        break;
                    }
                    ended = sleepUntil(edge, run);
                    if (!ended) {
                        HeapProbe now = HeapProbe.read(heap);
                        ExternalWindow w = now.since(last);
                        windows.add(new ConfigRun.Measured(w, state, w.cost(weight)));
                        state = heap.learningState();
                        last = now;
                    }
                }
            } catch (RuntimeException e) {
                // A window refused (a negative count is a bug in the heap's stats, never clamped): the windows before
                // it are kept and written, and the workload stops before its heap closes.
                refused = e;
            } finally {
                stop.set(true);
            }
            Throwable failure = run.join();
            if (failure != null) {
                throw new RunFailure(phase.name() + " " + config + ": " + failure, failure);
            }
            atEnd = heap.policy();
        }
        ConfigRun result = result(phase, config, atEnd, windows, learns);
        runs.add(result);
        stdout.printf("[%d] %s %s: cost %s, %s Mops/s, peak committed %s (%.1f s)%s%n", runs.size(), phase.name(),
                config, CompareReport.cost(result.cost()), ResultTable.mops(result.mops()),
                CompareReport.mib(result.peakCommitted()), (System.nanoTime() - started) / 1e9,
                result.note().isEmpty() ? "" : "; " + result.note());
        stdout.flush();
        if (refused != null) {
            throw new RunFailure(phase.name() + " " + config + ": window " + (windows.size() + 1) + " refused: "
                    + refused.getMessage(), refused);
        }
        return result;
    }

    /** A run's windows, counted as a learning run's or a static run's. */
    private ConfigRun result(Workload phase, String config, Policy policy, List<ConfigRun.Measured> windows,
                             boolean learns) {
        return learns ? ConfigRun.learning(phase.name(), config, policy, windows, windowNanos)
                : ConfigRun.fixed(phase.name(), config, policy, windows);
    }

    /**
     * The edge that ends the next window after the one that ended at {@code edge}, read at {@code now}: the first
     * edge of the run's grid after {@code now}. A window the command's thread was late for (descheduled on a loaded
     * machine) runs to the next edge still ahead, rather than the edges it missed each making a window of a few
     * microseconds: after a stall of 441 ms, 21 such windows of no operation were each counted as 0 Mops/s, and a
     * learning run's median throughput read 0.
     */
    static long nextEdge(long edge, long now, long windowNanos) {
        long late = now - edge;
        return edge + windowNanos * (late < 0 ? 1 : late / windowNanos + 1);
    }

    /** Sleeps until {@code nanoTime} reaches {@code edge}; true if the run ended first (it should not). */
    private static boolean sleepUntil(long edge, Background run) throws InterruptedException {
        long left;
        while ((left = edge - System.nanoTime()) > 0) {
            if (run.ended(Math.max(1, Duration.ofNanos(left).toMillis()))) {
                return true;
            }
        }
        return false;
    }

    /** A run failed: the search stops, what was measured is still written. */
    private static final class RunFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RunFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * The runs of one phase and the verdicts on them: from the search's runs, or, with confirmation rounds, the
     * median over the rounds of each round's ratio.
     */
    record PhaseResult(Workload phase, ConfigRun defaults, List<ConfigRun> statics, ConfigRun bestStatic,
                       ConfigRun learning, List<Round> rounds) {

        double learningVsBest() {
            return ratio(Round::learning, Round::bestStatic);
        }

        double learningVsDefault() {
            return ratio(Round::learning, Round::defaults);
        }

        double bestVsDefault() {
            return ratio(Round::bestStatic, Round::defaults);
        }

        private double ratio(Function<Round, ConfigRun> a, Function<Round, ConfigRun> b) {
            List<Round> paired = rounds.isEmpty() ? List.of(new Round(defaults, bestStatic, learning)) : rounds;
            return Stats.median(paired.stream().map(r -> a.apply(r).cost() / b.apply(r).cost()).toList());
        }

        /** How the ratios were taken, for the verdicts: empty for the search's runs. */
        private String over() {
            return rounds.isEmpty() ? "" : rounds.size() == 1 ? " (1 round)"
                    : String.format(Locale.ROOT, " (median of %d rounds)", rounds.size());
        }

        boolean matchesBest() {
            return learningVsBest() <= MATCH;
        }

        /** The best static policy is clearly cheaper than the default here. */
        boolean defaultWrong() {
            return bestVsDefault() <= DEFAULT_WRONG;
        }

        boolean beatsDefault() {
            return learningVsDefault() <= BEAT_DEFAULT;
        }

        /** The verdict lines, as the table and compare.md print them. */
        List<String> verdicts() {
            List<String> lines = new ArrayList<>();
            lines.add(String.format(Locale.ROOT, "learning / best static (%s)%s: %.2f, target <= %.2f: %s",
                    bestStatic.config(), over(), learningVsBest(), MATCH, matchesBest() ? "MET" : "MISSED"));
            if (defaultWrong()) {
                lines.add(String.format(Locale.ROOT, "best static / default%s: %.2f, the default is wrong here;"
                                + " learning / default: %.2f, target <= %.2f: %s", over(), bestVsDefault(),
                        learningVsDefault(), BEAT_DEFAULT, beatsDefault() ? "MET" : "MISSED"));
            } else {
                lines.add(String.format(Locale.ROOT, "best static / default%s: %.2f, the default is right here (no"
                                + " static policy %.0f%% cheaper); learning / default: %.2f", over(), bestVsDefault(),
                        100 * (1 - DEFAULT_WRONG), learningVsDefault()));
            }
            return lines;
        }
    }
}
