package dev.hakmem.os;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Raw access to native memory by address, through one segment that spans the whole address space. Callers must
 * only pass addresses the registry validated: this class checks nothing.
 */
public final class Mem {
    /** The whole address space. A constant, so the JIT folds its bounds and liveness checks away. */
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    private Mem() {
    }

    public static void fill(long address, long size, byte value) {
        ALL.asSlice(address, size).fill(value);
    }

    public static void copy(long from, long to, long size) {
        MemorySegment.copy(ALL, from, ALL, to, size);
    }

    public static long getLong(long address) {
        return ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address);
    }

    public static void putLong(long address, long value) {
        ALL.set(ValueLayout.JAVA_LONG_UNALIGNED, address, value);
    }
}
