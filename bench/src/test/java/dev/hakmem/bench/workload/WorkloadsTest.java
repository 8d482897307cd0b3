package dev.hakmem.bench.workload;

import dev.hakmem.HakMem;
import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkloadsTest {

    static List<String> names() {
        return Workloads.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void eachOperationIsOneMallocAndOneFreeAndEverythingIsFreed(String name) {
        Workload workload = Workloads.named(name);
        for (int threads = 1; threads <= 2; threads++) {
            try (Counting allocator = new Counting()) {
                long operations = workload.run(allocator, threads, Budget.perWorker(2 * Budget.STRIDE));

                assertEquals(allocator.mallocs.get(), operations, "operations = mallocs");
                assertEquals(allocator.frees.get(), operations, "operations = frees");
                assertTrue(operations >= threads * 2L * Budget.STRIDE, operations + " operations");
                assertEquals(0, allocator.heap.stats().liveBytes(), "live bytes after the run");
                assertEquals(workload.freesOnOtherThreads(), allocator.freedElsewhere.get() > 0,
                        "frees on a thread other than the allocating one");
            }
        }
    }

    @Test
    void aTimeBudgetEndsTheRun() {
        try (Counting allocator = new Counting()) {
            long start = System.nanoTime();
            long operations = Workloads.named(Workloads.XMALLOC).run(allocator, 2,
                    Budget.until(start + 50_000_000));
            double seconds = (System.nanoTime() - start) / 1e9;

            assertTrue(seconds < 2, "ran " + seconds + " s for a 50 ms budget");
            assertTrue(operations > 0);
            assertEquals(0, allocator.heap.stats().liveBytes());
        }
    }

    /** Every phase runs, in turn: the seed's sizes, then the lifetime mix with its two sites. */
    @Test
    void thePhaseShiftRunsEveryPhaseInTurn() {
        try (Counting allocator = new Counting()) {
            List<String> begun = new CopyOnWriteArrayList<>();
            long[] seedSizes = {64 << 10, 256 << 10, 2 << 20};
            // Phases of 5 ms until every phase has begun and run, for at most 10 s: a phase whose worker a loaded
            // machine starts late runs nothing in its 5 ms, and a budget of 300 ms in all left a fresh JVM at load 7
            // one phase (11 JVMs of 11), and the lifetime mix without a cached block in 22 runs of 146.
            long giveUp = System.nanoTime() + 10_000_000_000L;
            Budget untilEveryPhaseRan = done -> System.nanoTime() - giveUp < 0
                    && !(begun.size() > Workloads.PHASES.size() && allocator.byHint.get(SiteHint.CACHE).get() > 0
                    && LongStream.of(seedSizes).allMatch(allocator.sizes::contains));
            long operations = Workloads.phaseShift(5, phase -> begun.add(phase.name())).run(allocator, 1,
                    untilEveryPhaseRan);

            assertTrue(operations > 0);
            assertTrue(begun.size() > Workloads.PHASES.size(), "phases begun: " + begun);
            for (int i = 0; i < begun.size(); i++) {
                assertEquals(Workloads.PHASES.get(i % Workloads.PHASES.size()).name(), begun.get(i), "phase " + i);
            }
            for (long size : seedSizes) {
                assertTrue(allocator.sizes.contains(size), "phase of " + size + "-byte blocks ran");
            }
            assertTrue(allocator.byHint.get(SiteHint.CACHE).get() > 0, "the lifetime mix ran");
            assertEquals(0, allocator.heap.stats().liveBytes());
        }
    }

    /**
     * One cache allocation per 64 parse allocations, the cache's blocks freed oldest first when its bytes are full;
     * every band's sizes requested.
     */
    @Test
    void theLifetimeMixAllocatesMostlyShortLivedBlocksAndATrickleOfLongLivedOnes() {
        try (Counting allocator = new Counting()) {
            long operations = Workloads.named(Workloads.LIFETIME_MIX).run(allocator, 1, Budget.perWorker(5_000_000));

            long parse = allocator.byHint.get(SiteHint.PARSE).get();
            long cache = allocator.byHint.get(SiteHint.CACHE).get();
            assertEquals(operations, parse + cache);
            long cacheBytes = allocator.bytesByHint.get(SiteHint.CACHE).get();
            assertTrue(cacheBytes > (long) LifetimeMix.CACHE_MIB << 20, "the cache filled and evicted: " + cacheBytes);
            assertEquals(parse / LifetimeMix.CACHE_EVERY, cache, "one in " + LifetimeMix.CACHE_EVERY);
            for (int b = 0; b < LifetimeMix.BANDS; b++) {
                int band = b;
                assertTrue(allocator.sizes.stream().anyMatch(s -> s >= LifetimeMix.BAND_LOW[band]
                        && s <= LifetimeMix.bandHigh(band)), "band " + b + " requested");
            }
            // The cache's most entries (all of the smallest band) and one burst of the smallest band.
            long most = (LifetimeMix.CACHE_MIB << 20) / 64 + (2L << 20) * 2 / (64 + LifetimeMix.bandHigh(0)) + 1;
            assertTrue(allocator.maxLive.get() <= most, "live " + allocator.maxLive + ", at most " + most);
        }
    }

    @Test
    void aFailingWorkerFailsTheRunInsteadOfHangingItsPartner() {
        try (Counting allocator = new Counting()) {
            allocator.failAfter = 1000;
            WorkloadFailure failure = assertThrows(WorkloadFailure.class, () -> Workloads.named(
                    Workloads.PRODUCER_CONSUMER).run(allocator, 1, Budget.perWorker(1 << 20)));
            assertTrue(failure.getCause().getMessage().contains("planted"), failure.toString());
        }
    }

    @Test
    void namesAreUniqueAndUnknownOnesAreRefusedWithTheList() {
        assertEquals(Workloads.ALL.size(), Set.copyOf(Workloads.names()).size());
        assertTrue(assertThrows(RuntimeException.class, () -> Workloads.named("nope")).getMessage()
                .contains(Workloads.TINY_HOT));
    }

    /** hakmem, counting mallocs and frees and remembering which thread allocated each block. */
    private static final class Counting implements NativeAllocator {
        final HakMem heap = HakMem.create();
        final AtomicLong mallocs = new AtomicLong();
        final AtomicLong frees = new AtomicLong();
        final AtomicLong freedElsewhere = new AtomicLong();
        final ConcurrentHashMap<Long, Thread> owners = new ConcurrentHashMap<>();
        volatile long failAfter = Long.MAX_VALUE;
        final Set<Long> sizes = ConcurrentHashMap.newKeySet();
        final Map<SiteHint, AtomicLong> byHint = new EnumMap<>(Map.of(SiteHint.PARSE, new AtomicLong(),
                SiteHint.CACHE, new AtomicLong()));
        final Map<SiteHint, AtomicLong> bytesByHint = new EnumMap<>(Map.of(SiteHint.PARSE, new AtomicLong(),
                SiteHint.CACHE, new AtomicLong()));
        final AtomicLong maxLive = new AtomicLong();

        @Override
        public long malloc(long size, SiteHint site) {
            byHint.get(site).incrementAndGet();
            bytesByHint.get(site).addAndGet(size);
            return malloc(size);
        }

        @Override
        public long malloc(long size) {
            if (mallocs.incrementAndGet() > failAfter) {
                throw new IllegalStateException("planted failure");
            }
            long address = heap.malloc(size);
            owners.put(address, Thread.currentThread());
            sizes.add(size);
            maxLive.accumulateAndGet(owners.size(), Math::max);
            return address;
        }

        @Override
        public void free(long address) {
            frees.incrementAndGet();
            if (owners.remove(address) != Thread.currentThread()) {
                freedElsewhere.incrementAndGet();
            }
            heap.free(address);
        }

        @Override
        public String name() {
            return "counting hakmem";
        }

        @Override
        public void close() {
            heap.close();
        }
    }
}
