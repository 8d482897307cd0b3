package dev.hakmem.bench.workload;

import dev.hakmem.HakMem;
import dev.hakmem.bench.peer.NativeAllocator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

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

        @Override
        public long malloc(long size) {
            if (mallocs.incrementAndGet() > failAfter) {
                throw new IllegalStateException("planted failure");
            }
            long address = heap.malloc(size);
            owners.put(address, Thread.currentThread());
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
