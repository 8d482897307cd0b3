package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The paired rounds of {@code hakmem bench --rounds}, driven through {@link BenchCommand} by fake children. */
class RoundsTest {
    private static final double EPSILON = 1e-12;

    /**
     * A child JVM that measures nothing: each call is the next round of its trial (the schedule runs a trial's rounds
     * in order), and the trial's Mops/s in that round come from {@code mops}. It logs the calls.
     */
    private static final class FakeChild implements Function<Trial, TrialResult> {
        private final Map<Trial, Integer> calls = new HashMap<>();
        private final List<Trial> log = new ArrayList<>();
        private final RoundMops mops;

        FakeChild(RoundMops mops) {
            this.mops = mops;
        }

        @Override
        public TrialResult apply(Trial trial) {
            int round = calls.merge(trial, 1, Integer::sum) - 1;
            log.add(trial);
            double m = mops.of(trial, round);
            if (Double.isNaN(m)) {
                return TrialResult.failed(trial, "exit code 1: boom in round " + (round + 1));
            }
            return new TrialResult(trial, TrialResult.Status.OK, "", List.of(m, m), 100 * Results.MiB,
                    (100 + round + 1) * Results.MiB, 100 * Results.MiB, 100 * Results.MiB);
        }
    }

    @FunctionalInterface
    private interface RoundMops {
        /** NaN: the child fails. */
        double of(Trial trial, int round);
    }

    private static BenchCommand command(String... args) {
        BenchCommand command = new BenchCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    private static List<Rounds.Cell> measure(BenchCommand command, FakeChild child) {
        return command.measure(child, new PrintWriter(new StringWriter()));
    }

    @Test
    void theAllocatorsTakeTurnsWithinAWorkloadAndThreadsAndTheOrderTurnsEachRound() {
        List<Rounds.Run> runs = command("--workloads", "json", "--allocators", "hakmem,mimalloc,glibc",
                "--threads", "1,2", "--rounds", "3").schedule();

        assertEquals(18, runs.size());
        assertEquals(List.of("hakmem", "mimalloc", "glibc", "mimalloc", "glibc", "hakmem", "glibc", "hakmem", "mimalloc"),
                runs.subList(0, 9).stream().map(r -> r.trial().allocator()).toList());
        assertEquals(List.of(0, 0, 0, 1, 1, 1, 2, 2, 2), runs.subList(0, 9).stream().map(Rounds.Run::round).toList());
        assertTrue(runs.subList(0, 9).stream().allMatch(r -> r.trial().threads() == 1));
        assertTrue(runs.subList(9, 18).stream().allMatch(r -> r.trial().threads() == 2));
    }

    /**
     * The general property: whatever the drift from round to round and thread count to thread count (here up to 10x,
     * far beyond a real machine's), whatever the order of the allocators and hakmem's place among them, every
     * allocator's paired ratios are exactly its ratios to hakmem within each round, in round order; each cell's
     * median is the median of its rounds'; and every round runs each allocator of a (workload, threads) once.
     */
    @Test
    void pairedRatiosAreTheWithinRoundRatiosWhateverTheDriftAndTheOrder() {
        List<String> peers = List.of("mimalloc", "glibc", "jemalloc", "hakmem-frozen", "hakmem-guard-sample");
        for (long seed = 1; seed <= 40; seed++) {
            Random random = new Random(seed);
            List<String> allocators = new ArrayList<>(peers.subList(0, 1 + random.nextInt(peers.size())));
            allocators.add(random.nextInt(allocators.size() + 1), Targets.HAKMEM);
            int rounds = 2 + random.nextInt(4);
            List<Integer> threads = random.nextBoolean() ? List.of(1, 2) : List.of(2, 1);
            Map<String, Double> drift = new HashMap<>();
            Map<String, Double> trueRatio = new HashMap<>();
            RoundMops mops = (trial, round) -> {
                double d = drift.computeIfAbsent(trial.threads() + "/" + round, k -> 0.3 + 2.7 * random.nextDouble());
                double ratio = trial.allocator().equals(Targets.HAKMEM) ? 1 : trueRatio.computeIfAbsent(
                        trial + "/" + round, k -> 0.5 + random.nextDouble());
                return 10 * trial.threads() * d * ratio;
            };
            FakeChild child = new FakeChild(mops);
            BenchCommand command = command("--workloads", "tiny_hot,json", "--allocators", String.join(",", allocators),
                    "--threads", threads.get(0) + "," + threads.get(1), "--rounds", Integer.toString(rounds));

            List<Rounds.Cell> cells = measure(command, child);
            Map<Trial, Rounds.Paired> paired = Rounds.pairedToHakmem(cells);

            assertEquals(2 * 2 * allocators.size(), cells.size(), "seed " + seed);
            for (Rounds.Cell cell : cells) {
                List<Double> expected = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    expected.add(cell.trial().allocator().equals(Targets.HAKMEM) ? 1.0
                            : trueRatio.get(cell.trial() + "/" + r));
                }
                List<Double> actual = paired.get(cell.trial()).ratios();
                assertEquals(rounds, actual.size(), "seed " + seed + " " + cell.trial());
                for (int r = 0; r < rounds; r++) {
                    assertEquals(expected.get(r), actual.get(r), EPSILON, "seed " + seed + " " + cell.trial()
                            + " round " + (r + 1));
                }
                assertEquals(Stats.median(cell.rounds().stream().map(TrialResult::medianMops).toList()),
                        cell.summary().medianMops(), EPSILON);
            }
            int perTurn = allocators.size();
            for (int turn = 0; turn < child.log.size(); turn += perTurn) {
                List<Trial> round = child.log.subList(turn, turn + perTurn);
                assertEquals(allocators.stream().sorted().toList(), round.stream().map(Trial::allocator).sorted()
                        .toList(), "seed " + seed + ": every allocator once per round");
                assertEquals(1, round.stream().map(t -> t.workload() + t.threads()).distinct().count());
            }
        }
    }

    @Test
    void theTableAndTheTargetsShowThePairedMedianAndItsRange() {
        double[] sampledRatio = {0.9, 1.0, 0.8};
        double[] drift = {1.0, 0.5, 2.0};
        FakeChild child = new FakeChild((trial, round) -> 100 * drift[round]
                * (trial.allocator().equals(Targets.HAKMEM) ? 1 : sampledRatio[round]));
        BenchCommand command = command("--workloads", "tiny_hot", "--allocators", "hakmem,hakmem-guard-sample",
                "--threads", "1", "--rounds", "3");
        List<Rounds.Cell> cells = measure(command, child);
        List<TrialResult> summaries = cells.stream().map(Rounds.Cell::summary).toList();

        String table = ResultTable.format(List.of(Workloads.TINY_HOT), List.of(1), summaries,
                Rounds.pairedToHakmem(cells));

        assertTrue(table.contains("paired range"), table);
        assertTrue(table.contains("  hakmem-guard-sample          1      90.0   122%    0.90x     102.0         2.0"
                + "       1.00        1.00   0.80-1.00"), table);
        assertTrue(table.contains("  hakmem                       1       100   150%    1.00x     102.0         2.0"
                + "       1.00        1.00   1.00-1.00"), table);
        assertTrue(table.contains("t=1 hakmem-guard-sample / hakmem Mops/s, paired over 3 rounds (range 0.80-1.00)"
                + " 0.90 (target >= 0.95: MISSED)"), table);
        assertTrue(table.contains("t=1 hakmem-guard-sample / hakmem peak RSS growth (2.0 / 2.0 MiB) 1.00"
                + " (target <= 1.10: met)"), table);
    }

    @Test
    void aFailedRoundFailsItsCellByNameButTheOtherRoundsStillPairAndEveryRunIsWritten() {
        FakeChild child = new FakeChild((trial, round) -> trial.allocator().equals("mimalloc") && round == 1
                ? Double.NaN : trial.allocator().equals("mimalloc") ? 50.0 + round : 100.0);
        List<Rounds.Cell> cells = measure(command("--workloads", "json", "--allocators", "hakmem,mimalloc",
                "--threads", "2", "--rounds", "3"), child);

        TrialResult mimalloc = cells.get(1).summary();
        assertEquals(TrialResult.Status.FAILED, mimalloc.status());
        assertEquals("1 of 3 rounds failed: round 2: exit code 1: boom in round 2", mimalloc.message());
        assertEquals(List.of(0.50, 0.52), Rounds.pairedToHakmem(cells).get(mimalloc.trial()).ratios());
        String[] runs = ResultCsv.formatRuns(cells).split("\r\n");
        assertEquals(7, runs.length);
        assertEquals("round," + ResultCsv.HEADER, runs[0]);
        assertTrue(runs[2].startsWith("1,json,mimalloc,2,ok,50.0000,50.0000;50.0000,0.5000,"), runs[2]);
        assertTrue(runs[4].startsWith("2,json,mimalloc,2,failed,,,,"), runs[4]);
        assertTrue(runs[6].startsWith("3,json,mimalloc,2,ok,52.0000,52.0000;52.0000,0.5200,"), runs[6]);
    }

    @Test
    void theCellCsvHasTheRoundsMediansTheRssMediansAndThePairedRatios() {
        FakeChild child = new FakeChild((trial, round) -> trial.allocator().equals(Targets.HAKMEM) ? 10.0 * (round + 1)
                : 9.0 * (round + 1));
        List<Rounds.Cell> cells = measure(command("--workloads", "json", "--allocators", "mimalloc,hakmem",
                "--threads", "1", "--rounds", "3"), child);

        String[] lines = ResultCsv.formatCells(cells.stream().map(Rounds.Cell::summary).toList(),
                Rounds.pairedToHakmem(cells), 3).split("\r\n");

        assertEquals(ResultCsv.HEADER_ROUNDS, lines[0]);
        assertEquals("json,mimalloc,1,ok,18.0000,9.0000;18.0000;27.0000,0.9000,104857600,106954752,2097152,"
                + "104857600,104857600,1.0000,1.0000,,3,0.9000,0.9000,0.9000", lines[1]);
    }

    @Test
    void oneRoundIsTheOldRunnerItsRowAndCsvUnchanged() {
        FakeChild child = new FakeChild((trial, round) -> trial.allocator().equals(Targets.HAKMEM) ? 10.0 : 5.0);
        List<Rounds.Cell> cells = measure(command("--workloads", "json", "--allocators", "hakmem,mimalloc",
                "--threads", "1"), child);
        List<TrialResult> summaries = cells.stream().map(Rounds.Cell::summary).toList();

        assertEquals(List.of("hakmem", "mimalloc"), child.log.stream().map(Trial::allocator).toList());
        assertEquals(cells.get(1).rounds().getFirst(), summaries.get(1));
        assertEquals(Map.of(), Rounds.pairedToHakmem(cells));
        assertEquals(ResultTable.format(List.of("json"), List.of(1), summaries),
                ResultTable.format(List.of("json"), List.of(1), summaries, Rounds.pairedToHakmem(cells)));
    }

    @Test
    void resultsThatDoNotLineUpWithTheirRoundsAreRefused() {
        List<Rounds.Run> runs = Rounds.schedule(List.of("json"), List.of(1), List.of("hakmem", "mimalloc"), 2);
        TrialResult any = Results.ok("json", "hakmem", 1, 1, 1.0);

        assertThrows(IllegalArgumentException.class, () -> Rounds.cells(runs, List.of(any, any, any), 2));
        List<Rounds.Run> twice = List.of(runs.get(0), runs.get(1), runs.get(0), runs.get(1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Rounds.cells(twice, List.of(any, any, any, any),
                2)).getMessage().contains("ran twice in round 1"));
    }
}
