package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.os.PageFaults;

/**
 * What {@code hakmem learn --compare} reads of a heap and the process at a window's edge, from public data only:
 * the clock, the process's page faults, and the heap's {@link HakMem#stats()}. The counters are cumulative; a window
 * is the difference of two probes ({@link #since}). The workload's operations are the heap's mallocs: each of its
 * operations is one allocation, its use and its free, and the heap counts every malloc where the workload could only
 * report its progress in strides.
 *
 * @param nanos          {@link System#nanoTime()}
 * @param ops            the heap's mallocs so far, over all tiers
 * @param pageFaults     the process's page faults so far, -1 if unknown
 * @param mapCalls       mappings made so far: SuperSlabs mapped and big allocations the big cache missed
 * @param purges         ranges given back with madvise so far
 * @param committedBytes the heap's committed bytes now
 * @param liveBytes      the heap's live bytes now
 */
record HeapProbe(long nanos, long ops, long pageFaults, long mapCalls, long purges, long committedBytes,
                 long liveBytes) {

    /** Probes {@code heap} now. */
    static HeapProbe read(HakMem heap) {
        HakMemStats stats = heap.stats();
        HakMemStats.Events events = stats.events();
        long mallocs = stats.tiers().values().stream().mapToLong(HakMemStats.TierStats::mallocs).sum();
        return new HeapProbe(System.nanoTime(), mallocs, PageFaults.sinceStart(),
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
