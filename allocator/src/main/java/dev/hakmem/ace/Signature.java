package dev.hakmem.ace;

import dev.hakmem.stats.SizeGrid;

/**
 * The shape of a size distribution: the share of sampled mallocs per power of two (hakmem's size-class distribution
 * signature, Phase 6.5). CANARY compares the signature of what it sees with the one taken at freeze time; a large
 * L1 distance means the workload's sizes moved and the frozen policy was tuned for other sizes.
 *
 * <pre>
 *   SizeGrid buckets (16 per power of two) --&gt; coarse buckets: [0, 32), [32, 64), [64, 128), ... , [2^46, ...)
 *   share_c = count_c / total                  distance(a, b) = sum_c |a.share_c - b.share_c|, in [0, 2]
 * </pre>
 *
 * Coarse buckets, because a distribution that moves within a power of two keeps its classes' behaviour, and
 * because few buckets need few samples: two samples of n mallocs from one distribution spread evenly over k buckets
 * lie about {@code 2 sqrt((k - 1) / (pi n))} apart, 0.09 for 4 buckets and 512 samples ({@link #MIN_SAMPLES}),
 * well below the shift threshold (0.5 by default).
 */
public final class Signature {
    /** [0, 32) and then one bucket per power of two up to SizeGrid's last. */
    public static final int BUCKETS = 1 + (SizeGrid.BUCKETS - 32) / 16;
    /** A signature of fewer samples is too noisy to compare. */
    public static final double MIN_SAMPLES = 512;

    private final double[] share = new double[BUCKETS];
    private final double samples;

    private Signature(double[] sizeHistogram) {
        double total = 0;
        for (int b = 0; b < sizeHistogram.length; b++) {
            share[coarse(b)] += sizeHistogram[b];
            total += sizeHistogram[b];
        }
        if (total > 0) {
            for (int c = 0; c < BUCKETS; c++) {
                share[c] /= total;
            }
        }
        this.samples = total;
    }

    /** The signature of a histogram over {@link SizeGrid} buckets (counts, possibly decayed). */
    public static Signature of(double[] sizeHistogram) {
        if (sizeHistogram.length != SizeGrid.BUCKETS) {
            throw new IllegalArgumentException("Signature: a histogram has " + SizeGrid.BUCKETS + " buckets, not "
                    + sizeHistogram.length);
        }
        return new Signature(sizeHistogram);
    }

    static int coarse(int sizeGridBucket) {
        return sizeGridBucket < 32 ? 0 : 1 + (sizeGridBucket - 32) / 16;
    }

    /** How many samples it was made from (a decayed histogram's weight). */
    public double samples() {
        return samples;
    }

    /** The share of coarse bucket {@code c}; all zero for a signature of no samples. */
    public double share(int c) {
        return share[c];
    }

    /** The L1 distance, in [0, 2]: twice the share of the samples that would have to move to match. */
    public double distance(Signature other) {
        double d = 0;
        for (int c = 0; c < BUCKETS; c++) {
            d += Math.abs(share[c] - other.share[c]);
        }
        return d;
    }
}
