package dev.hakmem.tiny;

/**
 * The Tiny tier's size classes, 16 B to 1 KiB: every 16 B up to 128, then four classes per doubling (as jemalloc
 * and mimalloc space them), so a request above 64 B is rounded up by less than 25%. Every class is a multiple of
 * 16, which keeps every block 16-byte aligned in a 64 KiB-aligned slab.
 */
public final class TinyClasses {
    public static final int MAX = 1024;

    private static final int[] SIZES = {
        16, 32, 48, 64, 80, 96, 112, 128,
        160, 192, 224, 256,
        320, 384, 448, 512,
        640, 768, 896, 1024,
    };

    private TinyClasses() {
    }

    /** A fresh copy of the class sizes, smallest first. */
    public static int[] sizes() {
        return SIZES.clone();
    }
}
