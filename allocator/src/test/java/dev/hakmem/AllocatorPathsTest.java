package dev.hakmem;

import dev.hakmem.os.LedgerPageSource;
import dev.hakmem.os.LedgerPageSource.Op;
import dev.hakmem.os.Mem;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The allocator's routing, retry and close paths through the public API, over a page source that keeps a ledger:
 * the heap's mapped and committed bytes are reconciled with it after each step.
 */
class AllocatorPathsTest {
    private static final long MIB = 1L << 20;
    /** The largest pool block; anything above is a big mapping. */
    private static final long POOL_MAX = 1L << 20;
    /** No purge by time during a test: the longest purge delay a policy allows. */
    private static final long NEVER_MS = Policy.MAX_PURGE_DELAY_MILLIS;

    private final LedgerPageSource pages = new LedgerPageSource();

    private HakMem heap(HakMemConfig.Builder b) {
        return HakMem.create(b.pageSource(pages).purgeDelayMillis(NEVER_MS).build());
    }

    private void assertLedger(HakMem h) {
        HakMemStats s = h.stats();
        assertEquals(pages.reservedBytes(), s.mappedBytes(), "mapped bytes against the page source");
        assertEquals(pages.committedBytes(), s.committedBytes(), "committed bytes against the page source");
    }

    @Test
    void theLargestPoolSizeIsAPoolBlockAndOneByteMoreIsABigMapping() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long pool = h.malloc(POOL_MAX);
            long big = h.malloc(POOL_MAX + 1);
            long zeroedPool = h.calloc(1, POOL_MAX);
            long zeroedBig = h.calloc(1, POOL_MAX + 1);
            assertEquals(POOL_MAX, h.usableSize(pool));
            assertEquals(POOL_MAX, h.usableSize(zeroedPool));
            assertEquals(2 * MIB, h.usableSize(big));
            assertEquals(2 * MIB, h.usableSize(zeroedBig));
            HakMemStats s = h.stats();
            assertEquals(2, s.tier(HakMemStats.Tier.BIG).liveBlocks());
            assertEquals(4 * MIB, s.tier(HakMemStats.Tier.BIG).liveBytes());
            assertEquals(4 * MIB + 2 * POOL_MAX, s.liveBytes());
            long aligned = h.mallocAligned(POOL_MAX, 32);
            assertEquals(POOL_MAX, h.usableSize(aligned), "the largest pool class is aligned to 32 bytes");
            assertEquals(0, aligned % 32);
            long alignedBig = h.mallocAligned(POOL_MAX + 1, 32);
            assertEquals(2 * MIB, h.usableSize(alignedBig));
            assertLedger(h);
            h.check();
        }
    }

    @Test
    void alignedRequestsAreCheckedAndSixteenIsThePlainMalloc() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            assertEquals(16, h.usableSize(h.calloc(0, 5)), "no bytes is a valid request");
            assertEquals(16, h.usableSize(h.calloc(5, 0)));
            assertEquals(16, h.usableSize(h.mallocAligned(8, 1)), "an alignment of one byte");
            assertEquals("negative size: -1",
                    assertThrows(IllegalArgumentException.class, () -> h.mallocAligned(-1, 64)).getMessage());
            assertEquals("negative size: -1",
                    assertThrows(IllegalArgumentException.class, () -> h.mallocAligned(-1, 16)).getMessage());
            long a = h.mallocAligned(20, 16);
            assertEquals(32, h.usableSize(a), "a plain 32-byte block");
            long b = h.mallocAligned(20, 32);
            assertEquals(0, b % 32);
            assertEquals(32, h.usableSize(b));
            long huge = h.mallocAligned(100, 4 * MIB);
            assertEquals(0, huge % (4 * MIB), "beyond the classes' alignment: a big mapping");
            assertEquals(2 * MIB, h.usableSize(huge));
            long empty = h.mallocAligned(0, 4 * MIB);
            assertEquals(0, empty % (4 * MIB));
            h.free(empty);
            h.free(huge);
            assertLedger(h);
        }
    }

    @Test
    void bigBlocksReallocInPlaceWhileTheyStillUseOverHalfTheirMapping() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long a = h.malloc(10 * MIB);
            Mem.fill(a, 10 * MIB, (byte) 5);
            assertEquals(a, h.realloc(a, 10 * MIB), "the same size");
            assertEquals(a, h.realloc(a, 5 * MIB + 1), "just over half");
            long b = h.realloc(a, 5 * MIB);
            assertNotEquals(a, b, "half of the mapping is not enough to keep it");
            assertEquals(6 * MIB, h.usableSize(b));
            assertEquals(5, Mem.ALL.get(ValueLayout.JAVA_BYTE, b + 5 * MIB - 1), "contents moved");
            long c = h.realloc(b, 6 * MIB + 1);
            assertNotEquals(b, c, "beyond the mapping");
            long d = h.realloc(c, POOL_MAX);
            assertEquals(POOL_MAX, h.usableSize(d), "down into the pools");
            assertEquals(5, Mem.ALL.get(ValueLayout.JAVA_BYTE, d + POOL_MAX - 1));
            long e = h.realloc(d, POOL_MAX + 1);
            assertEquals(2 * MIB, h.usableSize(e), "up into the big tier");
            assertEquals(5, Mem.ALL.get(ValueLayout.JAVA_BYTE, e + POOL_MAX - 1));
            assertEquals(1, h.stats().tier(HakMemStats.Tier.BIG).liveBlocks());
            h.free(e);
            assertLedger(h);
        }
    }

    @Test
    void memoryKeptForReuseIsGivenBackBeforeASmallRequestFails() {
        try (HakMem h = heap(HakMemConfig.builder().mappedLimit(4 * MIB))) {
            long big = h.malloc(3 * MIB);
            h.free(big);
            assertEquals(4 * MIB, h.stats().mappedBytes(), "cached for reuse");
            long small = h.malloc(100);
            assertEquals(112, h.usableSize(small), "the retry's block is returned");
            assertEquals(2 * MIB, h.stats().mappedBytes(), "the cached mapping made room for a SuperSlab");
            assertLedger(h);
            HakMemOutOfMemoryError e = assertThrows(HakMemOutOfMemoryError.class, () -> h.malloc(3 * MIB));
            assertEquals(3 * MIB, e.requestedBytes());
            HakMemOutOfMemoryError medium = assertThrows(HakMemOutOfMemoryError.class, () -> {
                h.malloc(2 * MIB - 100);
                h.malloc(600_000);
            });
            assertEquals(600_000, medium.requestedBytes(), "the failure names the request, not the SuperSlab");
            assertInstanceOf(HakMemOutOfMemoryError.class, medium.getCause());
            h.free(small);
            assertLedger(h);
        }
    }

    @Test
    void memoryOfADeadThreadIsGivenBackBeforeABigRequestFails() throws InterruptedException {
        try (HakMem h = heap(HakMemConfig.builder().mappedLimit(4 * MIB))) {
            Thread t = Thread.ofPlatform().start(() -> h.free(h.malloc(100)));
            t.join();
            assertEquals(2 * MIB, h.stats().mappedBytes());
            long big = h.malloc(3 * MIB);
            assertEquals(4 * MIB, h.stats().mappedBytes(), "the dead thread's SuperSlab made room");
            h.free(big);
            assertLedger(h);
        }
    }

    @Test
    void aBigRequestOnAClosedHeapIsRefused() {
        HakMem h = heap(HakMemConfig.builder());
        h.close();
        assertEquals("the heap is closed",
                assertThrows(IllegalStateException.class, () -> h.malloc(3 * MIB)).getMessage());
        assertThrows(IllegalStateException.class, () -> h.calloc(1, 3 * MIB));
        assertEquals(0, pages.reservedBytes());
    }

    @Test
    void closeReportsEveryMappingItCouldNotReleaseAndKeepsThemMapped() {
        HakMem h = heap(HakMemConfig.builder());
        h.malloc(100);
        h.malloc(3 * MIB);
        h.malloc(5 * MIB);
        pages.failing(Op.RELEASE, true);
        HakMemException e = assertThrows(HakMemException.class, h::close);
        assertEquals("close: 3 mappings could not be released", e.getMessage());
        assertInstanceOf(dev.hakmem.os.OsException.class, e.getCause());
        assertEquals(2, e.getSuppressed().length);
        assertEquals(2 * MIB + 4 * MIB + 6 * MIB, pages.reservedBytes(), "nothing was unmapped behind the ledger");
        pages.failing(Op.RELEASE, false);
        pages.releaseAll();
    }

    @Test
    void virtualThreadsCallocZeroedBlocksAndFreeTheirOwnBlocksLocally() throws Exception {
        try (HakMem h = heap(HakMemConfig.builder().sharedHeaps(1));
             var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            executor.submit(() -> {
                long a = h.malloc(64);
                Mem.fill(a, 64, (byte) -1);
                h.free(a);
                long b = h.calloc(1, 64);
                assertEquals(a, b, "the freed block comes back");
                byte[] zeros = new byte[64];
                byte[] got = new byte[64];
                java.lang.foreign.MemorySegment.copy(Mem.ALL, ValueLayout.JAVA_BYTE, b, got, 0, 64);
                assertArrayEquals(zeros, got);
                h.free(b);
                return null;
            }).get();
            assertEquals(0, h.stats().events().remoteFrees(), "a virtual thread's free on its own shared heap is local");
            assertEquals(0, h.stats().liveBlocks());
            h.check();
        }
    }

    @Test
    void aRefusedFreeNamesTheBlocksClassAndSlab() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long a = h.malloc(64);
            long b = h.malloc(64);
            h.free(a);
            // The free of a filled the slab cache: b's slab is answered from it.
            InvalidFreeException interior = assertThrows(InvalidFreeException.class, () -> h.free(b + 8));
            assertTrue(interior.getMessage().contains(": misaligned interior pointer: 8 bytes into block 0x"
                    + Long.toHexString(b)), interior.getMessage());
            InvalidFreeException aligned = assertThrows(InvalidFreeException.class, () -> h.free(b + 48));
            assertTrue(aligned.getMessage().contains(Long.toHexString(b + 48) + ": interior pointer: 48 bytes into "
                    + "block 0x" + Long.toHexString(b)), aligned.getMessage());
            DoubleFreeException twice = assertThrows(DoubleFreeException.class, () -> h.free(a));
            assertTrue(twice.getMessage().matches("(?s).*block of class \\d+ \\(64 B\\) in slab 0x[0-9a-f]+ is not "
                    + "allocated.*"), twice.getMessage());
            assertEquals(3, h.stats().events().invalidFrees());
            assertEquals(1, h.stats().events().doubleFrees());
            h.free(b);
            h.check();
        }
    }

    @Test
    void theConfigAndNameOfAHeapAreItsOwn() {
        HakMemConfig config = HakMemConfig.builder().pageSource(pages).retainBytes(3 * MIB).build();
        try (HakMem h = HakMem.create(config)) {
            assertSame(config, h.config());
            assertTrue(h.toString().matches("HakMem\\[heap-\\d+, HakMemConfig\\[.*retainBytes=" + 3 * MIB
                    + ".*]]"), h.toString());
        }
    }

    @Test
    void aFreeInTheUnusedTailOfASlabIsNamedSo() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            // 48-byte blocks: 1365 fill 65520 bytes of a 64 KiB slab, 16 are left over.
            long a = h.malloc(48);
            long slab = a & -(64 << 10);
            long tail = slab + 48 * 1365;
            assertEquals(48, h.usableSize(a));
            InvalidFreeException e = assertThrows(InvalidFreeException.class, () -> h.free(tail));
            assertTrue(e.getMessage().contains(": in the unused tail of a slab of class"), e.getMessage());
            h.free(a);
        }
    }

    @Test
    void reallocOfNullIsMallocAndTheLargestPoolBlockReallocsInPlaceToItsOwnSize() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long a = h.realloc(0, 100);
            assertEquals(112, h.usableSize(a));
            long max = h.malloc(POOL_MAX);
            assertEquals(max, h.realloc(max, POOL_MAX));
            h.free(a);
            h.free(max);
        }
    }

    @Test
    void perClassAndPerTierCountsAddUp() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long[] blocks = {h.malloc(100), h.malloc(100), h.malloc(100)};
            h.free(blocks[1]);
            HakMemStats s = h.stats();
            HakMemStats.ClassStats c = s.classes().stream().filter(k -> k.liveBlocks() > 0).findFirst().orElseThrow();
            assertEquals(112, c.blockSize());
            assertEquals(3, c.mallocs());
            assertEquals(1, c.frees());
            assertEquals(2, c.liveBlocks());
            assertEquals(224, c.liveBytes());
            HakMemStats.TierStats tiny = s.tier(HakMemStats.Tier.TINY);
            assertEquals(new HakMemStats.TierStats(3, 1, 2, 224), tiny);
            assertEquals(224, s.liveBytes());
            assertEquals(2, s.liveBlocks());
        }
    }

    /**
     * A thread that dies after another thread freed all its blocks: the maintenance thread reaps its heap and
     * reclaims its SuperSlab; the counts move to the heap's orphan counters and must stay in the stats.
     */
    @Test
    void theCountsOfAReclaimedDeadThreadsSlabsStayInTheStats() throws Exception {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long[] blocks = new long[3];
            java.util.concurrent.CountDownLatch freed = new java.util.concurrent.CountDownLatch(1);
            Thread t = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < blocks.length; i++) {
                    blocks[i] = h.malloc(100);
                }
                try {
                    freed.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            });
            while (blocks[2] == 0) {
                Thread.onSpinWait();
            }
            for (long b : blocks) {
                h.free(b);
            }
            freed.countDown();
            t.join();
            // The reap and the reclaim run in one maintenance step, under the lock stats() takes.
            TiersTest.awaitTrue(() -> h.stats().events().heapsAbandoned() == 1, "the dead thread's heap is reaped");
            HakMemStats s = h.stats();
            assertEquals(new HakMemStats.TierStats(3, 3, 0, 0), s.tier(HakMemStats.Tier.TINY));
            assertEquals(3, s.events().remoteFrees());
            assertEquals(0, s.liveBlocks());
            h.check();
        }
    }

    @Test
    void callocReusesTheFirstBlockOfASlabAndCountsItOnce() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long a = h.malloc(64);
            Mem.fill(a, 64, (byte) 3);
            h.free(a);
            long c = h.calloc(1, 64);
            assertEquals(a, c, "the freed block first");
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, c + 63));
            assertEquals(1, h.stats().liveBlocks());
            h.free(c);
            h.check();
        }
    }

    @Test
    void remoteFreesAreCountedOnceWhetherPendingOrDrained() throws InterruptedException {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long[] blocks = {h.malloc(64), h.malloc(64), h.malloc(64)};
            Thread t = Thread.ofPlatform().start(() -> {
                for (long b : blocks) {
                    h.free(b);
                }
            });
            t.join();
            assertEquals(3, h.stats().events().remoteFrees(), "pending");
            long again = h.malloc(64);
            assertTrue(again == blocks[0] || again == blocks[1] || again == blocks[2], "the owner drained them");
            assertEquals(3, h.stats().events().remoteFrees(), "drained");
            h.free(again);
        }
    }

    @Test
    void theGlobalHeapIsNamedSo() {
        assertTrue(HakMem.global().toString().startsWith("HakMem[global-"), HakMem.global().toString());
    }

    @Test
    void withoutGuardModeTheLeakReportHasOneEntryForEveryLiveBlock() {
        try (HakMem h = heap(HakMemConfig.builder())) {
            long a = h.malloc(100);
            long b = h.malloc(100);
            assertEquals(new LeakReport(2, 224, java.util.List.of(new LeakReport.Site("(no site: guard mode is off)",
                    2, 224))), h.leakReport());
            h.free(a);
            h.free(b);
            assertEquals(new LeakReport(0, 0, java.util.List.of()), h.leakReport());
            assertEquals("hakmem leak report: 3 blocks, 300 bytes live\n  1 block, 100 bytes at here\n  2 blocks, "
                    + "200 bytes at there", new LeakReport(3, 300, java.util.List.of(new LeakReport.Site("here", 1, 100),
                    new LeakReport.Site("there", 2, 200))).toString());
        }
    }
}
