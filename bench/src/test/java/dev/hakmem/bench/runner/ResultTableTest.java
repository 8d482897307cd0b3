package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultTableTest {
    private final List<TrialResult> results = List.of(
            Results.ok("json", "hakmem", 1, 10, 6.0, 5.0, 7.0),
            Results.ok("json", "mimalloc", 1, 10, 4.0, 4.0, 4.0),
            Results.ok("json", "netty-pooled", 1, 2, 2.0, 2.0, 2.0),
            TrialResult.failed(new Trial("json", "hakmem-guard", 1), "exit code 1: boom"));

    @Test
    void aRowShowsTheMedianItsSpreadTheRatioToHakmemAndTheRss() {
        String table = ResultTable.format(List.of("json"), List.of(1), results);

        assertTrue(table.contains(
                "  mimalloc                     1      4.00     0%    0.67x     110.0        10.0       1.00        1.00"),
                table);
        assertTrue(table.contains(
                "  hakmem                       1      6.00    33%    1.00x     110.0        10.0       1.00        1.00"),
                table);
        assertTrue(table.contains("  hakmem-guard                 1  failed: exit code 1: boom"), table);
    }

    @Test
    void throughputKeepsThreeSignificantDigitsFromGuardModeToTinyHot() {
        assertEquals("0.000412", ResultTable.mops(0.00041234));
        assertEquals("146", ResultTable.mops(145.67));
        assertEquals("2.65", ResultTable.mops(2.6512));
    }

    @Test
    void theTargetsAreCheckedAgainstTheBestNativeNettyAndMimallocsGrowth() {
        List<String> targets = Targets.check(results);

        assertEquals(List.of(
                "hakmem / best native (mimalloc) Mops/s 1.50 (target >= 1.00: met)",
                "hakmem / netty-pooled Mops/s 3.00 (target >= 5.00: MISSED)",
                "hakmem / mimalloc peak RSS growth (10.0 / 10.0 MiB) 1.00 (target <= 1.25: met)",
                "hakmem RSS after free / start 1.00 (target <= 1.10: met)"), targets);
    }

    @Test
    void growthsWithinTheJvmsNoiseAreNotCompared() {
        List<String> targets = Targets.check(List.of(Results.ok("json", "hakmem", 1, 1, 6.0),
                Results.ok("json", "mimalloc", 1, 0, 4.0)));

        assertTrue(targets.contains("hakmem / mimalloc peak RSS growth (1.0 / 0.0 MiB) within the JVM's noise of 1 MiB:"
                + " met"), targets.toString());
    }

    @Test
    void aFrozenPolicyMustCostNothingOnTheHotPaths() {
        List<String> targets = Targets.check(List.of(Results.ok("tiny_hot", "hakmem", 1, 1, 100.0),
                Results.ok("tiny_hot", "hakmem-frozen", 1, 1, 97.0)));

        assertTrue(targets.contains("hakmem-frozen / hakmem Mops/s 0.97 (target >= 0.98: MISSED)"), targets.toString());
        assertTrue(Targets.check(List.of(Results.ok("json", "hakmem", 1, 1, 100.0),
                Results.ok("json", "hakmem-frozen", 1, 1, 97.0))).stream().noneMatch(t -> t.contains("frozen")),
                "only tiny_hot and random_mixed are hot paths");
    }

    @Test
    void onTheLifetimeMixSitesMustCutThePeakGrowthBy30PercentAtNoLossOfThroughput() {
        List<String> targets = Targets.check(List.of(Results.ok("lifetime_mix", "hakmem", 1, 100, 10.0),
                Results.ok("lifetime_mix", "hakmem-learning", 1, 60, 10.5),
                Results.ok("lifetime_mix", "hakmem-frozen", 1, 80, 9.0)));

        assertTrue(targets.containsAll(List.of(
                "hakmem-learning / hakmem Mops/s 1.05 (target >= 1.00: met)",
                "hakmem-learning / hakmem peak RSS growth (60.0 / 100.0 MiB) 0.60 (target <= 0.70: met)",
                "hakmem-frozen / hakmem Mops/s 0.90 (target >= 1.00: MISSED)",
                "hakmem-frozen / hakmem peak RSS growth (80.0 / 100.0 MiB) 0.80 (target <= 0.70: MISSED)")),
                targets.toString());
        assertTrue(Targets.check(List.of(Results.ok("lifetime_mix", "hakmem", 1, 1, 10.0),
                Results.ok("lifetime_mix", "hakmem-learning", 1, 0, 10.0))).contains(
                "hakmem-learning / hakmem peak RSS growth (0.0 / 1.0 MiB) not compared: hakmem's is within the JVM's"
                        + " noise of 1 MiB"));
    }

    @Test
    void withoutHakmemThereIsNothingToCheck() {
        assertEquals(List.of(), Targets.check(results.subList(1, 3)));
    }
}
