package dev.hakmem;

import dev.hakmem.os.Mem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HakMemTest {
    private final HakMem heap = HakMem.create();

    @AfterEach
    void close() {
        heap.close();
    }

    @Test
    void everySizeUpToTwoMegabytesIsAlignedUsableAndWritable() {
        List<Long> blocks = new ArrayList<>();
        for (long size = 0; size <= (3L << 20); size = size < 2048 ? size + 1 : size * 5 / 4) {
            long a = heap.malloc(size);
            assertEquals(0, a % 16, "alignment of " + size);
            assertTrue(heap.usableSize(a) >= size, "usable size of " + size);
            if (size > 0) {
                Mem.ALL.set(ValueLayout.JAVA_BYTE, a, (byte) 1);
                Mem.ALL.set(ValueLayout.JAVA_BYTE, a + size - 1, (byte) 2);
            }
            blocks.add(a);
        }
        assertEquals(blocks.size(), new HashSet<>(blocks).size(), "distinct addresses");
        assertEquals(blocks.size(), heap.stats().liveBlocks());
        heap.check();
        blocks.forEach(heap::free);
        assertEquals(0, heap.stats().liveBytes());
        heap.check();
    }

    @Test
    void sizeZeroGivesUniqueBlocks() {
        long a = heap.malloc(0);
        long b = heap.malloc(0);
        assertNotEquals(0, a);
        assertNotEquals(a, b);
        heap.free(a);
        heap.free(b);
    }

    @Test
    void tinyClassesWasteLessThanAQuarterAbove64Bytes() {
        for (long size = 65; size <= 1024; size++) {
            long a = heap.malloc(size);
            long usable = heap.usableSize(a);
            assertTrue(usable < size * 1.25, size + " -> " + usable);
            heap.free(a);
        }
    }

    @Test
    void poolClassesRoundByAtMostWMax() {
        try (HakMem h = HakMem.create(HakMemConfig.builder().wMax(1.125).build())) {
            for (long size = 1025; size <= (1 << 20); size += 997) {
                long a = h.malloc(size);
                assertTrue(h.usableSize(a) <= size * 1.125, size + " -> " + h.usableSize(a));
                h.free(a);
            }
        }
    }

    @Test
    void callocIsZeroEvenOnReusedMemory() {
        for (long size : new long[]{8, 100, 1000, 5000, 100_000, 3 << 20}) {
            long a = heap.malloc(size);
            Mem.fill(a, size, (byte) 0x5A);
            heap.free(a);
            long b = heap.calloc(1, size);
            MemorySegment seg = Mem.ALL.asSlice(b, size);
            assertEquals(-1, seg.mismatch(MemorySegment.ofArray(new byte[(int) size])), "zero of " + size);
            heap.free(b);
        }
    }

    @Test
    void callocRejectsOverflowAndNegatives() {
        assertThrows(IllegalArgumentException.class, () -> heap.calloc(Long.MAX_VALUE / 2, 3));
        assertThrows(IllegalArgumentException.class, () -> heap.calloc(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> heap.malloc(-5));
    }

    @Test
    void alignedAllocationHonoursEveryPowerOfTwo() {
        for (int log = 0; log <= 23; log++) {
            long align = 1L << log;
            for (long size : new long[]{1, 17, 1000, 70_000}) {
                long a = heap.mallocAligned(size, align);
                assertEquals(0, a % Math.max(align, 16), size + " aligned to " + align);
                assertTrue(heap.usableSize(a) >= size);
                heap.free(a);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> heap.mallocAligned(10, 24));
        assertThrows(IllegalArgumentException.class, () -> heap.mallocAligned(10, 0));
    }

    @Test
    void reallocKeepsContentsAndStaysInPlaceWithinTheClass() {
        long a = heap.malloc(100);
        Mem.fill(a, 100, (byte) 7);
        assertEquals(a, heap.realloc(a, 110), "100 and 110 share the 112-byte class");
        long b = heap.realloc(a, 50_000);
        for (int i = 0; i < 100; i++) {
            assertEquals(7, Mem.ALL.get(ValueLayout.JAVA_BYTE, b + i));
        }
        assertThrows(DoubleFreeException.class, () -> heap.free(a));
        long c = heap.realloc(b, 3 << 20);
        assertEquals(7, Mem.ALL.get(ValueLayout.JAVA_BYTE, c + 99));
        long d = heap.realloc(c, 10);
        assertEquals(7, Mem.ALL.get(ValueLayout.JAVA_BYTE, d + 9));
        heap.free(d);
        assertEquals(0, heap.stats().liveBlocks());
        long e = heap.realloc(0, 10);
        heap.free(e);
    }

    @Test
    void doubleFreeIsDetectedAndTheHeapStaysIntact() {
        long keep = heap.malloc(64);
        Mem.fill(keep, 64, (byte) 3);
        for (long size : new long[]{64, 4000, 200_000, 5 << 20}) {
            long a = heap.malloc(size);
            heap.free(a);
            DoubleFreeException e = assertThrows(DoubleFreeException.class, () -> heap.free(a));
            assertEquals(a, e.address());
        }
        assertEquals(4, heap.stats().events().doubleFrees());
        assertEquals(-1, Mem.ALL.asSlice(keep, 64).mismatch(MemorySegment.ofArray(filled(64, (byte) 3))));
        heap.check();
        heap.free(keep);
    }

    @Test
    void wrongAddressesAreRefusedWithoutTouchingThem() {
        long a = heap.malloc(64);
        long big = heap.malloc(3 << 20);
        InvalidFreeException interior = assertThrows(InvalidFreeException.class, () -> heap.free(a + 16));
        assertFalse(interior instanceof DoubleFreeException);
        assertTrue(interior.reason().contains("interior"), interior.getMessage());
        assertTrue(assertThrows(InvalidFreeException.class, () -> heap.free(a + 3)).reason().contains("misaligned"));
        assertThrows(InvalidFreeException.class, () -> heap.free(big + 4096));
        assertThrows(InvalidFreeException.class, () -> heap.free(0xdead_beef_0000L));
        assertThrows(InvalidFreeException.class, () -> heap.free(-16));
        assertThrows(InvalidFreeException.class, () -> heap.usableSize(12345));
        try (Arena confined = Arena.ofConfined()) {
            assertThrows(InvalidFreeException.class, () -> heap.free(confined.allocate(64)));
        }
        try (HakMem other = HakMem.create()) {
            long foreign = other.malloc(64);
            assertTrue(assertThrows(InvalidFreeException.class, () -> heap.free(foreign)).reason()
                    .contains("another"));
            other.free(foreign);
        }
        heap.free(0);
        heap.free(a);
        heap.free(big);
        heap.check();
    }

    @Test
    void remoteFreesReturnToTheOwner() throws Exception {
        long[] blocks = new long[10_000];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = heap.malloc(48);
        }
        long mapped = heap.stats().mappedBytes();
        Thread t = Thread.ofPlatform().start(() -> {
            for (long b : blocks) {
                heap.free(b);
            }
        });
        t.join();
        HakMemStats s = heap.stats();
        assertEquals(0, s.liveBlocks());
        assertEquals(blocks.length, s.events().remoteFrees());
        heap.check();
        Set<Long> again = new HashSet<>();
        for (int i = 0; i < blocks.length; i++) {
            again.add(heap.malloc(48));
        }
        assertEquals(blocks.length, again.size());
        assertEquals(mapped, heap.stats().mappedBytes(), "the owner reuses the drained blocks, maps nothing new");
        heap.check();
        again.forEach(heap::free);
    }

    @Test
    void aDeadThreadsSuperSlabsAreAdoptedByTheNextFreer() throws Exception {
        long[] blocks = allocateOnAThreadThatEnds(heap, 5000);
        awaitTrue(() -> heap.stats().events().heapsAbandoned() >= 1, "the dead thread's heap is reaped");
        for (long b : blocks) {
            heap.free(b);
        }
        HakMemStats s = heap.stats();
        assertEquals(0, s.liveBlocks());
        assertTrue(s.events().adoptions() >= 1, "adopted on free: " + s.events());
        heap.check();
    }

    @Test
    void aDeadThreadsMemoryGoesBackToTheOsOnceItsBlocksAreFreed() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().purgeDelayMillis(0).build())) {
            long[] blocks = allocateOnAThreadThatEnds(h, 5000);
            assertTrue(h.stats().committedBytes() > 0);
            for (long b : blocks) {
                h.free(b);
            }
            awaitTrue(() -> h.stats().committedBytes() == 0, "reclaimed and purged: " + h.stats());
            assertEquals(0, h.stats().liveBlocks());
            h.check();
        }
    }

    private static long[] allocateOnAThreadThatEnds(HakMem h, int n) throws InterruptedException {
        long[] blocks = new long[n];
        Thread t = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < n; i++) {
                blocks[i] = h.malloc(32 + (i % 900));
            }
        });
        t.join();
        return blocks;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void virtualThreadsShareABoundedSetOfHeaps() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().sharedHeaps(4).build())) {
            long before = h.stats().events().heapsCreated();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    long a = h.malloc(100);
                    long b = h.malloc(5000);
                    h.free(a);
                    h.free(b);
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(before, h.stats().events().heapsCreated());
            assertEquals(0, h.stats().liveBlocks());
            h.check();
        }
    }

    @Test
    void arenaSegmentsDieWithTheArena() {
        MemorySegment seg;
        try (Arena arena = heap.newArena()) {
            seg = arena.allocate(100, 64);
            seg.set(ValueLayout.JAVA_LONG, 0, 42);
            assertEquals(0, seg.address() % 64);
            assertEquals(1, heap.stats().liveBlocks());
        }
        assertFalse(seg.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> seg.get(ValueLayout.JAVA_LONG, 0));
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void segmentsAreBoundedToTheBlock() {
        MemorySegment seg = heap.allocate(40, 8);
        assertEquals(40, seg.byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> seg.get(ValueLayout.JAVA_LONG, 40));
        heap.free(seg);
        assertThrows(InvalidFreeException.class, () -> heap.free(MemorySegment.ofArray(new byte[4])));
        assertEquals("segment", assertThrows(NullPointerException.class, () -> heap.free((MemorySegment) null))
                .getMessage());
    }

    @Test
    void closedHeapRefusesUse() {
        HakMem h = HakMem.create();
        long a = h.malloc(10);
        h.close();
        assertThrows(IllegalStateException.class, () -> h.malloc(10));
        assertThrows(IllegalStateException.class, () -> h.free(a));
        assertEquals(0, h.stats().mappedBytes());
        assertThrows(UnsupportedOperationException.class, () -> HakMem.global().close());
    }

    /**
     * A refused {@code hakmem.*} setting is named by every call of {@link HakMem#global()}, in a JVM of its own (the
     * global heap is the process's): thrown from a class initializer, it named the setting once and then became
     * NoClassDefFoundError.
     */
    @Test
    void aRefusedSettingOfTheGlobalHeapIsNamedOnEveryCall() throws Exception {
        String out = ChildJvms.output(GlobalChild.class, "-Dhakmem.guardTraceRing=4g");
        String refusal = "java.lang.IllegalStateException: hakmem: the global heap could not be created:"
                + " hakmem.guardTraceRing: not in [1, 1048576]: 4g";
        assertEquals(List.of(refusal, refusal), out.lines().toList());
    }

    /** The child: asks for the global heap twice, printing what each call threw. */
    static final class GlobalChild {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println("returned " + HakMem.global());
                } catch (RuntimeException | Error e) {
                    System.out.println(e.getClass().getName() + ": " + e.getMessage());
                }
            }
        }
    }

    @Test
    void mappedLimitGivesOutOfMemoryNamingTheRequest() {
        try (HakMem h = HakMem.create(HakMemConfig.builder().mappedLimit(4 << 20).build())) {
            HakMemOutOfMemoryError e = assertThrows(HakMemOutOfMemoryError.class, () -> h.malloc(8 << 20));
            assertEquals(8 << 20, e.requestedBytes());
            List<Long> blocks = new ArrayList<>();
            HakMemOutOfMemoryError e2 = assertThrows(HakMemOutOfMemoryError.class, () -> {
                for (;;) {
                    blocks.add(h.malloc(300_000));
                }
            });
            assertEquals(300_000, e2.requestedBytes());
            assertTrue(h.stats().mappedBytes() <= 4 << 20);
            blocks.forEach(h::free);
            h.check();
            h.free(h.malloc(100));
        }
        assertThrows(HakMemOutOfMemoryError.class, () -> heap.malloc(Long.MAX_VALUE));
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, v);
        return b;
    }
}
