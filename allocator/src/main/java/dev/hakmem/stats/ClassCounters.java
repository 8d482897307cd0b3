package dev.hakmem.stats;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Per-size-class counts kept off the hot paths: blocks handed out by slabs that have retired (a live slab counts its
 * own), and blocks reclaimed through remote-free stacks (counted when drained). Frees are derived: handed out minus
 * live. A heap's own instance is written by its owner alone with plain stores and read by {@code stats()} with
 * opaque loads; it is folded into the allocator's shared instance when the heap's thread dies.
 */
public final class ClassCounters {
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    /** Blocks handed out by slabs that have since retired. */
    public final long[] mallocs;
    /** Blocks that came back through a remote-free stack and were drained. */
    public final long[] remoteFrees;

    public ClassCounters(int classes) {
        mallocs = new long[classes];
        remoteFrees = new long[classes];
    }

    /** Adds another instance's counts (read with opaque loads). Callers serialise calls on this instance. */
    public synchronized void add(ClassCounters other) {
        for (int c = 0; c < mallocs.length; c++) {
            mallocs[c] += opaque(other.mallocs, c);
            remoteFrees[c] += opaque(other.remoteFrees, c);
        }
    }

    /** Counts {@code n} drained remote frees of class {@code cls} (for drains done outside any heap). */
    public synchronized void addDrained(int cls, long n) {
        remoteFrees[cls] += n;
    }

    /** Counts the blocks a retiring slab handed out (for slabs retired outside any heap). */
    public synchronized void addRetired(int cls, long allocations) {
        mallocs[cls] += allocations;
    }

    /** Opaque read of a counter another thread writes plainly. */
    public static long opaque(long[] counters, int cls) {
        return (long) LONGS.getOpaque(counters, cls);
    }
}
