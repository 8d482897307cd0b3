package dev.hakmem.site;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The rules profiles imply, on profiles recorded with a controlled clock. */
class SiteRulesTest {
    /** The long-lived threshold: 10 ms. */
    private static final long LONG = SiteRules.LONG_LIVED_NANOS;
    private static final long T0 = 1_000_000_000L;

    /**
     * A profile of {@code freed} blocks that lived {@code lifetime} ns and {@code live} blocks of age {@code age},
     * each of {@code size} bytes.
     */
    private static SiteProfile profile(int freed, long lifetime, int live, long age, long size) {
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        long address = 1;   // 0 is null: no block starts there, and the profiler remembers none
        for (int i = 0; i < freed; i++) {
            p.recordMalloc(s, address, size, 1, T0, 1);
            p.freed(address++, T0 + lifetime, 1);
        }
        for (int i = 0; i < live; i++) {
            p.recordMalloc(s, address++, size, 1, T0, 1);
        }
        return p.profile(s, T0 + age);
    }

    @Test
    void shortLivedBlocksMakeNoRule() {
        assertEquals(new Policy.SiteRule("site", false, false), SiteRules.decide(profile(100, 1000, 2, 0, 64)));
    }

    @Test
    void blocksOutlivingTheThresholdMakeALongLivedSite() {
        assertEquals(new Policy.SiteRule("site", true, false),
                SiteRules.decide(profile(20, LONG, 0, 0, 64)));
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(20, LONG - 1, 0, 0, 64)), "one nanosecond short of 10 ms");
    }

    /**
     * The rule depends on lifetimes, never on how often a heap measures: the lifetime mix's cache entries (about
     * 55 ms) are long-lived, as they are at any learning window; the threshold is the same 10 ms at every window.
     */
    @Test
    void aCacheOfEntriesLivingFiftyFiveMillisecondsIsLongLived() {
        assertEquals(true, SiteRules.decide(profile(40, 55_000_000L, 10, 30_000_000L, 300)).longLived());
    }

    /** A site whose blocks are never freed is judged by their ages, lower bounds of their lifetimes. */
    @Test
    void blocksNeverFreedCountByTheirAge() {
        assertEquals(new Policy.SiteRule("site", true, false),
                SiteRules.decide(profile(0, 0, 20, 5 * LONG, 64)));
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(0, 0, 20, LONG - 1, 64)), "not 10 ms old yet");
    }

    /** Long-lived in the median, but a third die young: they would pin the long-lived heap's slabs in turn. */
    @Test
    void aSiteSplitBetweenLongAndShortLivesIsNotLongLived() {
        SiteProfile mixed = profile(10, 100, 0, 0, 64);
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        for (int i = 1; i <= 30; i++) {
            p.recordMalloc(s, i, 64, 1, T0, 1);
            if (i <= 10) {
                p.freed(i, T0 + 100, 1);
            }
        }
        SiteProfile split = p.profile(s, T0 + 10 * LONG);
        assertEquals(2.0 / 3, split.survivalShare(LONG), 1e-12);
        assertEquals(false, SiteRules.decide(split).longLived());
        assertEquals(false, SiteRules.decide(mixed).longLived());
    }

    /** The edges are inclusive: {@value SiteRules#MIN_OBSERVED} blocks decide, and 75% surviving is long-lived. */
    @Test
    void exactlyTheMinimumObservationsAndExactlyTheSurvivalShareMakeALongLivedSite() {
        assertEquals(true, SiteRules.decide(profile(0, 0, SiteRules.MIN_OBSERVED, 5 * LONG, 64)).longLived());
        SiteProfile threeQuarters = profile(4, 100, 12, 5 * LONG, 64);
        assertEquals(SiteRules.SURVIVAL_SHARE, threeQuarters.survivalShare(LONG), 0);
        assertEquals(true, SiteRules.decide(threeQuarters).longLived());
    }

    @Test
    void tooFewObservationsDecideNothing() {
        assertEquals(new Policy.SiteRule("site", false, false),
                SiteRules.decide(profile(0, 0, SiteRules.MIN_OBSERVED - 1, 100 * LONG, 64)));
    }

    @Test
    void aLongLivedSiteOfLargeBlocksIsDirect() {
        // The bucket of 256 KiB is 256..272 KiB: it pre-sizes 272 KiB, a class larger than the 256 KiB one, which the
        // site's requests of 256 KiB keep using (ActivePolicyTest).
        assertEquals(new Policy.SiteRule("site", true, true, 272 << 10),
                SiteRules.decide(profile(0, 0, 20, 5 * LONG, 256 << 10)));
        assertEquals(new Policy.SiteRule("site", false, false, 272 << 10),
                SiteRules.decide(profile(100, 1000, 0, 0, 256 << 10)), "large but short-lived");
        assertEquals(new Policy.SiteRule("site", true, false, 68 << 10),
                SiteRules.decide(profile(0, 0, 20, 5 * LONG, 64 << 10)), "64 KiB is not above 64 KiB");
    }

    /**
     * Direct takes more than half the bytes in blocks above 64 KiB: a long-lived site with exactly half of them there
     * keeps its large blocks in the pools.
     */
    @Test
    void exactlyHalfTheBytesInLargeBlocksIsNotDirect() {
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        for (int i = 1; i <= 30; i++) {
            p.recordMalloc(s, i, i <= 10 ? 128 << 10 : 64 << 10, 1, T0, 1);
        }
        SiteProfile half = p.profile(s, T0 + 5 * LONG);
        assertEquals(half.bytes(), 2 * half.largeBytes());
        Policy.SiteRule rule = SiteRules.decide(half);
        assertEquals(true, rule.longLived());
        assertEquals(false, rule.direct());
    }

    /** Sampled requests of the given sizes, each block freed at once. */
    private static SiteProfile sizes(long... sizes) {
        Profiler p = new Profiler(1, 1 << 12, 1);
        SiteState s = p.site("site");
        for (int i = 0; i < sizes.length; i++) {
            p.recordMalloc(s, i + 1, sizes[i], 1, T0, 1);
            p.freed(i + 1, T0 + 1000, 1);
        }
        return p.profile(s, T0 + 1000);
    }

    /** Requests of 40,000 B fall in the bucket 38,912..40,959: the site pre-sizes the grid size above, 40,960. */
    @Test
    void aSiteWithMostRequestsInOneBucketPreSizesTheGridSizeAboveIt() {
        long[] requests = new long[40];
        Arrays.fill(requests, 0, 20, 40_000);
        Arrays.fill(requests, 20, 40, 1000 + 37);
        requests[39] = 38_912;
        assertEquals(40_960, SiteRules.decide(sizes(requests)).presize(), "21 of 40 in one bucket");
        requests[39] = 5000;
        assertEquals(40_960, SiteRules.decide(sizes(requests)).presize(), "20 of 40: at least half");
        requests[0] = 20_000;
        requests[1] = 20_000;
        assertEquals(0, SiteRules.decide(sizes(requests)).presize(), "19 of 40 in the largest bucket");
    }

    @Test
    void onlyPoolSizesArePreSized() {
        long[] tiny = new long[20];
        Arrays.fill(tiny, 1000);
        assertEquals(0, SiteRules.decide(sizes(tiny)).presize(), "Tiny's classes are not the pools'");
        long[] big = new long[20];
        Arrays.fill(big, 3L << 20);
        assertEquals(0, SiteRules.decide(sizes(big)).presize(), "above the pools");
        long[] few = new long[SiteRules.MIN_OBSERVED - 1];
        Arrays.fill(few, 40_000);
        assertEquals(0, SiteRules.decide(sizes(few)).presize(), "too few observations");
    }
}
