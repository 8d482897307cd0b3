package dev.hakmem.pool;

import dev.hakmem.tiny.TinyClasses;

import java.util.Arrays;

/**
 * The Mid and Large pools' size classes, above Tiny's 1 KiB up to 1 MiB, generated from W_MAX: each class is at
 * most W_MAX times the one below it, so a request is never rounded up by more than W_MAX (hakmem's W_MAX rule).
 *
 * <p>Each class is a multiple of a granularity {@code g = max(64, 2^floor(log2 c) / 2^s)} with
 * {@code 2^-s <= W_MAX - 1}: classes keep few significant bits, so large ones are aligned to large powers of two
 * (which {@code mallocAligned} uses), and every class is a multiple of 64 (which the size-to-class table uses).
 */
public final class PoolClasses {
    public static final int MAX = 1 << 20;
    public static final int GRANULE = 64;
    /** Mid ends here; above it is the Large pool. */
    public static final int MID_MAX = 64 << 10;

    private PoolClasses() {
    }

    public static int[] sizes(double wMax) {
        int s = 0;
        while (Math.scalb(1.0, -s) > wMax - 1) {
            s++;
        }
        int[] out = new int[64];
        int n = 0;
        long prev = TinyClasses.MAX;
        while (prev < MAX) {
            long g = Math.max(GRANULE, Long.highestOneBit(prev) >>> s);
            long next = Math.min(MAX, (long) Math.floor(prev * wMax / g) * g);
            if (next <= prev) {
                next = prev + g;
            }
            if (n == out.length) {
                out = Arrays.copyOf(out, n * 2);
            }
            out[n++] = (int) next;
            prev = next;
        }
        return Arrays.copyOf(out, n);
    }
}
