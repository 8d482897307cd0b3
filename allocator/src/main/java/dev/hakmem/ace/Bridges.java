package dev.hakmem.ace;

import dev.hakmem.Policy;
import dev.hakmem.stats.SizeGrid;

import java.util.Arrays;

/**
 * Where extra pool classes ("bridges") would pay: at peaks of the size distribution that the policy's classes round
 * up by more than {@link #MARGIN}. The seed's "variable class slot placed at a peak of the distribution" (SACS3's
 * first axis, the number and shape of the classes): under W_MAX 1.125 a program whose blocks are mostly 37 KiB
 * wastes 8% of them on 40 KiB classes; a 38 KiB bridge class wastes under 3%.
 *
 * <pre>
 *   sampled sizes   .  .  .  #  .  .        a peak: at least 5% of the pool's sampled mallocs in one bucket
 *   buckets        32K 34K 36K 38K 40K       (SizeGrid: 16 per power of two)
 *   W_MAX 1.125    32K     36K     40K       the peak's sizes round up to 40K: (40K - 37K) / 37K = 8% &gt; 1/16
 *   bridge                     38K           the top of the peak's bucket, on the pool grid
 * </pre>
 *
 * The classes of W_MAX are modelled by the pool's rule (docs/DESIGN.md, "W_MAX"): a class is a multiple of
 * {@code max(64, 2^floor(log2 c) / 2^s)} with {@code 2^-s <= W_MAX - 1}. For every candidate of {@link Axis#W_MAX}
 * (all {@code 1 + 2^-s}) the classes are exactly those multiples; for a W_MAX between candidates they are fewer, so
 * the model may miss a peak but never invents one. A proposal is only a challenger: it becomes a class when it
 * measurably lowers the cost, by the learner's rails, like every other step. A step adds one bridge (the peak that
 * wastes the most bytes) or removes one whose bucket no longer holds half a peak.
 */
final class Bridges {
    /** A peak's sizes must be rounded up by more than this: the grid's own resolution, which no bridge beats. */
    static final double MARGIN = 1.0 / 16;
    /** A peak holds at least this share of the sampled mallocs the pools serve. */
    static final double PEAK_SHARE = 0.05;
    /** Tiny serves up to here; the pools above. */
    private static final long POOL_MIN = 1 << 10;

    private Bridges() {
    }

    /** The bridge classes one step from {@code p}'s that {@code sizeHistogram} asks for, or null if none. */
    static int[] propose(double[] sizeHistogram, Policy p) {
        double poolTotal = 0;
        for (int b = 0; b < sizeHistogram.length; b++) {
            if (inPools(b, p)) {
                poolTotal += sizeHistogram[b];
            }
        }
        if (poolTotal <= 0) {
            return null;
        }
        int[] bridges = p.bridgeClasses();
        if (bridges.length < Policy.MAX_BRIDGE_CLASSES) {
            int peak = -1;
            double peakWaste = 0;
            for (int b = 0; b < sizeHistogram.length; b++) {
                if (!inPools(b, p) || sizeHistogram[b] < PEAK_SHARE * poolTotal) {
                    continue;
                }
                double mid = (SizeGrid.low(b) + SizeGrid.high(b)) / 2.0;
                double rounded = roundUp(SizeGrid.high(b), p);
                double waste = sizeHistogram[b] * (rounded - mid);
                if (rounded > mid * (1 + MARGIN) && waste > peakWaste) {
                    peak = b;
                    peakWaste = waste;
                }
            }
            if (peak >= 0) {
                int[] more = Arrays.copyOf(bridges, bridges.length + 1);
                more[bridges.length] = (int) (SizeGrid.high(peak) + 1);
                Arrays.sort(more);
                return more;
            }
        }
        int weakest = -1;
        double weakestShare = PEAK_SHARE / 2;
        for (int i = 0; i < bridges.length; i++) {
            int b = SizeGrid.bucketOf(bridges[i] - 1L);
            double share = inPools(b, p) ? sizeHistogram[b] / poolTotal : 0;
            if (share < weakestShare) {
                weakest = i;
                weakestShare = share;
            }
        }
        if (weakest < 0) {
            return null;
        }
        int[] fewer = new int[bridges.length - 1];
        System.arraycopy(bridges, 0, fewer, 0, weakest);
        System.arraycopy(bridges, weakest + 1, fewer, weakest, fewer.length - weakest);
        return fewer;
    }

    /** Whether bucket {@code b} is served by the pools under {@code p}, its top included, so it can take a bridge. */
    private static boolean inPools(int b, Policy p) {
        return SizeGrid.low(b) > POOL_MIN && SizeGrid.high(b) < p.bigThreshold();
    }

    /** The block size {@code size} gets from {@code p}'s classes (the W_MAX model above) and bridges. */
    static long roundUp(long size, Policy p) {
        int s = 0;
        while (Math.scalb(1.0, -s) > p.wMax() - 1) {
            s++;
        }
        long granule = Math.max(64, Long.highestOneBit(size) >>> s);
        long rounded = (size + granule - 1) / granule * granule;
        for (int bridge : p.bridgeClasses()) {
            if (bridge >= size && bridge < rounded) {
                rounded = bridge;
            }
        }
        return rounded;
    }
}
