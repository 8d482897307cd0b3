package dev.hakmem.slab;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.registry.Registry;
import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Slab#checkInvariants} must name every kind of broken slab state, since every layer above relies on it:
 * each test breaks one invariant the way a bug would (through the private fields) and expects it reported. Also the
 * address queries at their bounds, and the drain's recovery paths.
 */
class SlabCheckTest {
    private static final long FAKE_BASE = 96L << 21;
    private static final MethodHandles.Lookup SLAB;

    static {
        try {
            SLAB = MethodHandles.privateLookupIn(Slab.class, MethodHandles.lookup());
        } catch (IllegalAccessException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static VarHandle field(String name, Class<?> type) {
        try {
            return SLAB.findVarHandle(Slab.class, name, type);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static final VarHandle BITS = field("bits", long[].class);
    private static final VarHandle FREE = field("free", char[].class);
    private static final VarHandle REMOTE_NEXT = field("remoteNext", char[].class);
    private static final VarHandle REMOTE_HEAD = field("remoteHead", int.class);
    private static final VarHandle STACK = field("stack", long.class);
    private static final VarHandle REBUILD = field("rebuildRequested", boolean.class);

    /** A slab of 16-byte blocks (4096 of them, 64 bitmap words), {@code carved} of them handed out. */
    private static Slab slab(int carved) {
        Slab s = new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, true, false).carve(0, 16);
        for (int i = 0; i < carved; i++) {
            s.carve();
        }
        assertNull(s.checkInvariants());
        return s;
    }

    private static void setBit(Slab s, int word, int b) {
        ((long[]) BITS.get(s))[word] |= 1L << b;
    }

    private static void setAllocated(Slab s, int b) {
        setBit(s, 2 * (b >>> 6), b);
    }

    private static void setClaimed(Slab s, int b) {
        setBit(s, 2 * (b >>> 6) + 1, b);
    }

    /** Sets the free stack's height, the low 16 bits of the slab's stack word, leaving its count of allocations. */
    private static void setTop(Slab s, int top) {
        STACK.set(s, ((long) STACK.get(s) & ~0xFFFFL) | (top & 0xFFFF));
    }

    /** Moves the free stack's top by {@code delta}: the used count, carved - top, moves the other way. */
    private static void moveTop(Slab s, int delta) {
        setTop(s, (int) ((long) STACK.get(s) & 0xFFFF) + delta);
    }

    @Test
    void aClaimOnABlockNotAllocatedIsReported() {
        Slab s = slab(100);
        setClaimed(s, 130);
        assertEquals("block 130 claimed but not allocated", s.checkInvariants());
    }

    /** Sampled marks: one per block, cleared once, each on a live block, and counted exactly. */
    @Test
    void sampledMarksAreCountedAndMustBeOnLiveBlocks() {
        Slab s = slab(130);
        assertFalse(s.unmarkSampled(5), "no mark yet: nothing to clear");
        s.markSampled(5);
        s.markSampled(129);
        assertEquals(2, s.sampledOpaque());
        assertTrue(s.isSampled(129));
        assertNull(s.checkInvariants());
        assertTrue(s.unmarkSampled(129));
        assertFalse(s.unmarkSampled(129), "a second clear (a racing double free's) finds nothing");
        assertEquals(1, s.sampledOpaque());
        assertNull(s.checkInvariants());
        s.freeLocal(5);
        assertEquals("block 5 is marked sampled but is not live", s.checkInvariants());
        s.unmarkSampled(5);
        assertNull(s.checkInvariants());
        VarHandle sampled = field("sampled", int.class);
        sampled.set(s, 1);
        assertEquals("counts 1 sampled blocks but 0 are marked", s.checkInvariants());
    }

    @Test
    void aUsedCountOffTheBitmapIsReported() {
        Slab s = slab(3);
        assertEquals(Slab.FREED, s.freeLocal(1));
        moveTop(s, -1);
        assertEquals("used 3 (carved 3 - free 0) but 2 allocated bits", s.checkInvariants());
        moveTop(s, 4);
        assertEquals("free stack of height 4 with 3 blocks carved", s.checkInvariants(),
                "a height above what is free");
    }

    /** The count of blocks handed out shares the stack's word: a pop, a carve and a push each keep it exact. */
    @Test
    void theCountOfBlocksHandedOutFollowsPopsAndCarvesAndIsCheckedAgainstTheCarvedOnes() {
        Slab s = slab(3);
        assertEquals(3, s.allocations());
        assertEquals(Slab.FREED, s.freeLocal(1));
        assertEquals(Slab.FREED, s.freeLocal(2));
        assertEquals(3, s.allocations(), "a free hands nothing out");
        assertEquals(2, s.popFree());
        assertEquals(1, s.popFree());
        assertEquals(5, s.allocations());
        assertEquals(3, s.used());
        assertNull(s.checkInvariants());
        STACK.set(s, (1L << 16) | ((long) STACK.get(s) & 0xFFFF));
        assertEquals("counts 1 blocks handed out, but 3 were carved", s.checkInvariants());
    }

    @Test
    void aFreeStackHoldingABlockBeyondTheCarvedOnesIsReported() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeLocal(3));
        ((char[]) FREE.get(s))[0] = 70;
        assertEquals("free stack holds block 70 beyond carved 70", s.checkInvariants());
        assertEquals(3, s.popFree(), "the pop does not hand it out: it rebuilds the stack from the bitmaps");
        assertNull(s.checkInvariants());
    }

    @Test
    void aFreeStackHoldingABlockTwiceIsReported() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeLocal(65));
        assertEquals(Slab.FREED, s.freeLocal(66));
        ((char[]) FREE.get(s))[0] = 66;
        assertEquals("free stack holds block 66 twice", s.checkInvariants());
    }

    @Test
    void aListedBlockThatIsAllocatedOrClaimedIsReported() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeLocal(65));
        setAllocated(s, 65);
        assertEquals("free-stack block 65 has its allocated or claimed bit set", s.checkInvariants());
    }

    @Test
    void anUncarvedBlockWithABitSetIsReported() {
        Slab s = slab(70);
        setAllocated(s, 200);
        assertEquals("uncarved block 200 has a bit set", s.checkInvariants());
    }

    @Test
    void aFreeBlockMissingFromTheFreeStackIsReported() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeLocal(3));
        setTop(s, 0);
        assertEquals("used 70 (carved 70 - free 0) but 69 allocated bits", s.checkInvariants());
    }

    @Test
    void aRemoteStackHoldingALiveOrUncarvedBlockIsReported() {
        Slab live = slab(70);
        REMOTE_HEAD.set(live, 66);
        ((char[]) REMOTE_NEXT.get(live))[66] = (char) Slab.NIL;
        assertEquals("remote stack holds block 66 that is not allocated and claimed", live.checkInvariants());

        Slab uncarved = slab(70);
        REMOTE_HEAD.set(uncarved, 70);
        ((char[]) REMOTE_NEXT.get(uncarved))[70] = (char) Slab.NIL;
        assertEquals("remote stack holds block 70 that is not allocated and claimed", uncarved.checkInvariants());

        Slab free = slab(70);
        assertEquals(Slab.FREED, free.freeLocal(66));
        REMOTE_HEAD.set(free, 66);
        ((char[]) REMOTE_NEXT.get(free))[66] = (char) Slab.NIL;
        assertEquals("remote stack holds block 66 that is not allocated and claimed", free.checkInvariants());
    }

    @Test
    void aClaimedBlockMissingFromTheRemoteStackIsReported() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeRemote(5));
        setClaimed(s, 66);
        assertEquals("remote stack has 1 blocks, 2 claimed", s.checkInvariants());
    }

    @Test
    void aRemoteStackWithACycleIsReportedAndTheDrainStopsAndRepairsIt() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeRemote(65));
        assertEquals(Slab.FREED, s.freeRemote(66));
        // A racing double free in user code can splice the stack into a cycle: 66 -> 65 -> 66 -> ...
        ((char[]) REMOTE_NEXT.get(s))[65] = 66;
        assertEquals("remote stack has " + (s.capacity + 1) + " blocks, 2 claimed", s.checkInvariants(),
                "the walk stops one block past the capacity");
        assertEquals(2, s.drain());
        assertTrue(s.lateDoubleFrees() > 0);
        assertFalse(s.hasRemote());
        assertEquals(68, s.used());
        assertNull(s.checkInvariants(), "the drain rebuilt the free list from the bitmaps");
    }

    @Test
    void aRequestedRebuildIsDoneOnceByTheNextDrain() {
        Slab s = slab(70);
        assertEquals(Slab.FREED, s.freeLocal(3));
        // What a remote freer that undid its claim leaves: the owner's stack may have lost a free block.
        setTop(s, 0);
        REBUILD.set(s, true);
        assertTrue(s.hasRemote(), "a requested rebuild makes the owner drain");
        assertEquals(0, s.drain());
        assertFalse(s.hasRemote(), "requested once, done once");
        assertNull(s.checkInvariants());
        assertEquals(3, s.popFree(), "the lost block is listed again");
    }

    @Test
    void addressQueriesAtTheBoundsOfTheSlot() {
        Slab s = new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, true, false).carve(0, 48);
        long slot = 1L << SizeClasses.SMALL_SHIFT;
        assertTrue(s.covers(s.base));
        assertTrue(s.covers(s.base + slot - 1));
        assertFalse(s.covers(s.base - 1));
        assertFalse(s.covers(s.base + slot));
        assertEquals(s.capacity - 1, s.indexContaining(s.base + 48L * s.capacity - 1));
        assertEquals(-1, s.indexContaining(s.base + 48L * s.capacity), "the unused tail holds no block");
        assertEquals(0, s.indexContaining(s.base + 47));
        assertEquals(1, s.indexContaining(s.base + 48));
    }

    @Test
    void aSlotIsCarvedZeroOnlyUntilItsFirstSlabIsRetired() {
        SuperSlab ss = new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, true, false);
        Slab first = ss.carve(0, 16);
        assertTrue(first.carvedZero(), "a fresh slot reads as zero");
        ss.retire(first, System.nanoTime());
        assertFalse(ss.carve(0, 16).carvedZero(), "the first slab wrote the slot");
        assertFalse(new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, false, false).carve(0, 16).carvedZero());
    }

    /** Remote frees racing on the stack's head: every push must land, whatever CAS fails in between. */
    @Test
    void concurrentRemoteFreesAreNeverLost() throws InterruptedException {
        int threads = 4;
        for (int round = 0; round < 20; round++) {
            Slab s = slab(4096);
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> freers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                freers.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    for (int b = first; b < s.capacity; b += threads) {
                        assertEquals(Slab.FREED, s.freeRemote(b));
                    }
                }));
            }
            start.countDown();
            for (Thread t : freers) {
                t.join();
            }
            assertEquals(s.capacity, s.pendingCount());
            assertNull(s.checkInvariants());
            assertEquals(s.capacity, s.drain(), "round " + round);
            assertEquals(0, s.used());
        }
    }

    /** The heap's check walks every slab of every SuperSlab, in guard mode too, and names the broken one. */
    @Test
    void aHeapCheckReportsACorruptedSlab() {
        for (boolean guard : new boolean[]{false, true}) {
            try (HakMem h = HakMem.create(HakMemConfig.builder().guard(guard ? GuardOptions.on()
                    : GuardOptions.off()).build())) {
                h.malloc(3000);
                long a = h.malloc(100);
                h.check();
                Slab s = ((SuperSlab) Registry.lookup(a)).slabAt(a);
                moveTop(s, -1);
                HeapCorruptionException e = assertThrows(HeapCorruptionException.class, h::check);
                assertEquals(s.base, e.address());
                assertTrue(e.getMessage().contains(": free stack of height "), e.getMessage());
                moveTop(s, 1);
                h.check();
            }
        }
    }
}
