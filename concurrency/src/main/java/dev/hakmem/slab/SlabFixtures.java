package dev.hakmem.slab;

import dev.hakmem.concurrency.FakeMemory;

/**
 * Builds slabs and SuperSlabs for concurrency tests (through their package-private constructors). They sit at
 * fake 2 MiB-aligned addresses and are never registered: a slab's metadata operations never touch block memory,
 * so none is mapped.
 */
public final class SlabFixtures {
    private SlabFixtures() {
    }

    /** A slab of {@code 65536 / blockSize} blocks in slot 0 of a fresh fake SuperSlab, no block carved yet. */
    public static Slab slab(int blockSize) {
        SuperSlab fake = new SuperSlab(0, FakeMemory.BASE, SizeClasses.SMALL_SHIFT, false, false);
        return new Slab(fake, 0, 0, blockSize, false);
    }

    /** A slab whose first {@code n} blocks are handed out (allocated), as if the owner had carved them. */
    public static Slab slabWithAllocated(int blockSize, int n) {
        Slab s = slab(blockSize);
        for (int i = 0; i < n; i++) {
            s.carve();
        }
        return s;
    }
}
