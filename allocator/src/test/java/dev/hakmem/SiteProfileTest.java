package dev.hakmem;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SiteProfile} as a value of the public API: the constructor refuses each contradiction its javadoc names,
 * the arrays are copied and sorted, equality covers every field, and the derived figures (quantiles, survival
 * share, remote share) follow their documented definitions, including the empty cases.
 */
class SiteProfileTest {
    private static final long[] NONE = {};

    private static SiteProfile profile(long lifetimes, long[] recent, long live, long[] ages, long remote) {
        return new SiteProfile("s", 10, 100, 6400, 0, new long[]{4, 6}, lifetimes, 50, recent, live, ages, remote);
    }

    @Test
    void eachContradictionIsRefusedWithTheSiteNamed() {
        long[] tooMany = new long[SiteProfile.RECENT + 1];
        // More recent lifetimes than RECENT, or than lifetimes.
        assertRefused(() -> profile(SiteProfile.RECENT + 1, tooMany, 0, NONE, 0));
        assertRefused(() -> profile(1, new long[]{5, 6}, 0, NONE, 0));
        // More live ages than RECENT, or than liveSamples.
        assertRefused(() -> profile(0, NONE, SiteProfile.RECENT + 1, tooMany, 0));
        assertRefused(() -> profile(0, NONE, 1, new long[]{5, 6}, 0));
        // More remote frees than lifetimes.
        assertRefused(() -> profile(2, new long[]{1, 2}, 0, NONE, 3));
        assertThrows(NullPointerException.class, () -> new SiteProfile(null, 0, 0, 0, 0, NONE, 0, 0, NONE, 0, NONE, 0));
        assertEquals(2, profile(2, new long[]{1, 2}, 1, new long[]{3}, 2).remoteFrees(), "the bounds themselves are allowed");
    }

    private static void assertRefused(Runnable construction) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construction::run);
        assertTrue(e.getMessage().contains("site s"), e.getMessage());
    }

    @Test
    void arraysAreCopiedAndSortedAndEqualityCoversEveryField() {
        long[] recent = {30, 10, 20};
        long[] ages = {7, 5};
        SiteProfile p = profile(3, recent, 2, ages, 1);
        recent[0] = 99;
        ages[0] = 99;
        assertArrayEquals(new long[]{10, 20, 30}, p.recentLifetimes());
        assertArrayEquals(new long[]{5, 7}, p.liveAges());
        p.recentLifetimes()[0] = 99;
        p.sizeHistogram()[0] = 99;
        assertArrayEquals(new long[]{10, 20, 30}, p.recentLifetimes(), "an accessor hands out a copy");
        assertArrayEquals(new long[]{4, 6}, p.sizeHistogram(), "an accessor hands out a copy");

        SiteProfile same = profile(3, new long[]{20, 30, 10}, 2, new long[]{5, 7}, 1);
        assertEquals(p, same, "order of the arrays given does not matter");
        assertEquals(p.hashCode(), same.hashCode());
        assertNotEquals(p, "s");
        long[] h = {4, 6};
        SiteProfile[] oneFieldOff = {
                new SiteProfile("t", 10, 100, 6400, 0, h, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 11, 100, 6400, 0, h, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 101, 6400, 0, h, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6401, 0, h, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 1, h, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, new long[]{4, 7}, 3, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 4, 50, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 3, 51, recent(), 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 3, 50, new long[]{10, 20, 31}, 2, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 3, 50, recent(), 3, ages(), 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 3, 50, recent(), 2, new long[]{5, 8}, 1),
                new SiteProfile("s", 10, 100, 6400, 0, h, 3, 50, recent(), 2, ages(), 2),
        };
        assertEquals(same, new SiteProfile("s", 10, 100, 6400, 0, h, 3, 50, recent(), 2, ages(), 1));
        for (SiteProfile other : oneFieldOff) {
            assertNotEquals(same, other, other.toString());
        }
    }

    private static long[] recent() {
        return new long[]{10, 20, 30};
    }

    private static long[] ages() {
        return new long[]{5, 7};
    }

    @Test
    void derivedFiguresFollowTheirDefinitions() {
        SiteProfile empty = profile(0, NONE, 0, NONE, 0);
        assertEquals(0, empty.medianLifetimeNanos());
        assertEquals(0, empty.p90LifetimeNanos());
        assertEquals(0, empty.observedMedianNanos());
        assertEquals(0.0, empty.survivalShare(1));
        assertEquals(0.0, empty.remoteFreeShare());

        // Recent lifetimes 10, 20, 20, 20, 40 and live ages 20, 50: nearest-rank quantiles of the lifetimes.
        SiteProfile p = profile(5, new long[]{40, 20, 10, 20, 20}, 2, new long[]{50, 20}, 2);
        assertEquals(20, p.medianLifetimeNanos());
        assertEquals(40, p.p90LifetimeNanos());
        assertEquals(20, p.observedMedianNanos(), "the median of the lifetimes and the ages together");
        // At least 20: the three 20s, 40, and both ages (a live block counts by its age so far): 6 of 7.
        assertEquals(6.0 / 7, p.survivalShare(20), 1e-12, "equal values count as surviving");
        assertEquals(1.0 / 7, p.survivalShare(41), 1e-12, "only the live block of age 50");
        assertEquals(1.0, p.survivalShare(0), 1e-12);
        assertEquals(0.0, p.survivalShare(51), 1e-12);
        assertEquals(0.4, p.remoteFreeShare(), 1e-12);
    }
}
