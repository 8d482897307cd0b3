package dev.hakmem.stats;

/**
 * Buckets of request sizes with 5 significant bits: every size below 32 is its own bucket, and each power of two
 * above is split in 16. The pool's classes for any W_MAX lie on this grid (see {@code PoolClasses}), so a histogram
 * over it tells exactly how much each candidate class would round up. Sizes histograms of sites and of the learner's
 * windows use it; {@link #BUCKETS} covers every size up to 2^47.
 *
 * <pre>
 *   size:    0 1 .. 31 | 32 34 .. 62 | 64 68 .. 124 | 128 ... | 2^k + j * 2^(k-4), j in [0, 16)
 *   bucket:  0 1 .. 31 | 32 33 .. 47 | 48 49 .. 63  | 64  ... | 32 + 16 * (k - 5) + j
 * </pre>
 */
public final class SizeGrid {
    private static final int MAX_LOG = 47;
    public static final int BUCKETS = 32 + 16 * (MAX_LOG - 5);

    private SizeGrid() {
    }

    /** The bucket holding {@code size} (sizes of 2^47 and more share the last bucket). */
    public static int bucketOf(long size) {
        if (size < 32) {
            return (int) Math.max(size, 0);
        }
        int k = 63 - Long.numberOfLeadingZeros(size);
        if (k >= MAX_LOG) {
            return BUCKETS - 1;
        }
        return 32 + 16 * (k - 5) + (int) ((size >>> (k - 4)) & 15);
    }

    /** The smallest size in bucket {@code b}. */
    public static long low(int b) {
        if (b < 32) {
            return b;
        }
        int k = (b - 32) / 16 + 5;
        return (1L << k) + (long) ((b - 32) % 16) * (1L << (k - 4));
    }

    /** The largest size in bucket {@code b}. */
    public static long high(int b) {
        return b == BUCKETS - 1 ? Long.MAX_VALUE : low(b + 1) - 1;
    }
}
