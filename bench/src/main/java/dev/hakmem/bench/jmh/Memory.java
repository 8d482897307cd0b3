package dev.hakmem.bench.jmh;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Touches blocks by address, the same way for every peer, so that each block is really handed out. */
final class Memory {
    /** All of the address space: blocks come from several allocators as raw addresses. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Memory() {
    }

    /** Writes the first and the last byte of a block of {@code size} bytes. */
    static void touch(long address, long size) {
        ALL.set(JAVA_BYTE, address, (byte) 1);
        ALL.set(JAVA_BYTE, address + size - 1, (byte) 2);
    }
}
