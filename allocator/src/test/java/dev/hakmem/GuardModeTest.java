package dev.hakmem;

import dev.hakmem.os.Mem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GuardModeTest {
    private final HakMem heap = HakMem.create(HakMemConfig.builder().guard(true).build());

    @AfterEach
    void close() {
        heap.close();
    }

    static void poke(long address, int value) {
        Mem.ALL.set(ValueLayout.JAVA_BYTE, address, (byte) value);
    }

    /**
     * Corrupts the byte at {@code address} by inverting it. Canaries and checksums are derived from a per-process
     * secret, so a fixed value written over one of their bytes leaves it unchanged once in 256 runs, and the test
     * would then fail for want of a corruption. Sampled mode's canaries and poison are secret as well.
     */
    static void flip(long address) {
        poke(address, ~Mem.ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    @Test
    void anOverflowPastTheEndIsCaughtOnFreeWithTheBlocksHistory() {
        long a = heap.malloc(100);
        flip(a + 100);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertEquals(a, e.address());
        String m = e.getMessage();
        assertTrue(m.contains("overflow") && m.contains("100 B requested"), m);
        assertTrue(m.contains("GuardModeTest.anOverflowPastTheEnd"), "names the allocating site: " + m);
        assertTrue(m.contains("ALLOC 0x" + Long.toHexString(a)), "carries the trace: " + m);
        assertEquals(1, heap.violations());
    }

    @Test
    void aCorruptedBlockIsCondemnedReportedOnceAndNeverReused() {
        long a = heap.malloc(100);
        flip(a + 100);
        assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        heap.check();
        assertEquals(0, heap.leakReport().blocks());
        assertEquals(0, heap.stats().liveBlocks());
        HeapCorruptionException again = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertTrue(again.getMessage().contains("condemned"), again.getMessage());
        for (int i = 0; i < 1000; i++) {
            long b = heap.malloc(100);
            assertTrue(b != a, "a condemned block is never handed out again");
            heap.free(b);
        }
    }

    @Test
    void anUnderflowIntoTheHeaderIsCaught() {
        long a = heap.malloc(64);
        flip(a - 1);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertTrue(e.getMessage().contains("underflow"), e.getMessage());
    }

    /**
     * Alignments of 2^32 and more, which the allocator serves, pad the header as far: the pad was kept in the
     * header's low 32 bits, read back as 0, and every such block was reported overflowed and refused as an interior
     * pointer at its free.
     */
    @Test
    void blocksAlignedTo4GiBAndMoreAreGuardedLikeAnyOther() {
        for (long alignment : new long[]{1L << 32, 1L << 33}) {
            long a = heap.mallocAligned(64, alignment);
            assertEquals(0, a % alignment);
            Mem.fill(a, 64, (byte) 7);
            assertEquals(64, heap.usableSize(a));
            heap.check();
            heap.free(a);
        }
        long b = heap.mallocAligned(64, 1L << 32);
        flip(b + 64);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(b));
        assertTrue(e.getMessage().contains("overflow"), e.getMessage());
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void anUnderflowBeforeAnAlignedBlockIsCaught() {
        long a = heap.mallocAligned(64, 256);
        assertEquals(0, a % 256);
        flip(a - 3);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertTrue(e.getMessage().contains("underflow"), e.getMessage());
    }

    @Test
    void aWriteAfterFreeIsCaughtByCheckAndWhenTheBlockLeavesQuarantine() {
        long a = heap.malloc(48);
        heap.free(a);
        poke(a + 10, 0);
        HeapCorruptionException byCheck = assertThrows(HeapCorruptionException.class, heap::check);
        assertTrue(byCheck.getMessage().contains("write after free") && byCheck.getMessage().contains("offset 10"),
                byCheck.getMessage());
        try (HakMem small = HakMem.create(HakMemConfig.builder()
                .guard(GuardOptions.on().withQuarantineBytes(48)).build())) {
            long b = small.malloc(48);
            long c = small.malloc(48);
            small.free(b);
            poke(b, 0);
            // The quarantine holds one 48-byte block: freeing c pushes b out, and b's poison is checked.
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> small.free(c));
            assertEquals(b, e.address());
            assertTrue(e.getMessage().contains("write after free"), e.getMessage());
        }
    }

    private static HakMem withQuarantine(long bytes) {
        return HakMem.create(HakMemConfig.builder().guard(GuardOptions.on().withQuarantineBytes(bytes)).build());
    }

    @Test
    void reallocNeverLosesItsNewBlockToAViolationInAnotherBlock() {
        try (HakMem h = withQuarantine(48)) {
            long a = h.malloc(48);
            long b = h.malloc(48);
            h.free(a);
            poke(a, 0);
            long c = h.realloc(b, 100);
            assertEquals(1, h.stats().liveBlocks(), "the new block is the caller's");
            assertThrows(HeapCorruptionException.class, () -> h.free(h.malloc(48)), "reported by the next free");
            h.free(c);
            assertEquals(0, h.stats().liveBlocks());
        }
    }

    @Test
    void everyBlockLeavingTheQuarantineIsReturnedEvenAfterOneFailsItsCheck() {
        try (HakMem h = withQuarantine(300)) {
            long[] blocks = {h.malloc(100), h.malloc(100), h.malloc(100)};
            for (long b : blocks) {
                h.free(b);
            }
            poke(blocks[0], 0);
            long big = h.malloc(300);
            long blocksBefore = h.stats().tier(HakMemStats.Tier.TINY).liveBlocks();
            assertThrows(HeapCorruptionException.class, () -> h.free(big));
            // blocks[0] stays out of circulation; blocks[1] and [2] went back to the allocator.
            assertEquals(blocksBefore - 2, h.stats().tier(HakMemStats.Tier.TINY).liveBlocks());
        }
    }

    @Test
    void checkReportsEveryWriteAfterFreeOnceInOneViolation() {
        long a = heap.malloc(48);
        long b = heap.malloc(48);
        heap.free(a);
        heap.free(b);
        poke(a, 0);
        poke(b, 0);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertEquals(a, e.address());
        assertEquals(1, e.getSuppressed().length, "none hides behind the first");
        assertEquals(b, ((HeapCorruptionException) e.getSuppressed()[0]).address());
        heap.check();
    }

    /** The blocks allocated underneath guard mode: guarded, quarantined or out of circulation. */
    private static long allocatorBlocks(HakMem h) {
        return h.stats().tiers().values().stream().mapToLong(HakMemStats.TierStats::liveBlocks).sum();
    }

    @Test
    void checkVerifiesAndDrainsTheQuarantineOfADeadThread() throws Exception {
        long a = heap.malloc(48);
        long b = heap.malloc(48);
        Thread t = Thread.ofPlatform().start(() -> {
            heap.free(a);
            heap.free(b);
        });
        t.join();
        poke(a, 0);
        assertEquals(2, allocatorBlocks(heap), "both wait in the dead thread's quarantine");
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertEquals(a, e.address());
        assertEquals(1, allocatorBlocks(heap), "b is given back; a, written after its free, never is");
        assertEquals(0, heap.stats().liveBlocks());
        heap.check();
    }

    @Test
    void aNewThreadAdoptsADeadThreadsQuarantineAndItsCounts() throws Exception {
        try (HakMem h = withQuarantine(100)) {
            long a = h.malloc(40);
            long kept = h.malloc(8);
            Thread t = Thread.ofPlatform().start(() -> {
                h.free(a);
                h.free(h.malloc(16));
            });
            t.join();
            poke(a + 5, 0);
            // The next thread adopts the dead one's quarantine: its first free pushes a out, and a's poison is checked.
            AtomicReference<HeapCorruptionException> thrown = new AtomicReference<>();
            Thread u = Thread.ofPlatform().start(() -> {
                long c = h.malloc(80);
                thrown.set(assertThrows(HeapCorruptionException.class, () -> h.free(c)));
            });
            u.join();
            assertEquals(a, thrown.get().address());
            assertTrue(thrown.get().getMessage().contains("was modified at offset 5"), thrown.get().getMessage());
            assertEquals(1, h.stats().liveBlocks(), "kept, whichever thread's share counted it");
            h.free(kept);
            h.check();
        }
    }

    @Test
    void theLeakReportStillCountsABlockWhoseHeaderWasDestroyed() {
        long a = heap.malloc(64);
        flip(a - 8);
        assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        LeakReport r = heap.leakReport();
        assertEquals(1, r.blocks(), r.toString());
        assertTrue(r.sites().get(0).stack().contains("header overwritten"), r.toString());
    }

    @Test
    void aDoubleFreeNamesTheEarlierFree() {
        long a = heap.malloc(32);
        heap.free(a);
        DoubleFreeException e = assertThrows(DoubleFreeException.class, () -> heap.free(a));
        assertTrue(e.getMessage().contains("already freed") && e.getMessage().contains("FREE 0x"), e.getMessage());
    }

    @Test
    void interiorAndForeignPointersAreRefused() {
        long a = heap.malloc(256);
        InvalidFreeException interior = assertThrows(InvalidFreeException.class, () -> heap.free(a + 64));
        assertTrue(interior.getMessage().contains("interior pointer: 64 bytes"), interior.getMessage());
        assertThrows(InvalidFreeException.class, () -> heap.free(0x1234_5670L));
        assertThrows(InvalidFreeException.class, () -> heap.usableSize(a - 32));
        heap.free(a);
        heap.check();
    }

    @Test
    void racingFreesOfOneBlockLetExactlyOneThrough() throws Exception {
        for (int round = 0; round < 200; round++) {
            long a = heap.malloc(40);
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicInteger refused = new AtomicInteger();
            Runnable free = () -> {
                try {
                    start.await();
                    heap.free(a);
                } catch (DoubleFreeException e) {
                    refused.incrementAndGet();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            Thread t1 = Thread.ofPlatform().start(free);
            Thread t2 = Thread.ofPlatform().start(free);
            t1.join();
            t2.join();
            assertEquals(1, refused.get(), "round " + round);
        }
        heap.check();
    }

    @Test
    void reportModeCountsAndGoesOn() {
        try (HakMem h = HakMem.create(HakMemConfig.builder()
                .guard(GuardOptions.on().withThrowOnViolation(false)).build())) {
            long a = h.malloc(10);
            flip(a + 10);
            h.free(a);
            h.free(a + 1);
            long b = h.malloc(10);
            h.free(b);
            h.free(b);
            assertEquals(3, h.violations());
            assertEquals(0, h.stats().liveBlocks(), "the overflowed block is condemned, no longer the program's");
        }
    }

    @Test
    void theLeakReportGroupsLiveBlocksBySite() {
        List<Long> keep = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            keep.add(allocateHere(100));
        }
        keep.add(allocateThere(5000));
        long freed = allocateHere(7);
        heap.free(freed);
        LeakReport r = heap.leakReport();
        assertEquals(4, r.blocks());
        assertEquals(5300, r.bytes());
        assertEquals(2, r.sites().size(), r.toString());
        assertTrue(r.sites().get(0).stack().contains("allocateThere"), r.toString());
        assertEquals(3, r.sites().get(1).blocks());
        assertTrue(r.sites().get(1).stack().contains("allocateHere"), r.toString());
        keep.forEach(heap::free);
        assertEquals(0, heap.leakReport().blocks());
    }

    private long allocateHere(long size) {
        return heap.malloc(size);
    }

    private long allocateThere(long size) {
        return heap.malloc(size);
    }

    @Test
    void theTraceIsDumpedOnDemandAndOnAViolation(@TempDir Path dir) throws Exception {
        long a = heap.malloc(16);
        heap.free(a);
        Path dump = dir.resolve("trace.txt");
        heap.dumpTrace(dump);
        String text = Files.readString(dump);
        assertTrue(text.contains("ALLOC 0x" + Long.toHexString(a)) && text.contains("FREE 0x"), text);
        assertTrue(text.contains("refill class"), text);

        Path onViolation = dir.resolve("violation.txt");
        try (HakMem h = HakMem.create(HakMemConfig.builder()
                .guard(GuardOptions.on().withTraceFile(onViolation)).build())) {
            long b = h.malloc(16);
            h.free(b);
            assertThrows(DoubleFreeException.class, () -> h.free(b));
            assertTrue(Files.readString(onViolation).contains("FREE 0x" + Long.toHexString(b)));
        }
        try (HakMem plain = HakMem.create()) {
            assertEquals("guard mode is off: no trace is kept",
                    assertThrows(IllegalStateException.class, () -> plain.dumpTrace(dump)).getMessage());
        }
        try (HakMem sampled = HakMem.create(HakMemConfig.builder().guard(GuardOptions.sampled(1)).build())) {
            String refusal = assertThrows(IllegalStateException.class, () -> sampled.dumpTrace(dump)).getMessage();
            assertTrue(refusal.startsWith("full guard mode is off: sampled guard mode keeps no trace rings"), refusal);
        }
        assertEquals("file", assertThrows(NullPointerException.class, () -> heap.dumpTrace(null)).getMessage());
    }

    @Test
    void guardedBlocksBehaveLikePlainOnes() {
        long z = heap.calloc(10, 100);
        for (int i = 0; i < 1000; i++) {
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, z + i));
        }
        Mem.fill(z, 1000, (byte) 5);
        long r = heap.realloc(z, 5000);
        assertEquals(5, Mem.ALL.get(ValueLayout.JAVA_BYTE, r + 999));
        assertEquals(5000, heap.usableSize(r));
        long big = heap.mallocAligned(3 << 20, 1 << 16);
        assertEquals(0, big % (1 << 16));
        assertEquals(5000 + (3 << 20), heap.stats().liveBytes());
        assertEquals(2, heap.stats().liveBlocks());
        heap.check();
        heap.free(r);
        heap.free(big);
        assertEquals(0, heap.stats().liveBytes());
    }

    @Test
    void guardModeIsReadFromTheSystem() {
        HakMemConfig c = HakMemConfig.fromLookup(Map.of("guard", "1", "guardReport", "true",
                "guardQuarantine", "1m", "guardSiteDepth", "3", "guardSiteSampling", "10")::get);
        assertTrue(c.guard().enabled());
        assertFalse(c.guard().throwOnViolation());
        assertEquals(1 << 20, c.guard().quarantineBytes());
        assertEquals(3, c.guard().siteDepth());
        assertEquals(10, c.guard().siteSampling());
    }

    @Test
    void anOverflowIsMeasuredFromTheEndAndItsBlockLeavesTheLiveCounts() {
        long a = heap.malloc(40);
        flip(a + 42);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertTrue(e.getMessage().startsWith("buffer overflow: 3 or more bytes written past the end of guarded block 0x"
                + Long.toHexString(a) + " (40 B requested, "), e.getMessage());
        assertEquals(0, heap.stats().liveBlocks(), "a condemned block is not the program's any more");
        assertEquals(0, heap.stats().liveBytes());
    }

    @Test
    void checkFindsOverflowsOfLiveBlocksInEveryTier() {
        long big = heap.malloc(3 << 20);
        flip(big + (3 << 20));
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertEquals(big, e.address());
        assertTrue(e.getMessage().startsWith("buffer overflow: 1 or more bytes"), e.getMessage());
        long small = heap.malloc(24);
        flip(small + 24 + 7);
        assertEquals(small, assertThrows(HeapCorruptionException.class, heap::check).address());
        heap.check();
    }

    @Test
    void aWriteAfterFreeIsReportedAtItsExactOffsetAndCleanQuarantinedBlocksPass() {
        long a = heap.malloc(45);
        long b = heap.malloc(45);
        long clean = heap.malloc(45);
        heap.free(a);
        heap.free(b);
        heap.free(clean);
        heap.check();
        flip(a + 43);
        assertTrue(assertThrows(HeapCorruptionException.class, heap::check).getMessage()
                .contains("was modified at offset 43"));
        flip(b + 9);
        assertTrue(assertThrows(HeapCorruptionException.class, heap::check).getMessage()
                .contains("was modified at offset 9"));
        heap.check();
    }

    @Test
    void reallocQuarantinesTheOldBlock() {
        long a = heap.malloc(40);
        long b = heap.realloc(a, 80);
        assertTrue(b != a, "guard mode always moves");
        flip(a + 3);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertEquals(a, e.address());
        assertTrue(e.getMessage().contains("was modified at offset 3"), e.getMessage());
    }

    @Test
    void blocksPushedOutTogetherAreAllReportedInOneViolation() {
        try (HakMem h = withQuarantine(100)) {
            long a = h.malloc(40);
            long b = h.malloc(40);
            long c = h.malloc(200);
            h.free(a);
            h.free(b);
            flip(a);
            flip(b + 1);
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> h.free(c));
            assertEquals(a, e.address());
            assertEquals(1, e.getSuppressed().length);
            assertEquals(b, ((HeapCorruptionException) e.getSuppressed()[0]).address());
        }
    }

    @Test
    void theTraceTellsLocalFreesFromRemoteOnes(@TempDir Path dir) throws Exception {
        long local = heap.malloc(16);
        long remote = heap.malloc(16);
        heap.free(local);
        Thread t = Thread.ofPlatform().start(() -> heap.free(remote));
        t.join();
        Path dump = dir.resolve("trace.txt");
        heap.dumpTrace(dump);
        String text = Files.readString(dump);
        assertTrue(text.contains(" FREE 0x" + Long.toHexString(local)), text);
        assertTrue(text.contains(" REMOTE_FREE 0x" + Long.toHexString(remote)), text);
        assertFalse(text.contains(" REMOTE_FREE 0x" + Long.toHexString(local)), text);
    }

    @Test
    void aDestroyedHeaderIsNamedAndItsBlockCountedAtItsCapacity() {
        long a = heap.malloc(100);
        for (int i = 1; i <= 32; i++) {
            flip(a - i);
        }
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertTrue(e.getMessage().startsWith("guard header of block 0x" + Long.toHexString(a - 32)
                + " is overwritten (an underflow before 0x" + Long.toHexString(a) + ", or a wild write)"),
                e.getMessage());
        long capacity;
        try (HakMem plain = HakMem.create()) {
            // 100 bytes with 40 of header and canary: the block's capacity is what is left of its class.
            capacity = plain.usableSize(plain.malloc(100 + 40)) - 40;
        }
        LeakReport r = heap.leakReport();
        assertEquals(new LeakReport.Site("(guard header overwritten: site unknown; bytes are the block's capacity)",
                1, capacity), r.sites().getFirst());
        assertEquals(capacity, r.bytes());
    }

    @Test
    void alignedRequestsAreCheckedAndSmallAlignmentsArePlainBlocks() {
        assertEquals("negative size: -1",
                assertThrows(IllegalArgumentException.class, () -> heap.mallocAligned(-1, 64)).getMessage());
        long a = heap.mallocAligned(10, 8);
        assertEquals(0, a % 16);
        assertEquals(10, heap.usableSize(a));
        assertEquals(1, heap.stats().liveBlocks());
        heap.free(a);
    }

    @Test
    void checkOfAClosedGuardedHeapIsRefused() {
        HakMem h = withQuarantine(0);
        h.close();
        assertThrows(IllegalStateException.class, h::check);
    }

    /** The commonest overruns write zeros (a memset, a terminator): canary and checksum must never be zero. */
    @Test
    void overrunsOfZerosAreCaughtAtEitherEnd() {
        long a = heap.malloc(64);
        Mem.putLong(a + 64, 0);
        assertTrue(assertThrows(HeapCorruptionException.class, () -> heap.free(a)).getMessage()
                .startsWith("buffer overflow"));
        long b = heap.malloc(64);
        Mem.fill(b - 32, 32, (byte) 0);
        assertTrue(assertThrows(HeapCorruptionException.class, () -> heap.free(b)).getMessage()
                .startsWith("guard header of block"));
        long c = heap.mallocAligned(64, 256);
        Mem.putLong(c - 8, 0);
        assertTrue(assertThrows(HeapCorruptionException.class, () -> heap.free(c)).getMessage()
                .startsWith("buffer underflow"));
    }

    /** Past the quarantine a freed big block is the big tier's again: a second free is refused by the tier. */
    @Test
    void aSecondFreeOfABigBlockPastTheQuarantineIsADoubleFree() {
        try (HakMem h = withQuarantine(0)) {
            long a = h.malloc(3 << 20);
            h.free(a);
            DoubleFreeException e = assertThrows(DoubleFreeException.class, () -> h.free(a));
            assertTrue(e.getMessage().contains(" bytes was freed") && !e.getMessage().contains("in quarantine"),
                    e.getMessage());
        }
    }

    @Test
    void reallocOfNullIsMalloc() {
        long a = heap.realloc(0, 40);
        assertEquals(40, heap.usableSize(a));
        heap.free(a);
    }

    @Test
    void aRefusedFreeKeepsItsKind() {
        InvalidFreeException foreign = assertThrows(InvalidFreeException.class, () -> heap.free(0x1234_5670L));
        assertEquals(InvalidFreeException.class, foreign.getClass(), "not a double free");
        assertInstanceOf(InvalidFreeException.class, foreign.getCause(), "the allocator's refusal is the cause");
    }
}
