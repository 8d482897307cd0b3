package dev.hakmem.ace;

import dev.hakmem.Policy;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
