package dev.hakmem.stress;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bug hunt end to end at a high rate (1 in 16, so that a run takes a few seconds): both rare bugs are reported, each
 * with the allocating and the freeing stack at its site (what {@link BugHunt} counts as a report).
 */
class BugHuntTest {

    @Test
    void sampledGuardReportsBothRareBugsWithTheirStacks() {
        BugHunt.Result r = BugHunt.run(StressSupport.seed("bug hunt"), 16, 300_000_000_000L, Long.MAX_VALUE);
        System.out.println(r);
        assertTrue(r.overflowNanos() >= 0, "the overflow at 1 in 100,000 was reported: " + r);
        assertTrue(r.writeAfterFreeNanos() >= 0, "the write after free at 1 in 100,000 was reported: " + r);
    }
}
