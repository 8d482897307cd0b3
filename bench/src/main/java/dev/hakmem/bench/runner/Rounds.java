package dev.hakmem.bench.runner;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * Paired, interleaved rounds ({@code hakmem bench --rounds N}). Two JVMs of the same trial differ by up to a third in
 * throughput on this kind of machine (JIT decisions, where the heap and the mappings land, what the neighbours run),
 * far more than the 2% and 5% a frozen policy or sampled guard mode may cost. So every cell runs in N fresh JVMs, and
 * the JVMs of one (workload, threads) take turns: within a round each allocator runs once, one after the other, and
 * the order turns by one place per round, so that no allocator always runs first (on a cooler machine) or last:
 * <pre>
 *   tiny_hot t=1   round 1: A B C   round 2: B C A   round 3: C A B
 *   tiny_hot t=2   round 1: A B C   ...
 * </pre>
 * An allocator's throughput over hakmem's is then taken within each round, from two JVMs that ran minutes apart at
 * most, and summarised over the rounds by its median with the smallest and largest round's ratio: the paired
 * comparison of a crossover design, which cancels the drift that both members of a pair share (as Georges, Buytaert
 * and Eeckhout, "Statistically Rigorous Java Performance Evaluation", OOPSLA 2007, ask of JVM comparisons).
 * One round is the runner's old behaviour: one JVM per cell, in the order given.
 */
final class Rounds {
    private Rounds() {
    }

    /** One child JVM of the schedule: {@code round} counts from 0. */
    record Run(int round, Trial trial) {
    }

    /**
     * One (workload, allocator, threads) over the rounds: {@code rounds.get(r)} is what round r's JVM measured, so
     * that two cells' results at the same index ran side by side.
     */
    record Cell(Trial trial, List<TrialResult> rounds) {
        Cell {
            rounds = List.copyOf(rounds);
        }

        /**
         * The cell as one result. One round: that round's result, its repetitions as the samples. Several: the rounds'
         * medians as the samples (so its median is the median over rounds) and each RSS figure's median over the
         * rounds. A cell with a failed round fails, naming the rounds and why; one with no result in any round is
         * skipped for the first round's reason.
         */
        TrialResult summary() {
            if (rounds.size() == 1) {
                return rounds.getFirst();
            }
            List<String> failures = new ArrayList<>();
            for (int r = 0; r < rounds.size(); r++) {
                if (rounds.get(r).status() == TrialResult.Status.FAILED) {
                    failures.add("round " + (r + 1) + ": " + rounds.get(r).message());
                }
            }
            if (!failures.isEmpty()) {
                return TrialResult.failed(trial, failures.size() + " of " + rounds.size() + " rounds failed: "
                        + String.join("; ", failures));
            }
            if (rounds.stream().noneMatch(TrialResult::ok)) {
                return TrialResult.skipped(trial, rounds.getFirst().message());
            }
            if (!rounds.stream().allMatch(TrialResult::ok)) {
                return TrialResult.failed(trial, "skipped in some rounds only: " + rounds.stream()
                        .filter(r -> !r.ok()).map(TrialResult::message).distinct().collect(Collectors.joining("; ")));
            }
            return new TrialResult(trial, TrialResult.Status.OK, "",
                    rounds.stream().map(TrialResult::medianMops).toList(), medianRss(TrialResult::baselineRss),
                    medianRss(TrialResult::peakRss), medianRss(TrialResult::afterFreeRss),
                    medianRss(TrialResult::afterCloseRss));
        }

        /** The median over the rounds; -1 (unknown) when any round could not read it. */
        private long medianRss(ToLongFunction<TrialResult> figure) {
            if (rounds.stream().anyMatch(r -> figure.applyAsLong(r) < 0)) {
                return -1;
            }
            return Math.round(Stats.median(rounds.stream().map(r -> (double) figure.applyAsLong(r)).toList()));
        }
    }

    /** Per round, an allocator's median Mops/s over hakmem's in the same round; rounds where either has none are left out. */
    record Paired(List<Double> ratios) {
        Paired {
            ratios = List.copyOf(ratios);
        }

        double median() {
            return Stats.median(ratios);
        }

        double min() {
            return ratios.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
        }

        double max() {
            return ratios.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        }
    }

    /**
     * The order the JVMs run in: by workload, then thread count, then round, and within a round the allocators in the
     * order given, turned left by the round's number.
     */
    static List<Run> schedule(List<String> workloads, List<Integer> threadCounts, List<String> allocators, int rounds) {
        List<Run> runs = new ArrayList<>();
        for (String workload : workloads) {
            for (int threads : threadCounts) {
                for (int round = 0; round < rounds; round++) {
                    for (int i = 0; i < allocators.size(); i++) {
                        String allocator = allocators.get((i + round) % allocators.size());
                        runs.add(new Run(round, new Trial(workload, allocator, threads)));
                    }
                }
            }
        }
        return runs;
    }

    /**
     * The results of {@code runs} (same order, one each) gathered per cell, the cells in the order of their first run.
     *
     * @throws IllegalArgumentException if the lists differ in length, or a cell lacks a round or has one twice: the
     *                                  results would not line up with their rounds
     */
    static List<Cell> cells(List<Run> runs, List<TrialResult> results, int rounds) {
        if (runs.size() != results.size()) {
            throw new IllegalArgumentException(results.size() + " results for " + runs.size() + " runs");
        }
        Map<Trial, TrialResult[]> byTrial = new LinkedHashMap<>();
        for (int i = 0; i < runs.size(); i++) {
            Run run = runs.get(i);
            TrialResult[] byRound = byTrial.computeIfAbsent(run.trial(), t -> new TrialResult[rounds]);
            if (byRound[run.round()] != null) {
                throw new IllegalArgumentException(run.trial() + " ran twice in round " + (run.round() + 1));
            }
            byRound[run.round()] = results.get(i);
        }
        List<Cell> cells = new ArrayList<>();
        byTrial.forEach((trial, byRound) -> {
            for (int r = 0; r < rounds; r++) {
                if (byRound[r] == null) {
                    throw new IllegalArgumentException(trial + " has no result for round " + (r + 1));
                }
            }
            cells.add(new Cell(trial, List.of(byRound)));
        });
        return cells;
    }

    /** {@code cell}'s paired ratios to hakmem's cell of the same workload and threads; empty if hakmem did not run. */
    static Optional<Paired> pairedToHakmem(Cell cell, List<Cell> all) {
        return all.stream().filter(c -> c.trial().equals(new Trial(cell.trial().workload(), Targets.HAKMEM,
                        cell.trial().threads()))).findFirst()
                .map(hakmem -> {
                    List<Double> ratios = new ArrayList<>();
                    for (int r = 0; r < cell.rounds().size(); r++) {
                        TrialResult mine = cell.rounds().get(r);
                        TrialResult theirs = hakmem.rounds().get(r);
                        if (mine.ok() && theirs.ok()) {
                            ratios.add(mine.medianMops() / theirs.medianMops());
                        }
                    }
                    return new Paired(ratios);
                });
    }

    /** Every cell's paired ratios to hakmem, by trial; empty for a single round, where pairing adds nothing. */
    static Map<Trial, Paired> pairedToHakmem(List<Cell> cells) {
        Map<Trial, Paired> paired = new LinkedHashMap<>();
        for (Cell cell : cells) {
            if (cell.rounds().size() > 1) {
                pairedToHakmem(cell, cells).filter(p -> !p.ratios().isEmpty())
                        .ifPresent(p -> paired.put(cell.trial(), p));
            }
        }
        return paired;
    }
}
