package dev.hakmem.stress;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bug hunt end to end at a high rate (1 in 16, so that a run takes a few seconds): both rare bugs are reported, each
 * with the allocating and the freeing stack at its site (what {@link BugHunt} counts as a report, checked apart).
 */
class BugHuntTest {

    @Test
    void sampledGuardReportsBothRareBugsWithTheirStacks() {
        BugHunt.Result r = BugHunt.run(StressSupport.seed("bug hunt"), 16, 300_000_000_000L, Long.MAX_VALUE);
        System.out.println(r);
        assertTrue(r.overflowNanos() >= 0, "the overflow at 1 in 100,000 was reported: " + r);
        assertTrue(r.writeAfterFreeNanos() >= 0, "the write after free at 1 in 100,000 was reported: " + r);
    }

    /**
     * A report counts only with the site's frame in its freeing stack as well as in its allocating one (the site
     * frees its block itself): one whose freeing stack is empty, or lacks that frame, does not.
     */
    @Test
    void aReportCountsOnlyWithTheSitesFrameInItsFreeingStack() {
        String site = "BugHunt.cacheEntry";
        String report = "write after free: byte at offset 23 of freed sampled block 0x7f0000040010 (24 B requested,"
                + " placed at the start of slot 0x7f0000040000)\n  allocated by thread \"main\" #1"
                + "\n    at dev.hakmem.stress.BugHunt.cacheEntry(BugHunt.java:127)"
                + "\n    at dev.hakmem.stress.BugHunt.hunt(BugHunt.java:90)\n  freed by thread \"main\" #1";
        assertTrue(BugHunt.namesBothStacks(report + "\n    at dev.hakmem.stress.BugHunt.cacheEntry(BugHunt.java:129)"
                + "\n    at dev.hakmem.stress.BugHunt.hunt(BugHunt.java:90)", site));
        assertFalse(BugHunt.namesBothStacks(report, site), "an empty freeing stack");
        assertFalse(BugHunt.namesBothStacks(report + "\n    at dev.hakmem.stress.BugHunt.hunt(BugHunt.java:90)", site),
                "a freeing stack without the site's frame");
    }
}
