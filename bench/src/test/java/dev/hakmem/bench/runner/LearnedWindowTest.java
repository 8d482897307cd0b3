package dev.hakmem.bench.runner;

import dev.hakmem.LearningState;
import dev.hakmem.LearningWindow;
import dev.hakmem.Policy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearnedWindowTest {
    private static final Policy TRIED = Policy.builder().wMax(1.5).bigThreshold(256 << 10).bridgeClasses(40960, 49152)
            .site(new Policy.SiteRule("cache", true, false)).site(new Policy.SiteRule("vm, big", false, true)).build();

    private static LearnedWindow window(long index, LearningState state, Policy policy, String trial, double cost) {
        return new LearnedWindow(new LearningWindow(index, state, policy, trial, cost, 5000), "json>mir");
    }

    @Test
    void aLineShowsThePhasesTheStateTheCostTheKnobsAndTheTrial() {
        String line = window(12, LearningState.LEARN, TRIED, "wMax: 1.25 -> 1.5", 123.456).line();

        assertEquals("    12  json>mir             LEARN       123.5       5000     1.5  256 KiB   64 MiB   250 ms"
                + "  40 KiB;48 KiB    cache long-lived;vm, big direct wMax: 1.25 -> 1.5", line);
        assertTrue(window(0, LearningState.FROZEN, Policy.defaults(), "", Double.NaN).line()
                .contains("FROZEN          -"), "an unscored window's cost is a dash");
    }

    @Test
    void theCsvHasBytesAndMillisecondsQuotedFieldsAndEmptyCostsForUnscoredWindows() {
        String csv = LearnedWindow.csv(List.of(window(3, LearningState.CANARY, TRIED, "bridge +40960", 99.5),
                window(4, LearningState.FROZEN, Policy.defaults(), "", Double.NaN)));

        assertEquals(LearnedWindow.CSV_HEADER + "\r\n"
                + "3,json>mir,CANARY,bridge +40960,99.5000,5000,1.5,262144,67108864,250,40960;49152,"
                + "\"cache long-lived;vm, big direct\"\r\n"
                + "4,json>mir,FROZEN,,,5000,1.25,1048576,67108864,250,,\r\n", csv);
        assertEquals(LearnedWindow.CSV_HEADER.split(",").length, csv.split("\r\n")[2].split(",", -1).length);
    }

    @Test
    void theBestPolicyIsTheOneTheLastWindowWithoutATrialRan() {
        Policy incumbent = Policy.builder().wMax(1.125).build();
        List<LearnedWindow> windows = List.of(window(0, LearningState.LEARN, Policy.defaults(), "", 10),
                window(1, LearningState.LEARN, incumbent, "", 9),
                window(2, LearningState.LEARN, TRIED, "wMax: 1.125 -> 1.5", 8));

        assertEquals(incumbent, LearnedWindow.best(windows, TRIED));
        assertEquals(TRIED, LearnedWindow.best(List.of(), TRIED), "no window: the policy in force");
    }

    /** A cost of 0 (or an unscored window) has no place on the cost panel's log axis: it is left out, not fatal. */
    @Test
    void theChartDrawsRunsWithWindowsCostingNothingOrUnscored(@TempDir Path dir) throws IOException {
        Path chart = dir.resolve("learn.png");

        LearnChart.write(chart, List.of(window(0, LearningState.LEARN, Policy.defaults(), "", 10),
                window(1, LearningState.FROZEN, Policy.defaults(), "", 0),
                window(2, LearningState.FROZEN, Policy.defaults(), "", Double.NaN),
                window(3, LearningState.CANARY, TRIED, "wMax: 1.25 -> 1.5", 12)));

        assertTrue(Files.size(chart) > 0);
    }
}
