package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Allocates blocks the same way for every allocator and workload. */
final class Blocks {
    /** All of the address space: blocks come from several allocators as raw addresses. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Blocks() {
    }

    /**
     * Allocates {@code size} bytes and writes the block's first and last byte: an allocator that hands out address
     * space without memory (or the wrong size) pays for it here, as an application that uses the block would.
     */
    static long allocate(NativeAllocator allocator, int size) {
        return touched(allocator.malloc(size), size);
    }

    /** As {@link #allocate(NativeAllocator, int)}, for a purpose the workload knows. */
    static long allocate(NativeAllocator allocator, int size, SiteHint site) {
        return touched(allocator.malloc(size, site), size);
    }

    private static long touched(long address, int size) {
        ALL.set(JAVA_BYTE, address, (byte) 1);
        ALL.set(JAVA_BYTE, address + size - 1, (byte) 2);
        return address;
    }
}
