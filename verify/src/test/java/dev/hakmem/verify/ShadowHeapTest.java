package dev.hakmem.verify;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.InvalidFreeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShadowHeapTest {

    private HakMem heap;
    private ShadowHeap shadow;

    @BeforeEach
    void open() {
        heap = HakMem.create();
        shadow = new ShadowHeap(heap);
    }

    @AfterEach
    void close() {
        heap.close();
    }

    /** Flips one byte of a live block behind the shadow's back. */
    private static void corrupt(long address, long offset) {
        MemorySegment seg = MemorySegment.ofAddress(address).reinterpret(offset + 1);
        seg.set(ValueLayout.JAVA_BYTE, offset, (byte) ~seg.get(ValueLayout.JAVA_BYTE, offset));
    }

    @Test
    void everyOperationKeepsTheShadowAndTheHeapInAgreement() {
        long a = shadow.malloc(100);
        long b = shadow.calloc(10, 30);
        long c = shadow.mallocAligned(5000, 4096);
        MemorySegment d = shadow.allocateSegment(70_000, 64);
        long e = shadow.malloc(0);
        assertEquals(0, c & 4095);
        assertEquals(5, shadow.liveCount());
        shadow.assertStatsAgree();

        a = shadow.realloc(a, 3000);
        b = shadow.realloc(b, 10);
        e = shadow.realloc(e, 200_000);
        long f = shadow.realloc(0, 2L << 20);
        shadow.verifyAll();
        shadow.assertStatsAgree();

        shadow.free(a);
        shadow.freeSegment(d);
        assertFalse(shadow.isLive(a));
        assertTrue(shadow.isLive(b) && shadow.isLive(c) && shadow.isLive(e) && shadow.isLive(f));
        shadow.freeAll();
        assertEquals(0, shadow.liveCount());
        assertEquals(0, heap.stats().liveBlocks());
        assertEquals(0, heap.stats().liveBytes());
        heap.check();
    }

    @Test
    void catchesACorruptedByteInVerifyAll() {
        long a = shadow.malloc(64);
        long b = shadow.malloc(300);
        corrupt(b, 37);
        AssertionError e = assertThrows(AssertionError.class, shadow::verifyAll);
        assertTrue(e.getMessage().contains("0x" + Long.toHexString(b)), e.getMessage());
        assertTrue(e.getMessage().contains("offset 37"), e.getMessage());
        assertTrue(e.getMessage().contains("requested 300"), e.getMessage());
        assertTrue(shadow.isLive(a));
    }

    @Test
    void catchesCorruptionBeforeFreeAndRealloc() {
        long a = shadow.malloc(48);
        corrupt(a, 0);
        AssertionError onFree = assertThrows(AssertionError.class, () -> shadow.free(a));
        assertTrue(onFree.getMessage().contains("offset 0"), onFree.getMessage());

        long b = shadow.malloc(5000);
        corrupt(b, 4999);
        AssertionError onRealloc = assertThrows(AssertionError.class, () -> shadow.realloc(b, 10_000));
        assertTrue(onRealloc.getMessage().contains("offset 4999"), onRealloc.getMessage());
    }

    @Test
    void watchesTheUsableTailBeyondTheRequestedSize() {
        long a = shadow.malloc(1);
        long usable = shadow.block(a).usable();
        assertTrue(usable >= 16, "usable " + usable);
        corrupt(a, usable - 1);
        assertThrows(AssertionError.class, shadow::verifyAll);
    }

    @Test
    void noticesStatsThatDisagree() {
        long a = shadow.malloc(128);
        shadow.malloc(256);
        shadow.assertStatsAgree();
        // Freed behind the shadow's back: the heap now counts one block fewer.
        heap.free(a);
        AssertionError e = assertThrows(AssertionError.class, shadow::assertStatsAgree);
        assertTrue(e.getMessage().contains("heap has 1 live blocks"), e.getMessage());
    }

    @Test
    void placesBlocksInTiersByUsableSize() {
        assertEquals(HakMemStats.Tier.TINY, ShadowHeap.tierOf(16));
        assertEquals(HakMemStats.Tier.TINY, ShadowHeap.tierOf(1024));
        assertEquals(HakMemStats.Tier.MID, ShadowHeap.tierOf(1088));
        assertEquals(HakMemStats.Tier.MID, ShadowHeap.tierOf(65536));
        assertEquals(HakMemStats.Tier.LARGE, ShadowHeap.tierOf(81920));
        assertEquals(HakMemStats.Tier.LARGE, ShadowHeap.tierOf(1 << 20));
        assertEquals(HakMemStats.Tier.BIG, ShadowHeap.tierOf(2 << 20));
    }

    @Test
    void comparesStatsPerTier() {
        for (long size : new long[] {100, 5000, 200_000, 3 << 20}) {
            shadow.malloc(size);
        }
        shadow.assertStatsAgree();
        for (HakMemStats.Tier t : HakMemStats.Tier.values()) {
            assertEquals(1, heap.stats().tier(t).liveBlocks(), t.toString());
        }
    }

    @Test
    void aFailedReallocLeavesTheBlockLive() {
        long a = shadow.malloc(200);
        assertThrows(IllegalArgumentException.class, () -> shadow.realloc(a, -1));
        assertTrue(shadow.isLive(a));
        shadow.verifyAll();
        shadow.free(a);
    }

    @Test
    void refusesAddressesItDoesNotTrack() {
        long a = shadow.malloc(32);
        assertThrows(IllegalArgumentException.class, () -> shadow.free(a + 16));
        assertThrows(IllegalArgumentException.class, () -> shadow.realloc(12345, 10));
        shadow.free(a);
        assertThrows(IllegalArgumentException.class, () -> shadow.free(a));
        assertThrows(InvalidFreeException.class, () -> heap.free(a));
    }

    @Test
    void isSafeToShareBetweenThreads() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    List<Long> mine = new ArrayList<>();
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < 2000; i++) {
                        if (mine.isEmpty() || rnd.nextInt(3) > 0) {
                            mine.add(shadow.malloc(rnd.nextInt(2048)));
                        } else {
                            shadow.free(mine.remove(rnd.nextInt(mine.size())));
                        }
                    }
                    mine.forEach(shadow::free);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(List.of(), failures);
        assertEquals(0, shadow.liveCount());
        shadow.assertStatsAgree();
    }
}
