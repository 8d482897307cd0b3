package dev.hakmem.ace;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CostAndInputsTest {
    private static final long[] NO_SIZES = new long[SizeGrid.BUCKETS];

    private static Window window(long ops, long sampled, long nanos, long faults, long maps, long purges,
                                 long committed, long live) {
        return new Window(0, ops, sampled, nanos, faults, maps, purges, committed, live, NO_SIZES);
    }

    @Test
    void theCostIsTimePerOpWithFaultsAndCallsPricedInScaledByWaste() {
        assertEquals(250, Learner.cost(window(1000, 10, 2500, 0, 0, 0, 0, 0), 0.5), 1e-9, "nothing committed");
        double perOp = 250 + (Learner.FAULT_NANOS * 100 + Learner.SYSCALL_NANOS * (2 + 3)) / 1000;
        assertEquals(perOp, Learner.cost(window(1000, 10, 2500, 100, 2, 3, 100, 100), 0.5), 1e-9, "no waste");
        assertEquals(perOp * (1 + 0.5 * 0.25), Learner.cost(window(1000, 10, 2500, 100, 2, 3, 400, 300), 0.5), 1e-9);
        assertEquals(perOp * (1 + 2 * 0.25), Learner.cost(window(1000, 10, 2500, 100, 2, 3, 400, 300), 2), 1e-9);
        assertEquals(perOp, Learner.cost(window(1000, 10, 2500, 100, 2, 3, 400, 300), 0), 1e-9, "weight 0: time only");
        assertEquals(perOp, Learner.cost(window(1000, 10, 2500, 100, 2, 3, 400, 500), 1), 1e-9,
                "more live than committed (blocks counted before their pages): no waste, not negative");
        assertEquals(Learner.cost(window(1000, 10, 2500, 0, 2, 3, 0, 0), 1),
                Learner.cost(window(1000, 10, 2500, -1, 2, 3, 0, 0), 1), "unknown faults count as none");
        assertTrue(Double.isNaN(Learner.cost(window(0, 0, 0, 0, 0, 0, 0, 0), 1)));
        assertTrue(Double.isNaN(Learner.cost(window(1000, 0, 0, 0, 0, 0, 0, 0), 1)), "nothing timed");
    }

    @Test
    void onlyWindowsWithEnoughOpsAndSamplesAreScored() {
        LearnerOptions o = LearnerOptions.defaults();
        assertTrue(o.scores(window(o.minOps(), o.minSampledOps(), 1, 0, 0, 0, 0, 0)));
        assertTrue(!o.scores(window(o.minOps() - 1, o.minSampledOps(), 1, 0, 0, 0, 0, 0)));
        assertTrue(!o.scores(window(o.minOps(), o.minSampledOps() - 1, 1, 0, 0, 0, 0, 0)));
    }

    @Test
    void aWindowRefusesBadMeasurementsNamingTheFieldAndKeepsItsOwnHistogram() {
        assertRefused("window.index", () -> new Window(-1, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES));
        assertRefused("window.ops", () -> window(-1, 0, 0, 0, 0, 0, 0, 0));
        assertRefused("window.sampledOps", () -> window(0, -1, 0, 0, 0, 0, 0, 0));
        assertRefused("window.sampledNanos", () -> window(0, 0, -1, 0, 0, 0, 0, 0));
        assertRefused("window.pageFaults", () -> window(0, 0, 0, -2, 0, 0, 0, 0));
        assertRefused("window.mapCalls", () -> window(0, 0, 0, 0, -1, 0, 0, 0));
        assertRefused("window.purgeCalls", () -> window(0, 0, 0, 0, 0, -1, 0, 0));
        assertRefused("window.committedBytes", () -> window(0, 0, 0, 0, 0, 0, -1, 0));
        assertRefused("window.liveBytes", () -> window(0, 0, 0, 0, 0, 0, 0, -1));
        assertRefused("window.sizeHistogram", () -> new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, new long[3]));
        assertRefused("window.sizeHistogram", () -> new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, null));
        long[] negative = new long[SizeGrid.BUCKETS];
        negative[5] = -1;
        assertRefused("window.sizeHistogram[5]", () -> new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, negative));

        long[] sizes = new long[SizeGrid.BUCKETS];
        sizes[7] = 3;
        Window w = new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, sizes);
        sizes[7] = 4;
        w.sizeHistogram()[7] = 5;
        assertEquals(3, w.sizeCount(7));
        assertEquals(w, new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, w.sizeHistogram()));
        assertEquals(w.hashCode(), new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, w.sizeHistogram()).hashCode());
        assertNotEquals(w, new Window(0, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES));
    }

    @Test
    void optionsRefuseOutOfRangeSettingsNamingThem() {
        LearnerOptions d = LearnerOptions.defaults();
        assertRefused("learner.memoryWeight", () -> d.withMemoryWeight(10.5));
        assertRefused("learner.memoryWeight", () -> d.withMemoryWeight(Double.NaN));
        assertRefused("learner.minImprovement", () -> d.withRails(0, 3, 10));
        assertRefused("learner.minImprovement", () -> d.withRails(1, 3, 10));
        assertRefused("learner.hysteresis", () -> d.withRails(0.08, 0, 10));
        assertRefused("learner.hysteresis", () -> d.withRails(0.08, 17, 10));
        assertEquals(16, d.withRails(0.08, 16, 10).hysteresis());
        assertRefused("learner.cooldown", () -> d.withRails(0.08, 3, -1));
        assertRefused("learner.freezeAfter", () -> d.withLifecycle(1, 60, 60));
        assertRefused("learner.frozenWindows", () -> d.withLifecycle(40, 0, 60));
        assertRefused("learner.canaryWindows", () -> d.withLifecycle(40, 60, 1));
        assertRefused("learner.minOps", () -> new LearnerOptions(0.5, 0, 32, 0.08, 3, 10, 40, 60, 60, 0.05, 0.5, 2));
        assertRefused("learner.minSampledOps",
                () -> new LearnerOptions(0.5, 1, 0, 0.08, 3, 10, 40, 60, 60, 0.05, 0.5, 2));
        assertRefused("learner.canaryShare",
                () -> new LearnerOptions(0.5, 1, 1, 0.08, 3, 10, 40, 60, 60, 0.6, 0.5, 2));
        assertRefused("learner.shiftDistance",
                () -> new LearnerOptions(0.5, 1, 1, 0.08, 3, 10, 40, 60, 60, 0.05, 2.5, 2));
        assertRefused("learner.p99Drift", () -> new LearnerOptions(0.5, 1, 1, 0.08, 3, 10, 40, 60, 60, 0.05, 0.5, 1));
        assertEquals(2, d.withMemoryWeight(2).memoryWeight());
        assertEquals(d, d.withRails(0.08, 3, 10).withLifecycle(90, 60, 60));
    }

    @Test
    void theLearnerRefusesWindowsOutOfOrderAndLosesNothing() {
        Learner l = new Learner(LearnerOptions.defaults(), Policy.defaults(), LearningState.LEARN, 1);
        l.onWindow(new Window(4, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES));
        assertRefused("learner: window 4 after window 4",
                () -> l.onWindow(new Window(4, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES)));
        assertRefused("learner: window 2 after window 4",
                () -> l.onWindow(new Window(2, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES)));
        assertEquals(Policy.defaults(), l.onWindow(new Window(9, 0, 0, 0, 0, 0, 0, 0, 0, NO_SIZES)), "gaps are fine");
        assertThrows(NullPointerException.class,
                () -> new Learner(null, Policy.defaults(), LearningState.LEARN, 1));
    }

    private static void assertRefused(String prefix, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().startsWith(prefix), x.getMessage());
    }
}
