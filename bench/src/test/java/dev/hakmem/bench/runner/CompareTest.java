package dev.hakmem.bench.runner;

import dev.hakmem.HakMemConfig;
import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.ace.Axis;
import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompareTest {
    private static final long WINDOW_NANOS = 250_000_000L;

    /** The hand search walks the learner's own ladders, knob by knob in its order: no candidate of its is missed. */
    @Test
    void theSearchesLaddersAreTheLearnersCandidates() {
        Axis[] axes = Axis.values();
        assertEquals(axes.length, Compare.LADDERS.size());
        Policy base = Policy.builder().wMax(1.125).purgeDelayMillis(50).build();
        for (int a = 0; a < axes.length; a++) {
            Axis axis = axes[a];
            Compare.Knob knob = Compare.LADDERS.get(a);
            assertEquals(axis.knob(), knob.name());
            assertEquals(IntStream.range(0, axis.candidates()).mapToObj(i -> axis.with(base, i)).toList(),
                    knob.candidates(base), axis.knob());
        }
    }

    /** A window ends at the next edge of the run's grid after the thread woke: a late wake skips the missed edges. */
    @Test
    void aWindowWokenLateRunsToTheNextEdgeAhead() {
        long start = 1_000;
        long edge = start + WINDOW_NANOS;
        assertEquals(start + 2 * WINDOW_NANOS, Compare.nextEdge(edge, edge, WINDOW_NANOS), "on time");
        assertEquals(start + 2 * WINDOW_NANOS, Compare.nextEdge(edge, edge + WINDOW_NANOS - 1, WINDOW_NANOS));
        assertEquals(start + 3 * WINDOW_NANOS, Compare.nextEdge(edge, edge + WINDOW_NANOS, WINDOW_NANOS));
        assertEquals(start + 23 * WINDOW_NANOS, Compare.nextEdge(edge, edge + 21 * WINDOW_NANOS + 7, WINDOW_NANOS),
                "21 edges missed");
        assertEquals(start + 2 * WINDOW_NANOS, Compare.nextEdge(edge, edge - 5, WINDOW_NANOS), "early");
        long wrapped = Long.MAX_VALUE - WINDOW_NANOS / 2;
        assertEquals(wrapped + WINDOW_NANOS, Compare.nextEdge(wrapped, wrapped + 1, WINDOW_NANOS),
                "nanoTime wraps: only differences count");
    }

    @Test
    void aSitesKnobRemovesOrSetsItsRuleAndKeepsTheOthers() {
        Policy.SiteRule other = new Policy.SiteRule("parse", false, true);
        Policy base = Policy.builder().site(other).site(new Policy.SiteRule("cache", false, true)).build();

        List<Policy> candidates = Compare.siteRule("cache").candidates(base);

        assertEquals(List.of(Policy.builder().site(other).build(),
                Policy.builder().site(other).site(new Policy.SiteRule("cache", true, false)).build()), candidates);
    }

    @Test
    void theWarmUpsPeerTellsWhichSitesTheWorkloadAllocatesFromInTheHintsOrder() {
        try (HakMemPeer peer = HakMemPeer.fast()) {
            HintsSeen seen = new HintsSeen(peer);
            peer.free(seen.malloc(64));
            assertEquals(List.of(), seen.sites(), "plain mallocs name no site");
            long cache = seen.malloc(64, SiteHint.CACHE);
            long parse = seen.malloc(64, SiteHint.PARSE);
            assertEquals(2, peer.heap().stats().liveBlocks(), "the blocks come from the peer");
            seen.free(cache);
            seen.free(parse);
            assertEquals(0, peer.heap().stats().liveBlocks(), "and go back to it");
            assertEquals(List.of(SiteHint.PARSE.siteName(), SiteHint.CACHE.siteName()), seen.sites());
        }
    }

    /** A static run whose counted windows all cost {@code cost}; its first window, never counted, costs 10x. */
    private static ConfigRun run(String config, double cost) {
        List<ConfigRun.Measured> windows = new ArrayList<>();
        windows.add(measured(LearningState.FROZEN, 10 * cost));
        windows.add(measured(LearningState.FROZEN, cost));
        windows.add(measured(LearningState.FROZEN, cost));
        return ConfigRun.fixed("json", config, Policy.defaults(), windows);
    }

    private static ConfigRun.Measured measured(LearningState state, double cost) {
        return new ConfigRun.Measured(new ExternalWindow(WINDOW_NANOS, 1000, 0, 0, 0, 1 << 20, 1 << 19), state,
                cost);
    }

    private static ConfigRun learning(double cost) {
        List<ConfigRun.Measured> windows = List.of(measured(LearningState.LEARN, 99 * cost),
                measured(LearningState.FROZEN, cost), measured(LearningState.CANARY, cost));
        return ConfigRun.learning("json", "learning", Policy.defaults(), windows, WINDOW_NANOS);
    }

    private static Compare.PhaseResult result(double defaults, double best, double learning) {
        ConfigRun d = run("default", defaults);
        ConfigRun b = run("wMax=1.5", best);
        return new Compare.PhaseResult(Workloads.named(Workloads.JSON), d, List.of(d, b), b, learning(learning),
                List.of());
    }

    /**
     * With confirmation rounds the verdicts are the medians over the rounds of each round's ratio; the search's runs
     * (here a lucky best static run, 60, and an unlucky learning run, 90) only chose the best static policy.
     */
    @Test
    void withRoundsTheVerdictsAreTheMediansOfTheRoundsRatios() {
        ConfigRun d = run("default", 100);
        ConfigRun b = run("wMax=1.5", 60);
        List<Compare.Round> rounds = List.of(
                new Compare.Round(run("default (round 2)", 200), run("wMax=1.5 (round 2)", 150), learning(150)),
                new Compare.Round(run("default (round 3)", 100), run("wMax=1.5 (round 3)", 90), learning(99)),
                new Compare.Round(run("default (round 4)", 100), run("wMax=1.5 (round 4)", 50), learning(80)));
        Compare.PhaseResult r = new Compare.PhaseResult(Workloads.named(Workloads.JSON), d, List.of(d, b), b,
                learning(90), rounds);

        assertEquals(1.1, r.learningVsBest(), 1e-12, "ratios 1.0, 1.1 and 1.6");
        assertEquals(0.8, r.learningVsDefault(), 1e-12, "ratios 0.75, 0.99 and 0.8");
        assertEquals(0.75, r.bestVsDefault(), 1e-12, "ratios 0.75, 0.9 and 0.5");
        assertEquals(List.of("learning / best static (wMax=1.5) (median of 3 rounds): 1.10, target <= 1.02: MISSED",
                "best static / default (median of 3 rounds): 0.75, the default is wrong here; learning / default:"
                        + " 0.80, target <= 0.80: MET"), r.verdicts());
    }

    @Test
    void staticRunsCountEveryWindowButTheFirstAndLearningRunsFromWhenItFroze() {
        ConfigRun fixed = run("default", 5);
        assertEquals(2, fixed.counted().size());
        assertEquals(5, fixed.cost());
        assertEquals(1 << 20, fixed.peakCommitted());
        assertEquals(0.004, fixed.mops(), 1e-12, "1000 operations in 250 ms");

        ConfigRun learned = learning(7);
        assertEquals(1, learned.firstCounted());
        assertEquals(7, learned.cost());
        assertTrue(learned.note().startsWith("counted from 0.3 s, when it had first frozen; in force at the end:"
                + " default"), learned.note());

        List<ConfigRun.Measured> never = Collections.nCopies(5, measured(LearningState.LEARN, 3));
        ConfigRun unfrozen = ConfigRun.learning("json", "learning", Policy.defaults(), never, WINDOW_NANOS);
        assertEquals(2, unfrozen.firstCounted());
        assertEquals(3, unfrozen.counted().size());
        assertTrue(unfrozen.note().startsWith("never left LEARN: the last half counted"), unfrozen.note());
    }

    @Test
    void aRunWithoutACostIsNeverTheCheapest() {
        ConfigRun none = ConfigRun.fixed("json", "idle", Policy.defaults(), List.of(measured(LearningState.FROZEN, 1),
                measured(LearningState.FROZEN, Double.NaN)));

        assertTrue(Double.isNaN(none.cost()));
        assertTrue(Compare.cheaper(run("a", 5), none));
        assertFalse(Compare.cheaper(none, run("a", 5)));
        assertFalse(Compare.cheaper(none, none));
        assertTrue(Compare.cheaper(run("a", 4), run("b", 5)));
        assertFalse(Compare.cheaper(run("a", 5), run("b", 5)), "a tie keeps the incumbent");
    }

    @Test
    void whereTheDefaultIsWrongLearningMustBeatItBy20PercentAndMatchTheBestStaticPolicy() {
        Compare.PhaseResult r = result(100, 80, 79);

        assertTrue(r.defaultWrong());
        assertTrue(r.matchesBest());
        assertTrue(r.beatsDefault());
        assertEquals(List.of("learning / best static (wMax=1.5): 0.99, target <= 1.02: MET",
                "best static / default: 0.80, the default is wrong here; learning / default: 0.79, target <= 0.80:"
                        + " MET"),
                r.verdicts());

        Compare.PhaseResult missed = result(100, 85, 87);
        assertFalse(missed.matchesBest(), "1.024 of the best");
        assertFalse(missed.beatsDefault());
        assertTrue(missed.verdicts().get(1).endsWith("target <= 0.80: MISSED"), missed.verdicts().toString());
    }

    @Test
    void whereTheDefaultIsRightThereIsNoTargetAgainstIt() {
        Compare.PhaseResult r = result(100, 95, 96);

        assertFalse(r.defaultWrong());
        assertEquals("best static / default: 0.95, the default is right here (no static policy 8% cheaper);"
                + " learning / default: 0.96", r.verdicts().get(1));
        String summary = CompareReport.summary(List.of(r, result(100, 80, 79), result(100, 70, 75)));
        assertTrue(summary.contains("learning matches the best static policy (cost <= 1.02x) on 2 of 3 phases:"
                + " MISSED"), summary);
        assertTrue(summary.contains("learning beats the default by 20% (cost <= 0.80x) on 2 of the 2 phases where the"
                + " default is wrong (json, json): MET"), summary);
    }

    @Test
    void theCsvHasARowPerRunMarkedAndTheWindowsCsvARowPerWindow() {
        Compare.PhaseResult r = result(100, 80, 79);
        List<ConfigRun> runs = List.of(r.defaults(), r.bestStatic(), r.learning());

        String[] csv = CompareReport.csv(runs, List.of(r)).split("\r\n");
        assertEquals(CompareReport.CSV_HEADER, csv[0]);
        assertEquals("json,default,default,100.0000,0.0040,1048576,2,3,", csv[1]);
        assertEquals("json,wMax=1.5,best static,80.0000,0.0040,1048576,2,3,", csv[2]);
        assertTrue(csv[3].startsWith("json,learning,learning,79.0000,0.0040,1048576,2,3,\"counted from"), csv[3]);

        String[] windows = CompareReport.windowsCsv(runs).split("\r\n");
        assertEquals(1 + 9, windows.length);
        assertEquals("json,default,0,false,FROZEN,250000000,1000,0,0,0,1048576,524288,250000.0000,0.5000,1000.0000",
                windows[1]);
        String md = CompareReport.markdown(List.of(r), HakMemConfig.builder().learnWindowMillis(250).build(),
                20_000_000_000L);
        assertTrue(md.contains("## json\n"), md);
        assertTrue(md.contains("| wMax=1.5 | 80.0 | 0.00400 | 1.0 | 2 | best static |\n"), md);
        assertTrue(md.contains("- learning / best static (wMax=1.5): 0.99, target <= 1.02: MET\n"), md);
    }

    /**
     * A workload stalled past the run's deadline, as a descheduled thread on a loaded machine is (at load 8 on 2 cores
     * a 0.3 s run once ended with no operation in its counted windows): the run goes on until a counted window saw
     * operations, so it has a cost.
     */
    @Test
    void aRunStalledPastItsDeadlineGoesOnUntilACountedWindowSawOperations(@TempDir Path out)
            throws InterruptedException {
        Workload tinyHot = Workloads.named(Workloads.TINY_HOT);
        Workload stalled = new Workload() {
            @Override
            public String name() {
                return "stalled";
            }

            @Override
            public String description() {
                return "nothing for 200 ms, then " + tinyHot.name();
            }

            @Override
            public boolean freesOnOtherThreads() {
                return tinyHot.freesOnOtherThreads();
            }

            @Override
            public long run(NativeAllocator allocator, int threads, Budget budget) {
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return tinyHot.run(allocator, threads, budget);
            }
        };
        HakMemConfig learning = HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING).learnWindowMillis(20).build();
        Compare compare = new Compare(learning, 0.1, 1, 1, out, new PrintWriter(new StringWriter()));

        ConfigRun run = compare.measure(stalled, "default", HakMemConfig.builder().policy(Policy.defaults()).build(),
                false);

        // At the deadline, 0.1 s in, the workload had done nothing: without the extension, no window counts one.
        assertFalse(Double.isNaN(run.cost()), "no cost: " + run.windows());
    }

    /**
     * The whole search on one phase, in short runs: the default, every other candidate of each knob, the rules of the
     * two sites the lifetime mix allocates from, then learning; every run measured in windows.
     */
    @Test
    void theSearchRunsTheDefaultEachKnobsOtherCandidatesTheSitesRulesAndLearning(@TempDir Path out)
            throws IOException, InterruptedException {
        StringWriter text = new StringWriter();
        HakMemConfig learning = HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING).learnWindowMillis(20).build();

        // 0.3 s a run, 15 windows of 20 ms; a run stalled on a loaded machine goes on until it has a cost
        // (aRunStalledPastItsDeadlineGoesOnUntilACountedWindowSawOperations).
        boolean ok = new Compare(learning, 0.3, 1, 2, out, new PrintWriter(text))
                .run(List.of(Workloads.named(Workloads.LIFETIME_MIX)));

        assertTrue(ok, text.toString());
        List<String> rows = Files.readAllLines(out.resolve("compare.csv"));
        // The header, 1 default + 4 + 4 + 3 + 4 other candidates + the 2 sites' long-lived rules + learning, then
        // a confirmation round: the best static policy, learning, the default (round 2 begins with the second).
        assertEquals(1 + 19 + 3, rows.size(), String.join("\n", rows));
        assertTrue(rows.get(1).startsWith("lifetime_mix,default,default"), rows.get(1));
        for (String rule : List.of("parse long-lived", "cache long-lived")) {
            assertTrue(rows.stream().anyMatch(r -> r.split(",")[1].contains(rule)), String.join("\n", rows));
        }
        assertTrue(rows.get(19).startsWith("lifetime_mix,learning,learning,"), rows.get(19));
        assertTrue(rows.get(20).matches("lifetime_mix,.* \\(round 2\\),,.*"), rows.get(20));
        assertTrue(rows.get(21).startsWith("lifetime_mix,learning (round 2),,"), rows.get(21));
        assertTrue(rows.get(22).startsWith("lifetime_mix,default (round 2),,"), rows.get(22));
        assertTrue(text.toString().contains("(1 round)"), text.toString());
        assertTrue(rows.stream().skip(1).allMatch(r -> r.split(",")[3].matches("\\d+\\.\\d{4}")),
                "every run has a cost: " + String.join("\n", rows));
        assertTrue(text.toString().contains("learning / best static ("), text.toString());
        assertTrue(Files.readString(out.resolve("compare.md")).contains("## lifetime_mix"));
        assertTrue(Files.readAllLines(out.resolve("compare-windows.csv")).size() > 19 * 4);
    }
}
