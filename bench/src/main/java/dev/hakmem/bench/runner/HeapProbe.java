package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;

/**
 * What {@code hakmem learn --compare} reads of a heap and the process at a window's edge, from public data only:
 * the clock, the workload's operations, the process's page faults, and the heap's {@link HakMem#stats()}. The
 * counters are cumulative; a window is the difference of two probes ({@link #since}).
 *
 * @param nanos          {@link System#nanoTime()}
 * @param ops            the workload's operations so far (an allocation and its free each)
 * @param pageFaults     the process's page faults so far, -1 if unknown
 * @param mapCalls       mappings made so far: SuperSlabs mapped and big allocations the big cache missed
 * @param purges         ranges given back with madvise so far
 * @param committedBytes the heap's committed bytes now
 * @param liveBytes      the heap's live bytes now
 */
record HeapProbe(long nanos, long ops, long pageFaults, long mapCalls, long purges, long committedBytes,
                 long liveBytes) {

    /** Probes {@code heap} now; {@code ops} is the workload's count so far. */
    static HeapProbe read(HakMem heap, long ops) {
        HakMemStats stats = heap.stats();
        HakMemStats.Events events = stats.events();
        return new HeapProbe(System.nanoTime(), ops, ProcessFaults.sinceStart(),
                events.superSlabsMapped() + events.bigCacheMisses(), events.purges(), stats.committedBytes(),
                stats.liveBytes());
    }

    /** The window from {@code start} to this probe: the counters' differences, the bytes as they are now. */
    ExternalWindow since(HeapProbe start) {
        return new ExternalWindow(nanos - start.nanos, ops - start.ops,
                pageFaults < 0 || start.pageFaults < 0 ? -1 : pageFaults - start.pageFaults,
                mapCalls - start.mapCalls, purges - start.purges, committedBytes, liveBytes);
    }
}
