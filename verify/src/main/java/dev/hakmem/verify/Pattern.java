package dev.hakmem.verify;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A reproducible byte pattern for off-heap memory: {@link #fill} writes it, {@link #check} finds the first byte that
 * differs.
 *
 * <p>Word {@code k} (bytes {@code 8k..8k+7}) of a range is the SplitMix64 output number {@code k} of a stream keyed by
 * the seed and the range's start address, stored little-endian; a tail shorter than a word takes the word's low
 * bytes. Keying by the address makes two blocks filled with the same seed differ, so a block that aliases another or
 * was copied to the wrong place is caught too.
 */
public final class Pattern {

    /** All of the address space, so any address is an offset and no segment has to be built per call. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Fixed byte order, so the bytes of the pattern are the same on every platform. */
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private Pattern() {
    }

    /** Fills {@code [address, address + size)} with the pattern of {@code seed} at {@code address}. */
    public static void fill(long address, long size, long seed) {
        checkRange(address, size);
        long base = streamBase(address, seed);
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            ALL.set(WORD, address + (k << 3), word(base, k));
        }
        long tail = size & 7;
        if (tail != 0) {
            long w = word(base, words);
            long at = address + (words << 3);
            for (int j = 0; j < tail; j++) {
                ALL.set(ValueLayout.JAVA_BYTE, at + j, (byte) (w >>> (j << 3)));
            }
        }
    }

    /**
     * Checks {@code [address, address + size)} against what {@code fill(address, size, seed)} wrote.
     *
     * @return -1 if every byte matches, else the offset of the first byte that differs
     */
    public static long check(long address, long size, long seed) {
        return check(address, size, seed, address);
    }

    /**
     * Checks {@code [address, address + size)} against what {@code fill(origin, size, seed)} wrote at
     * {@code origin}: for contents that were moved, such as the preserved prefix of a reallocated block.
     *
     * @return -1 if every byte matches, else the offset of the first byte that differs
     */
    public static long check(long address, long size, long seed, long origin) {
        checkRange(address, size);
        long base = streamBase(origin, seed);
        long words = size >>> 3;
        for (long k = 0; k < words; k++) {
            long diff = ALL.get(WORD, address + (k << 3)) ^ word(base, k);
            if (diff != 0) {
                // Little-endian: the lowest differing bit lies in the first differing byte.
                return (k << 3) + (Long.numberOfTrailingZeros(diff) >>> 3);
            }
        }
        long tail = size & 7;
        if (tail != 0) {
            long w = word(base, words);
            long at = address + (words << 3);
            for (int j = 0; j < tail; j++) {
                if (ALL.get(ValueLayout.JAVA_BYTE, at + j) != (byte) (w >>> (j << 3))) {
                    return (words << 3) + j;
                }
            }
        }
        return -1;
    }

    /** The byte {@code fill(origin, size, seed)} writes at {@code offset}, for any size greater than the offset. */
    public static byte expected(long origin, long seed, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException("negative offset: " + offset);
        }
        return (byte) (word(streamBase(origin, seed), offset >>> 3) >>> ((offset & 7) << 3));
    }

    /** The byte currently stored at {@code address}, for error messages. */
    static byte read(long address) {
        checkRange(address, 1);
        return ALL.get(ValueLayout.JAVA_BYTE, address);
    }

    private static long streamBase(long origin, long seed) {
        return mix(seed ^ mix(origin + GOLDEN_GAMMA));
    }

    private static long word(long base, long k) {
        return mix(base + (k + 1) * GOLDEN_GAMMA);
    }

    /** The SplitMix64 finalizer (Stafford's variant 13): every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A bad range would crash the JVM instead of throwing, so it is refused before any access. */
    private static void checkRange(long address, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
        if (size > 0 && (address <= 0 || address > Long.MAX_VALUE - size)) {
            throw new IllegalArgumentException(
                    "not a valid native range: 0x" + Long.toHexString(address) + " + " + size);
        }
    }
}
