package dev.hakmem.site;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The rules profiles imply, on profiles recorded with a controlled clock (windows of 1 ms). */
class SiteRulesTest {
    private static final long WINDOW = 1_000_000;
    private static final long T0 = 1_000_000_000L;

    /**
     * A profile of {@code freed} blocks that lived {@code lifetime} ns and {@code live} blocks of age {@code age},
     * each of {@code size} bytes.
     */
    private static SiteProfile profile(int freed, long lifetime, int live, long age, long size) {
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        long address = 0;
        for (int i = 0; i < freed; i++) {
            p.recordMalloc(s, address, size, 1, T0, 1);
            p.freed(p.forget(address++), T0 + lifetime, 1);
        }
        for (int i = 0; i < live; i++) {
            p.recordMalloc(s, address++, size, 1, T0, 1);
        }
        return p.profile(s, T0 + age);
    }

    @Test
    void shortLivedBlocksMakeNoRule() {
        assertEquals(new Policy.SiteRule("site", false, false), SiteRules.decide(profile(100, 1000, 2, 0, 64), WINDOW));
    }

    @Test
    void blocksOutlivingTwoWindowsMakeALongLivedSite() {
        assertEquals(new Policy.SiteRule("site", true, false),
                SiteRules.decide(profile(20, 3 * WINDOW, 0, 0, 64), WINDOW));
    }

    /** A site whose blocks are never freed is judged by their ages, lower bounds of their lifetimes. */
    @Test
    void blocksNeverFreedCountByTheirAge() {
        assertEquals(new Policy.SiteRule("site", true, false),
                SiteRules.decide(profile(0, 0, 20, 5 * WINDOW, 64), WINDOW));
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(0, 0, 20, WINDOW, 64), WINDOW), "not two windows old yet");
    }

    /** Long-lived in the median, but a third die young: they would pin the long-lived heap's slabs in turn. */
    @Test
    void aSiteSplitBetweenLongAndShortLivesIsNotLongLived() {
        SiteProfile mixed = profile(10, 100, 0, 0, 64);
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        for (int i = 0; i < 30; i++) {
            p.recordMalloc(s, i, 64, 1, T0, 1);
            if (i < 10) {
                p.freed(p.forget(i), T0 + 100, 1);
            }
        }
        SiteProfile split = p.profile(s, T0 + 10 * WINDOW);
        assertEquals(2.0 / 3, split.survivalShare(WINDOW), 1e-12);
        assertEquals(false, SiteRules.decide(split, WINDOW).longLived());
        assertEquals(false, SiteRules.decide(mixed, WINDOW).longLived());
    }

    @Test
    void tooFewObservationsDecideNothing() {
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(0, 0, SiteRules.MIN_OBSERVED - 1, 100 * WINDOW, 64), WINDOW));
    }

    @Test
    void aLongLivedSiteOfLargeBlocksIsDirect() {
        assertEquals(new Policy.SiteRule("site", true, true),
                SiteRules.decide(profile(0, 0, 20, 5 * WINDOW, 256 << 10), WINDOW));
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(100, 1000, 0, 0, 256 << 10), WINDOW), "large but short-lived");
        assertEquals(new Policy.SiteRule("site", true, false),
                SiteRules.decide(profile(0, 0, 20, 5 * WINDOW, 64 << 10), WINDOW), "64 KiB is not above 64 KiB");
    }

    @Test
    void aWindowMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> SiteRules.decide(profile(0, 0, 1, 1, 1), 0));
        SiteProfile ancient = profile(0, 0, 20, Long.MAX_VALUE - T0 - 1, 64);
        assertEquals(1.0, ancient.survivalShare(1L << 62));
        assertEquals(false, SiteRules.decide(ancient, 1L << 62).longLived(),
                "two windows of 2^62 ns do not overflow into a negative bound");
    }
}
