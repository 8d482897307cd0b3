package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatsTest {

    @Test
    void theMedianIsTheMiddleValueOrTheMeanOfTheTwoMiddleOnes() {
        assertEquals(2.0, Stats.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, Stats.median(List.of(4.0, 1.0, 3.0, 2.0)));
        assertEquals(7.0, Stats.median(List.of(7.0)));
        assertTrue(Double.isNaN(Stats.median(List.of())));
    }

    @Test
    void oneOutlierDoesNotMoveTheMedian() {
        assertEquals(10.0, Stats.median(List.of(10.0, 1000.0, 9.0)));
    }

    @Test
    void theSpreadIsTheRangeOverTheMedian() {
        assertEquals(0.5, Stats.spread(List.of(8.0, 10.0, 13.0)), 1e-12);
        assertEquals(0.0, Stats.spread(List.of(5.0)));
    }
}
