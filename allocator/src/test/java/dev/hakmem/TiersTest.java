package dev.hakmem;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Big tier's cache and purge, and the SuperSlab pool's budget, seen through the public API. */
class TiersTest {

    @Test
    void bigBlocksAreReusedFromTheCacheAndPurgedAfterTheDelay() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(0).build())) {
            long a = h.malloc(5 << 20);
            h.free(a);
            long b = h.malloc(5 << 20);
            assertEquals(a, b, "the cached mapping comes back");
            HakMemStats s = h.stats();
            assertEquals(1, s.events().bigCacheHits());
            assertEquals(1, s.tier(HakMemStats.Tier.BIG).liveBlocks());
            h.free(b);
            awaitTrue(() -> h.stats().committedBytes() == 0, "purged");
            assertTrue(h.stats().events().purges() >= 1);
            assertTrue(h.stats().mappedBytes() > 0, "still cached within the budget");
            long c = h.calloc(1, 5 << 20);
            assertEquals(a, c);
        }
    }

    @Test
    void twoMiBBlocksPassFromAFreeToTheNextMallocOnAnyThreadAndAreStillPurged() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(0).build())) {
            long a = h.malloc(2 << 20);
            h.free(a);
            assertEquals(a, h.malloc(2 << 20), "the freed mapping comes back from its lock-free slot");
            h.free(a);
            long[] taken = new long[1];
            Thread other = new Thread(() -> taken[0] = h.malloc(2 << 20));
            other.start();
            other.join();
            assertEquals(a, taken[0], "another thread takes it from the slot too");
            assertEquals(2, h.stats().events().bigCacheHits());
            h.free(taken[0]);
            // The maintenance thread moves the slot's mapping into the cache, where the purge finds it.
            awaitTrue(() -> h.stats().committedBytes() == 0, "purged");
            assertEquals(0, h.stats().tier(HakMemStats.Tier.BIG).liveBlocks());
            h.check();
        }
    }

    @Test
    void emptyMemoryBeyondTheRetainBudgetIsUnmapped() {
        try (HakMem h = HakMem.create(HakMemConfig.builder().retainBytes(4 << 20).build())) {
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                blocks.add(h.malloc(600_000));
                blocks.add(h.malloc(3 << 20));
            }
            long peak = h.stats().mappedBytes();
            blocks.forEach(h::free);
            HakMemStats s = h.stats();
            assertEquals(0, s.liveBytes());
            assertTrue(s.mappedBytes() <= (4 << 20) + 2 * SuperSlabSize(), "mapped " + s.mappedBytes()
                    + " of peak " + peak);
            assertTrue(s.events().superSlabsReleased() > 0);
            h.check();
        }
    }

    @Test
    void tierCountersAddUp() {
        try (HakMem h = HakMem.create()) {
            long t = h.malloc(100);
            long m = h.malloc(10_000);
            long l = h.malloc(300_000);
            long b = h.malloc(3 << 20);
            HakMemStats s = h.stats();
            for (HakMemStats.Tier tier : HakMemStats.Tier.values()) {
                assertEquals(1, s.tier(tier).liveBlocks(), tier.toString());
                assertEquals(1, s.tier(tier).mallocs(), tier.toString());
            }
            assertEquals(h.usableSize(t) + h.usableSize(m) + h.usableSize(l) + h.usableSize(b), s.liveBytes());
            h.free(t);
            h.free(m);
            h.free(l);
            h.free(b);
            s = h.stats();
            assertEquals(0, s.liveBytes());
            s.classes().forEach(c -> assertEquals(c.mallocs(), c.frees(), "class " + c));
        }
    }

    @Test
    void slabsEmptiedByRemoteFreesAreReusedBeforeTheHeapGrows() throws Exception {
        long control = mappedAfterMidAllocations(HakMem.create(), false);
        long withRemote = mappedAfterMidAllocations(HakMem.create(), true);
        assertTrue(withRemote <= control, "remote-freed slabs reused: " + withRemote + " vs " + control);
    }

    /** Tiny blocks freed by another thread, then enough 500-byte blocks to need new SuperSlabs. */
    private static long mappedAfterMidAllocations(HakMem h, boolean tinyFirst) throws InterruptedException {
        try (h) {
            if (tinyFirst) {
                long[] tiny = new long[40_000];
                for (int i = 0; i < tiny.length; i++) {
                    tiny[i] = h.malloc(48);
                }
                Thread t = Thread.ofPlatform().start(() -> {
                    for (long b : tiny) {
                        h.free(b);
                    }
                });
                t.join();
            }
            List<Long> blocks = new ArrayList<>();
            for (int i = 0; i < 12_000; i++) {
                blocks.add(h.malloc(500));
            }
            long mapped = h.stats().mappedBytes();
            blocks.forEach(h::free);
            h.check();
            return mapped;
        }
    }

    @Test
    void atTheMappedLimitMemoryOfThreadsThatJustEndedIsReclaimedBeforeFailing() throws Exception {
        // Without the reclaim, a round fails when it wins the race with the maintenance thread's reaping: about one
        // round in three here, so twelve rounds catch a regression almost surely.
        for (int round = 0; round < 12; round++) {
            try (HakMem h = HakMem.create(HakMemConfig.builder().mappedLimit(8 << 20).retainBytes(0).build())) {
                List<Thread> threads = new ArrayList<>();
                java.util.concurrent.CyclicBarrier allMapped = new java.util.concurrent.CyclicBarrier(3);
                for (int t = 0; t < 3; t++) {
                    threads.add(Thread.ofPlatform().start(() -> {
                        List<Long> mine = new ArrayList<>();
                        for (int i = 0; i < 600; i++) {
                            mine.add(h.malloc(16 + i * 3));
                        }
                        mine.forEach(h::free);
                        try {
                            // All three end together, holding a SuperSlab each (their current slabs).
                            allMapped.await();
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                // Right after the joins, before the maintenance thread reaps: the dead threads' SuperSlabs still
                // hold the mapped limit.
                long big = h.malloc(3 << 20);
                h.free(big);
                assertEquals(0, h.stats().liveBlocks());
            }
        }
    }

    private static long SuperSlabSize() {
        return 2 << 20;
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }
}
