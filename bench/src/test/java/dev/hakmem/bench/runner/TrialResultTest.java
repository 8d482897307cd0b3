package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TrialResultTest {
    private final Trial trial = new Trial("tiny_hot", "hakmem", 2);

    @Test
    void theChildsLineReadsBackAsTheSameResult() {
        TrialResult result = new TrialResult(trial, TrialResult.Status.OK, "", List.of(1.5, 2.25, 1.75),
                1000, 5000, 1200, 900);

        assertEquals(result, TrialResult.parse(trial, result.toLine()));
    }

    @Test
    void derivedFiguresComeFromTheRssReadings() {
        TrialResult result = new TrialResult(trial, TrialResult.Status.OK, "", List.of(3.0, 1.0, 2.0),
                1000, 5000, 1200, 900);

        assertEquals(2.0, result.medianMops());
        assertEquals(4000, result.peakGrowth());
        assertEquals(1.2, result.afterFreeRatio(), 1e-12);
        assertEquals(0.9, result.afterCloseRatio(), 1e-12);
    }

    @Test
    void anUnknownPeakLeavesTheGrowthUnknown() {
        TrialResult result = new TrialResult(trial, TrialResult.Status.OK, "", List.of(1.0), 1000, -1, 1000, 1000);

        assertEquals(-1, result.peakGrowth());
    }

    @Test
    void aSkippedTrialIsWrittenAsASkipLine() {
        TrialResult skipped = TrialResult.skipped(trial, "arena-confined frees blocks only on its own thread");

        assertEquals("SKIPPED arena-confined frees blocks only on its own thread", skipped.toLine());
        assertEquals(skipped, TrialResult.parse(trial, skipped.toLine()));
    }

    @Test
    void aSkipLineKeepsItsMessage() {
        TrialResult result = TrialResult.parse(trial, "SKIPPED jemalloc is not installed");

        assertEquals(TrialResult.Status.SKIPPED, result.status());
        assertEquals("jemalloc is not installed", result.message());
    }
}
