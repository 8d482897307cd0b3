package dev.hakmem.ace;

import dev.hakmem.Policy;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BridgesTest {

    /** The model of W_MAX's classes is the pool's own for every candidate of the W_MAX axis, at every pool size. */
    @Test
    void theClassModelMatchesThePoolsClassesForEveryCandidate() {
        for (int i = 0; i < Axis.W_MAX.candidates(); i++) {
            Policy p = Axis.W_MAX.with(Policy.defaults(), i);
            int[] classes = PoolClasses.sizes(p.wMax());
            for (long size = 1025; size <= PoolClasses.MAX; size += 61) {
                int at = Arrays.binarySearch(classes, (int) size);
                long expected = classes[at >= 0 ? at : -at - 1];
                assertEquals(expected, Bridges.roundUp(size, p), "W_MAX " + p.wMax() + ", size " + size);
            }
        }
    }

    @Test
    void aPeakRoundedUpByMoreThanTheMarginGetsABridgeAtItsBucketsTop() {
        Policy p = Policy.defaults().toBuilder().wMax(1.125).build();
        double[] h = histogram(37 << 10, 100, 600, 900);
        assertArrayEquals(new int[] {38912}, Bridges.propose(h, p), "37 KiB rounds up to 40 KiB: 8%");
        Policy bridged = p.toBuilder().bridgeClasses(38912).build();
        assertEquals(38912, Bridges.roundUp(38000, bridged));
        assertNull(Bridges.propose(h, bridged), "served: nothing more to add, and the bridge is in use");
        assertNull(Bridges.propose(h, p.toBuilder().wMax(1.0625).build()), "every grid point is a class: 1/16 at most");
    }

    @Test
    void smallPeaksTinySizesAndBigSizesGetNoBridge() {
        Policy p = Policy.defaults().toBuilder().wMax(1.5).build();
        assertNull(Bridges.propose(histogram(37 << 10, 4, 0, 96), p), "4% of the pools' mallocs is no peak");
        assertNull(Bridges.propose(histogram(37 << 10, 0, 500, 0), p), "no malloc in the pools at all");
        Policy small = p.toBuilder().bigThreshold(64 << 10).build();
        assertNull(Bridges.propose(histogram(100 << 10, 100, 600, 0), small), "100 KiB goes to the Big tier");
    }

    @Test
    void aBridgeWhoseBucketEmptiedIsRemovedTheWeakestFirst() {
        Policy p = Policy.defaults().toBuilder().wMax(1.0625).bridgeClasses(3072, 106496).build();
        double[] h = histogram(100 << 10, 100, 0, 0);
        h[SizeGrid.bucketOf(3000)] = 2;
        assertArrayEquals(new int[] {106496}, Bridges.propose(h, p), "3 KiB's bucket holds 2% of the pools' mallocs");
        h[SizeGrid.bucketOf(3000)] = 3;
        assertNull(Bridges.propose(h, p), "2.9%: above half a peak, kept");
        Policy lowered = p.toBuilder().bigThreshold(64 << 10).build();
        assertArrayEquals(new int[] {3072}, Bridges.propose(h, lowered), "104 KiB is past the big threshold now");
    }

    /** "At least 5%": a bucket holding exactly 5% of the pools' mallocs (3 of 60) is a peak. */
    @Test
    void aBucketHoldingExactlyFivePercentIsAPeak() {
        Policy p = Policy.defaults().toBuilder().wMax(1.125).build();
        double[] h = histogram(37 << 10, 3, 0, 57);
        assertEquals(Bridges.PEAK_SHARE * 60, h[SizeGrid.bucketOf(37 << 10)], "exactly 5%");
        assertArrayEquals(new int[] {38912}, Bridges.propose(h, p));
    }

    /**
     * The peak that wastes the most bytes, count times (rounded - mid), gets the bridge: under W_MAX 1.125, 10 mallocs
     * at 37 KiB wasting 3072.5 B each (30 725 B) beat 18 at 22.5 KiB wasting 1536.5 B each (27 657 B), though the
     * latter are more numerous.
     */
    @Test
    void thePeakThatWastesTheMostBytesGetsTheBridge() {
        Policy p = Policy.defaults().toBuilder().wMax(1.125).build();
        double[] h = histogram(23_000, 18, 0, 0);
        assertArrayEquals(new int[] {23552}, Bridges.propose(h, p), "alone, 22.5 KiB is a peak too");
        h[SizeGrid.bucketOf(37 << 10)] = 10;
        assertArrayEquals(new int[] {38912}, Bridges.propose(h, p));
    }

    /**
     * A policy has at most {@link Policy#MAX_BRIDGE_CLASSES} bridges: with 8 (68 to 96 KiB), the 37 KiB peak gets no
     * ninth, and the step can only remove the one whose bucket is empty.
     */
    @Test
    void withEightBridgesAPeakGetsNoNinth() {
        int[] eight = new int[Policy.MAX_BRIDGE_CLASSES];
        for (int i = 0; i < eight.length; i++) {
            eight[i] = (17 + i) << 12;
        }
        Policy p = Policy.defaults().toBuilder().wMax(1.125).bridgeClasses(eight).build();
        double[] h = histogram(37 << 10, 40, 0, 0);
        for (int i = 1; i < eight.length; i++) {
            h[SizeGrid.bucketOf(eight[i] - 1L)] = 8;
        }
        assertArrayEquals(Arrays.copyOfRange(eight, 1, eight.length), Bridges.propose(h, p));
    }

    /** "No longer holds half a peak": a bridge whose bucket holds exactly 2.5% (1 of 40) is kept. */
    @Test
    void aBridgeWhoseBucketHoldsExactlyHalfAPeakIsKept() {
        Policy p = Policy.defaults().toBuilder().wMax(1.0625).bridgeClasses(3072, 106496).build();
        double[] h = histogram(100 << 10, 39, 0, 0);
        h[SizeGrid.bucketOf(3000)] = 1;
        assertNull(Bridges.propose(h, p));
    }

    /** Tiny serves up to 1 KiB: the bucket [1024, 1088) is not all the pools', so its peak gets no bridge. */
    @Test
    void thePeakOfTheBucketStartingAtOneKibGetsNoBridge() {
        Policy p = Policy.defaults().toBuilder().wMax(1.125).build();
        assertTrue(Bridges.roundUp(1087, p) > (1024 + 1087) / 2.0 * (1 + Bridges.MARGIN), "it wastes enough for one");
        assertNull(Bridges.propose(histogram(1 << 10, 50, 0, 50), p));
    }

    /** A bridge serves its own size: a request of exactly the bridge's size is rounded to it, not to the next class. */
    @Test
    void aRequestOfExactlyABridgesSizeGetsTheBridge() {
        Policy bridged = Policy.defaults().toBuilder().wMax(1.125).bridgeClasses(38912).build();
        assertEquals(38912, Bridges.roundUp(38912, bridged));
        assertEquals(40960, Bridges.roundUp(38913, bridged));
    }

    /**
     * {@code peak} mallocs at {@code size}, {@code tiny} at 100 B, {@code spread} spread evenly over [2 KiB, 16 KiB):
     * 48 buckets, each with at most 1/48 of the pools' mallocs: the spread makes no peak.
     */
    private static double[] histogram(long size, double peak, double tiny, double spread) {
        double[] h = new double[SizeGrid.BUCKETS];
        h[SizeGrid.bucketOf(size)] += peak;
        h[SizeGrid.bucketOf(100)] += tiny;
        int from = SizeGrid.bucketOf(2048);
        int to = SizeGrid.bucketOf((16 << 10) - 1);
        for (int b = from; b <= to; b++) {
            h[b] += spread / (to - from + 1);
        }
        return h;
    }
}
