package dev.hakmem.bench.jmh;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Touches blocks the same way for every allocator, so that each block is really handed out. */
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

    /** Writes the first and the last byte of a segment, through its bounds and liveness checks as a user would. */
    static void touch(MemorySegment segment) {
        segment.set(JAVA_BYTE, 0, (byte) 1);
        segment.set(JAVA_BYTE, segment.byteSize() - 1, (byte) 2);
    }
}
