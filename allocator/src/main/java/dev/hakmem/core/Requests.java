package dev.hakmem.core;

/** Argument checks shared by the allocator and guard mode, so both refuse the same inputs the same way. */
public final class Requests {
    /** What every block is aligned to at least (HakMem's promise): an aligned malloc up to it is a plain one. */
    public static final long MALLOC_ALIGNMENT = 16;

    private Requests() {
    }

    public static void checkSize(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size: " + size);
        }
    }

    /** A power of two, else IllegalArgumentException. */
    public static void checkAlignment(long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
    }

    /** {@code count * size}, refusing negative arguments and an overflowing product. */
    public static long callocTotal(long count, long size) {
        if (count < 0 || size < 0) {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): negative argument");
        }
        try {
            return Math.multiplyExact(count, size);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("calloc(" + count + ", " + size + "): count x size overflows", e);
        }
    }
}
