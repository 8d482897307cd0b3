package dev.hakmem;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;

import static dev.hakmem.TiersTest.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The paths that move the counters behind {@code stats()} without a malloc or free of the caller's: a dead thread's
 * memory reclaimed and purged by the maintenance thread, big mappings passed through the lock-free slots and the
 * cache and purged, and close. {@code check()} reconciles every counter with the structures after each stage; the
 * counts are also compared with what the test itself did.
 */
class AccountingTest {

    private static final long CHUNK = 2 << 20;

    @Test
    void aDeadThreadsSuperSlabReclaimedAndPurgedKeepsItsCounts() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(0).build())) {
            int n = 100;
            long[] blocks = new long[n];
            CountDownLatch allocated = new CountDownLatch(1);
            CountDownLatch freed = new CountDownLatch(1);
            Thread owner = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < n; i++) {
                    blocks[i] = h.malloc(48);
                }
                allocated.countDown();
                try {
                    freed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            allocated.await();
            // Remote frees while the owner lives: they wait on its slab's remote stack, undrained, when it dies.
            for (long b : blocks) {
                h.free(b);
            }
            h.check();
            freed.countDown();
            owner.join();
            // The maintenance thread abandons the dead heap, drains and pools its SuperSlab, then purges it.
            awaitTrue(() -> h.stats().events().purges() > 0, "the dead thread's SuperSlab purged");
            h.check();
            HakMemStats s = h.stats();
            HakMemStats.ClassStats c = s.classes().stream().filter(k -> k.blockSize() == 48).findFirst()
                    .orElseThrow();
            assertEquals(n, c.mallocs(), "blocks handed out in the 48-byte class");
            assertEquals(n, c.frees(), "blocks freed in the 48-byte class");
            assertEquals(n, s.events().remoteFrees());
            assertEquals(CHUNK, s.mappedBytes(), "the one SuperSlab stays mapped, pooled");
            assertEquals(0, s.committedBytes(), "its pages were given back");
        }
    }

    @Test
    void bigMappingsThroughTheSlotsTheCacheAndPurgeKeepTheirCounts() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(0).build())) {
            int rounds = 20;
            for (int r = 0; r < rounds; r++) {
                // One and two chunks pass through the lock-free slots; three go through the locked cache.
                long a = h.malloc(CHUNK);
                long b = h.malloc(CHUNK + 1);
                long c = h.malloc(3 * CHUNK);
                h.check();
                h.free(b);
                h.free(a);
                h.free(c);
                h.check();
            }
            awaitTrue(() -> h.stats().committedBytes() == 0, "the cached mappings purged");
            h.check();
            HakMemStats s = h.stats();
            HakMemStats.TierStats big = s.tier(HakMemStats.Tier.BIG);
            assertEquals(3 * rounds, big.mallocs());
            assertEquals(3 * rounds, big.frees());
            assertEquals(0, big.liveBytes());
            assertEquals(3 * rounds, s.events().bigCacheHits() + s.events().bigCacheMisses());
            assertEquals(6 * CHUNK, s.mappedBytes(), "one mapping of each span stays cached");
        }
    }

    @Test
    void afterCloseNothingIsCountedMappedOrCommitted() {
        HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(60_000).build());
        long small = h.malloc(100);
        long big = h.malloc(3 * CHUNK);
        long cached = h.malloc(CHUNK);
        h.free(cached);
        h.check();
        h.close();
        HakMemStats s = h.stats();
        assertEquals(0, s.mappedBytes(), "mapped after close, with blocks 0x" + Long.toHexString(small) + " and 0x"
                + Long.toHexString(big) + " still allocated and one mapping cached");
        assertEquals(0, s.committedBytes(), "committed after close");
    }
}
