package dev.hakmem.heap;

import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.os.LedgerPageSource;
import dev.hakmem.os.LedgerPageSource.Op;
import dev.hakmem.registry.Registry;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One heap's slabs over a page source that keeps a ledger: what it keeps, what it gives back, what a fault leaves. */
class ThreadHeapTest {
    private static final SizeClasses CLASSES = new SizeClasses(1.25);
    /** The largest class of 512 KiB slabs: four slots per SuperSlab, {@link SizeClasses#MID_BLOCKS} blocks per slab. */
    private static final int CLS = CLASSES.classOf(16 << 10);

    private final LedgerPageSource pages = new LedgerPageSource();
    private final Events events = new Events();
    private final MemoryAccount account = new MemoryAccount(Long.MAX_VALUE, 8 * SuperSlab.SIZE);
    private final SuperSlabPool pool = new SuperSlabPool(-3, pages, account, events,
            new ClassCounters(CLASSES.count()), 0);
    private final HeapSet set = new HeapSet(CLASSES, pool, events, new ClassCounters(CLASSES.count()), 1);
    private final ThreadHeap heap = new ThreadHeap(set, CLASSES, pool, Thread.currentThread(), false);

    @AfterEach
    void unmap() {
        pages.heal();
        assertEquals(List.of(), pool.releaseAll());
        assertEquals(0, pages.reservedBytes());
    }

    private void assertLedger(long retained) {
        assertEquals(pages.reservedBytes(), account.mappedBytes(), "mapped bytes against the page source");
        assertEquals(pages.committedBytes(), account.committedBytes(), "committed bytes against the page source");
        assertEquals(retained, account.retainedBytes(), "retained bytes");
    }

    /** Fills the current slab of {@link #CLS} and one block more: the first slab leaves the current position. */
    private List<Long> overOneSlab() {
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i <= CLASSES.capacity(CLS); i++) {
            blocks.add(heap.malloc(CLS));
        }
        return blocks;
    }

    private static Slab slabOf(long address) {
        return ((SuperSlab) Registry.lookup(address)).slabAt(address);
    }

    /**
     * A slab emptied by local frees retires unless it is current or, for a Mid class, becomes the class's spare (the
     * first one emptied); the next refill takes the spare's freed blocks before the current slab carves its
     * never-used ones.
     */
    @Test
    void aSlabEmptiedByLocalFreesIsRetiredUnlessItIsCurrentOrItsClassSpare() {
        int perSlab = CLASSES.capacity(CLS);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i <= 2 * perSlab; i++) {
            blocks.add(heap.malloc(CLS));
        }
        Slab spare = slabOf(blocks.getFirst());
        Slab second = slabOf(blocks.get(perSlab));
        Slab current = slabOf(blocks.getLast());
        SuperSlab ss = spare.superSlab;
        assertSame(ss, second.superSlab);
        assertSame(ss, current.superSlab);
        for (long b : blocks.subList(0, perSlab)) {
            assertEquals(Slab.FREED, Free.blockLocal(spare, spare.indexOf(b)));
        }
        assertSame(spare, ss.slabAcquire(spare.slot), "the first emptied slab stays, as its class's spare");
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        for (long b : blocks.subList(perSlab, 2 * perSlab)) {
            assertEquals(Slab.FREED, Free.blockLocal(second, second.indexOf(b)));
        }
        assertNull(ss.slabAcquire(second.slot), "the second emptied slab left its slot");
        assertEquals(perSlab, heap.counters.mallocs[CLS], "its blocks are counted as handed out");
        assertEquals(Slab.FREED, Free.blockLocal(current, current.indexOf(blocks.getLast())));
        assertSame(current, ss.slabAcquire(current.slot), "the current slab stays, empty, for the next malloc");
        assertEquals(blocks.getLast(), heap.malloc(CLS));
        long next = heap.malloc(CLS);
        assertSame(spare, slabOf(next), "a freed block of the spare before a never-used block of the current slab");
        assertTrue(blocks.subList(0, perSlab).contains(next));
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        assertLedger(0);
    }

    /**
     * Leaves a free slot laid out for {@link #CLS}: three slabs of it, the first two emptied (the first stays as the
     * class's spare, the second retires). Returns the retired slab.
     */
    private Slab aFreeSlotLaidOutForCls() {
        int perSlab = CLASSES.capacity(CLS);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i <= 2 * perSlab; i++) {
            blocks.add(heap.malloc(CLS));
        }
        Slab retired = slabOf(blocks.get(perSlab));
        for (long b : blocks.subList(0, 2 * perSlab)) {
            Slab s = slabOf(b);
            assertEquals(Slab.FREED, Free.blockLocal(s, s.indexOf(b)));
        }
        assertNull(retired.superSlab.slabAcquire(retired.slot));
        return retired;
    }

    /**
     * Another Mid class of the same slab size, which takes the free slot {@link #CLS} left once no never-used slot is
     * left in its SuperSlab: a third class's slab takes the never-used one first.
     */
    private int otherClass(SuperSlab ss) {
        int other = CLASSES.classOf(12 << 10);
        int third = CLASSES.classOf(14 << 10);
        assertEquals(CLASSES.slabShift(CLS), CLASSES.slabShift(other));
        assertEquals(CLASSES.slabShift(CLS), CLASSES.slabShift(third));
        assertFalse(ss.laidOutForOther(ss.freeSlotFor(third), third), "a never-used slot first");
        assertSame(ss, slabOf(heap.malloc(third)).superSlab);
        assertTrue(ss.laidOutForOther(ss.freeSlotFor(other), other), "then only the slot laid out for CLS is free");
        return other;
    }

    /**
     * At a purge delay of 0, a retired slot's pages go back at once (the retire's own sweep), and the slot, carved
     * again for another class, is committed again, reading as zero.
     */
    @Test
    void aSlotFreeForThePurgeDelayGivesItsPagesBack() {
        Slab retired = aFreeSlotLaidOutForCls();
        assertTrue(retired.superSlab.isDecommitted(retired.slot), "given back by the retire's sweep");
        assertEquals(1, pages.calls(Op.DECOMMIT));
        Slab carved = slabOf(heap.malloc(CLASSES.classOf(12 << 10)));
        assertSame(retired.superSlab, carved.superSlab);
        assertEquals(retired.slot, carved.slot, "the first slot laid out for no class");
        assertEquals(1, pages.calls(Op.DECOMMIT), "nothing else was free");
        assertEquals(1, pages.calls(Op.COMMIT), "committed again for the new layout");
        assertTrue(carved.carvedZero(), "the slot reads as zero: a calloc need not clear it");
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        assertLedger(0);
    }

    /**
     * Within the purge delay, a slot carved for another class keeps the pages its old layout dirtied: no madvise, no
     * refault (lifetime_mix's short-lived slabs), all of the slot still counted as committed.
     */
    @Test
    void aSlotCarvedForAnotherClassWithinThePurgeDelayKeepsItsPages() {
        pool.setPurgeDelayMillis(3_600_000);
        Slab retired = aFreeSlotLaidOutForCls();
        assertFalse(retired.superSlab.isDecommitted(retired.slot));
        Slab carved = slabOf(heap.malloc(otherClass(retired.superSlab)));
        assertEquals(retired.slot, carved.slot);
        assertEquals(0, pages.calls(Op.DECOMMIT));
        assertEquals(0, pages.calls(Op.COMMIT));
        assertFalse(carved.carvedZero(), "the old layout's bytes are still there");
        assertEquals(SuperSlab.SIZE, carved.superSlab.committedBytes());
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        assertLedger(0);
    }

    /** A give-back the page source refuses leaves the slot dirty, counted committed; the next slow path retries. */
    @Test
    void aRefusedGiveBackOfASlotIsTriedAgain() {
        pages.failing(Op.DECOMMIT, true);
        Slab retired = aFreeSlotLaidOutForCls();
        assertFalse(retired.superSlab.isDecommitted(retired.slot));
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        assertLedger(0);
        pages.failing(Op.DECOMMIT, false);
        Slab carved = slabOf(heap.malloc(CLASSES.classOf(12 << 10)));
        assertEquals(retired.slot, carved.slot, "the first slot laid out for no class");
        assertEquals(1, pages.calls(Op.DECOMMIT), "the slot's pages went back before the carve");
        assertTrue(carved.carvedZero());
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        assertLedger(0);
    }

    /** The owner's free trusts a slab's own current flag: the heap check holds it to the heap's current slabs. */
    @Test
    void theCheckHoldsEachSlabsCurrentFlagToTheHeapsCurrentSlabs() {
        List<Long> blocks = overOneSlab();
        Slab listed = slabOf(blocks.getFirst());
        Slab current = slabOf(blocks.getLast());
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        listed.setCurrent(true);
        assertEquals("slab " + listed + " of class " + CLS + " is listed but says it is current: a free emptying it"
                + " would never retire it", heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        listed.setCurrent(false);
        current.setCurrent(false);
        assertEquals("current slab " + current + " of class " + CLS + " is current but does not say so: a free"
                + " emptying it would retire it", heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
        current.setCurrent(true);
        for (long b : blocks) {
            Slab s = slabOf(b);
            assertEquals(Slab.FREED, Free.blockLocal(s, s.indexOf(b)));
        }
        assertNull(heap.check(Collections.newSetFromMap(new IdentityHashMap<>())));
    }

    @Test
    void aSlotWhoseCommitIsRefusedSendsItsEmptySuperSlabBackToThePool() {
        SuperSlab ss = pool.acquire(CLASSES.slabShift(CLS), null, null);
        pool.giveBack(ss);
        pool.purge(System.nanoTime());
        assertEquals(0, account.committedBytes());
        pages.failing(Op.COMMIT, true);
        assertThrows(HakMemOutOfMemoryError.class, () -> heap.malloc(CLS));
        assertEquals(SuperSlab.POOLED, ss.stateVolatile(), "not stranded in a heap that cannot use it");
        assertLedger(SuperSlab.SIZE);
        pages.failing(Op.COMMIT, false);
        long a = heap.malloc(CLS);
        assertSame(ss, Registry.lookup(a), "the pooled SuperSlab serves the retry");
        assertNotNull(slabOf(a));
        assertEquals(1, pages.calls(Op.RESERVE));
        assertLedger(0);
    }

    /** Before it maps more, a heap drains its slabs and retires those emptied by remote frees, and uses their slots. */
    @Test
    void slotsEmptiedByRemoteFreesAreReusedBeforeANewSuperSlabIsMapped() {
        int perSlab = CLASSES.capacity(CLS);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 3 * perSlab + 1; i++) {
            blocks.add(heap.malloc(CLS));
        }
        SuperSlab ss = (SuperSlab) Registry.lookup(blocks.getFirst());
        assertEquals(1, pages.calls(Op.RESERVE));
        for (long b : blocks.subList(0, 3 * perSlab)) {
            Slab s = slabOf(b);
            assertEquals(Slab.FREED, s.freeRemote(s.indexOf(b)));
        }
        int other = CLASSES.classOf(10 << 10);
        assertEquals(CLASSES.slabShift(CLS), CLASSES.slabShift(other));
        long a = heap.malloc(other);
        assertSame(ss, Registry.lookup(a), "a retired slot of the same SuperSlab");
        assertEquals(1, pages.calls(Op.RESERVE), "nothing new was mapped");
        assertEquals(3L * perSlab, heap.counters.remoteFrees[CLS]);
        assertLedger(0);
    }

    /** An adopted SuperSlab's slabs with space are filed by class, and the adopter allocates from them first. */
    @Test
    void anAdopterAllocatesFromTheAdoptedSlabsFirst() {
        ThreadHeap dead = new ThreadHeap(set, CLASSES, pool, Thread.currentThread(), false);
        Slab orphan = slabOf(dead.malloc(CLS));
        dead.abandonAll();
        long a = heap.malloc(CLS);
        assertSame(orphan, slabOf(a));
        assertSame(heap, orphan.superSlab.ownerOpaque());
        assertSame(Thread.currentThread(), orphan.superSlab.ownerThreadOpaque());
        assertEquals(1, events.adoptions.sum());
        assertLedger(0);
    }

    /** In a purged SuperSlab every slot is committed just before its slab is carved, the slot itself and no other. */
    @Test
    void eachSlabOfAPurgedSuperSlabCommitsItsOwnSlot() {
        SuperSlab ss = pool.acquire(CLASSES.slabShift(CLS), null, null);
        pool.giveBack(ss);
        pool.purge(System.nanoTime());
        for (int i = 0; i <= CLASSES.capacity(CLS); i++) {
            heap.malloc(CLS);
        }
        assertTrue(pages.isCommitted(ss.base));
        assertTrue(pages.isCommitted(ss.base + ss.slotBytes()), "the second slab's slot");
        assertFalse(pages.isCommitted(ss.base + 2 * ss.slotBytes()), "the third slot is not used yet");
        assertEquals(2 * ss.slotBytes(), ss.committedBytes());
        assertLedger(0);
    }
}
