package dev.hakmem.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Per-size-class operation counts. A heap's own instance is written by its owner alone with plain stores (no atomic
 * on the hot path) and read by {@code stats()} with opaque loads; a heap's counts are folded into the allocator's
 * shared instance under its lock when the heap's thread dies.
 */
public final class ClassCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Blocks handed out. */
    public final long[] mallocs;
    /** Blocks returned to their slab's free list: local frees and drained remote frees. */
    public final long[] frees;
    /** Of {@code frees}: blocks that came back through a remote-free stack. */
    public final long[] remoteFrees;

    public ClassCounters(int classes) {
        mallocs = new long[classes];
        frees = new long[classes];
        remoteFrees = new long[classes];
    }

    /** Adds another instance's counts (read with opaque loads). Callers serialise calls on this instance. */
    public synchronized void add(ClassCounters other) {
        for (int c = 0; c < mallocs.length; c++) {
            mallocs[c] += opaque(other.mallocs, c);
            frees[c] += opaque(other.frees, c);
            remoteFrees[c] += opaque(other.remoteFrees, c);
        }
    }

    /** Counts {@code n} drained remote frees of class {@code cls} (for drains done outside any heap). */
    public synchronized void addDrained(int cls, long n) {
        frees[cls] += n;
        remoteFrees[cls] += n;
    }

    /** Opaque read of a counter another thread writes plainly. */
    public static long opaque(long[] counters, int cls) {
        return (long) LONGS.getOpaque(counters, cls);
    }
}
