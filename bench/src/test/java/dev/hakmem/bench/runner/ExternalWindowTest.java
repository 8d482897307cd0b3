package dev.hakmem.bench.runner;

import dev.hakmem.ace.Learner;
import dev.hakmem.ace.Window;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compare command's cost is the learner's formula, with the wall clock for the sampled malloc times. */
class ExternalWindowTest {

    @Test
    void aWorkedExample() {
        // 1 ms for 1000 ops: 1000 ns per op; 100 faults: + 50 ns; 2 mappings and 2 purges: + 20 ns; 1070 ns per op.
        // 4 MiB committed, 1 MiB live: waste 0.75, times (1 + 0.5 * 0.75) = 1.375: 1471.25.
        ExternalWindow w = new ExternalWindow(1_000_000, 1000, 100, 2, 2, 4 << 20, 1 << 20);

        assertEquals(1000, w.nanosPerOp());
        assertEquals(0.75, w.waste());
        assertEquals(1.0, w.mops());
        assertEquals(1471.25, w.cost(0.5), 1e-9);
        assertEquals(1070, w.cost(0), 1e-9);
    }

    @Test
    void unknownFaultsCountAsNoneAndAWindowWithoutOperationsHasNoCost() {
        assertEquals(1000, new ExternalWindow(1_000_000, 1000, -1, 0, 0, 0, 0).cost(0.5), 1e-9);
        assertTrue(Double.isNaN(new ExternalWindow(1_000_000, 0, 5, 1, 0, 1 << 20, 0).cost(0.5)));
    }

    @Test
    void wasteIsClampedToZeroWhenLiveExceedsCommittedAndIsZeroWithNothingCommitted() {
        assertEquals(0, new ExternalWindow(1, 1, 0, 0, 0, 100, 200).waste());
        assertEquals(0, new ExternalWindow(1, 1, 0, 0, 0, 0, 0).waste());
    }

    /** The same inputs give the learner's number: the prices and the formula cannot drift apart. */
    @Test
    void itIsTheLearnersCostWithTheWallClockForTheSampledTime() {
        SplittableRandom random = new SplittableRandom(10);
        for (int i = 0; i < 10_000; i++) {
            long ops = random.nextLong(1, 1_000_000);
            long nanos = random.nextLong(1, 10_000_000_000L);
            long faults = random.nextLong(-1, 100_000);
            long maps = random.nextLong(0, 1000);
            long purges = random.nextLong(0, 1000);
            long committed = random.nextLong(0, 1L << 34);
            long live = random.nextLong(0, committed + 1);
            double weight = random.nextDouble(0, 10);
            Window learners = new Window(0, ops, ops, nanos, faults, maps, purges, committed, live,
                    new long[SizeGrid.BUCKETS]);

            double expected = Learner.cost(learners, weight);
            assertEquals(expected, new ExternalWindow(nanos, ops, faults, maps, purges, committed, live).cost(weight),
                    Math.ulp(expected) * 8, "case " + i);
        }
    }
}
