package dev.hakmem.bench.runner;

import dev.hakmem.ace.Learner;
import dev.hakmem.ace.Window;
import dev.hakmem.stats.SizeGrid;

/**
 * One window of a workload measured from outside the heap, and its cost: the learner's formula
 * (docs/ADAPTIVE.md, "The cost"; {@link Learner#cost}) with the wall clock in place of the
 * sampled malloc times, so that every configuration, static or learning, is judged by the same number, computed the
 * same way, from public data:
 * <pre>
 *   per op = nanos / ops + (Learner.FAULT_NANOS * pageFaults + Learner.SYSCALL_NANOS * (mapCalls + purges)) / ops
 *   waste  = (committedBytes - liveBytes) / committedBytes, clamped to [0, 1] (0 when nothing is committed)
 *   cost   = per op * (1 + memoryWeight * waste)
 * </pre>
 * An operation is the workload's: an allocation, the use of its first and last byte, and its free, counted by the
 * heap's mallocs; {@code nanos / ops} is the inverse of the throughput, over all threads. The wall clock already holds the faults and system calls
 * paid on the workload's threads; they are priced again, as the learner prices them, so that the cost is the
 * learner's and a configuration that buys speed with page faults (memory given back and touched again) or system
 * calls pays for them on this busy machine too.
 *
 * @param nanos          the window's length
 * @param ops            the workload's operations in it (the heap's mallocs)
 * @param pageFaults     the process's page faults in it, -1 if unknown (counted as none, in every window alike)
 * @param mapCalls       mappings made in it
 * @param purges         ranges purged in it
 * @param committedBytes the heap's committed bytes at its end
 * @param liveBytes      the heap's live bytes at its end
 */
record ExternalWindow(long nanos, long ops, long pageFaults, long mapCalls, long purges, long committedBytes,
                      long liveBytes) {
    /** Nanoseconds of wall clock per operation; NaN without operations. */
    double nanosPerOp() {
        return ops == 0 ? Double.NaN : (double) nanos / ops;
    }

    /** Millions of operations per second. */
    double mops() {
        return ops * 1e3 / nanos;
    }

    /** The share of the committed bytes that is not live, in [0, 1]. */
    double waste() {
        return committedBytes == 0 ? 0 : Math.clamp((double) (committedBytes - liveBytes) / committedBytes, 0.0, 1.0);
    }

    /**
     * The cost of the class comment, lower is better; NaN for a window without operations. It is the learner's own
     * function, given the window with every operation "timed" by the wall clock.
     */
    double cost(double memoryWeight) {
        return Learner.cost(new Window(0, ops, ops, nanos, pageFaults, mapCalls, purges, committedBytes, liveBytes,
                new long[SizeGrid.BUCKETS]), memoryWeight);
    }
}
