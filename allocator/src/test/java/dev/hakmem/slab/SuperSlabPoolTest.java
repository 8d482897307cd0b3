package dev.hakmem.slab;

import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.os.LedgerPageSource;
import dev.hakmem.os.LedgerPageSource.Op;
import dev.hakmem.os.OsException;
import dev.hakmem.registry.Registry;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SuperSlab pool on its own, over a page source that keeps a ledger: after every step the pool's mapped and
 * committed bytes must equal the ledger's and its retained bytes what it holds pooled.
 */
class SuperSlabPoolTest {
    private static final long SIZE = SuperSlab.SIZE;
    private static final long HOUR_MS = TimeUnit.HOURS.toMillis(1);
    private static final long LATER = TimeUnit.HOURS.toNanos(2);
    private static final int SMALL = SizeClasses.SMALL_SHIFT;
    private static final int MEDIUM = SizeClasses.SMALL_SHIFT + 2;

    private final LedgerPageSource pages = new LedgerPageSource();
    private final Events events = new Events();
    private final ClassCounters orphans = new ClassCounters(4);
    private MemoryAccount account;
    private SuperSlabPool pool;

    private SuperSlabPool pool(long mappedLimit, long retainBudget, long purgeDelayMillis) {
        account = new MemoryAccount(mappedLimit, retainBudget);
        pool = new SuperSlabPool(-9, pages, account, events, orphans, purgeDelayMillis);
        return pool;
    }

    @AfterEach
    void releaseEverything() {
        if (pool != null) {
            pages.heal();
            assertEquals(List.of(), pool.releaseAll());
            assertEquals(0, pages.reservedBytes(), "close unmaps every SuperSlab");
            assertEquals(0, account.mappedBytes());
            assertEquals(0, account.committedBytes());
            IllegalStateException closed = assertThrows(IllegalStateException.class, pool::checkOpen);
            assertEquals("the heap is closed", closed.getMessage());
        }
    }

    /** The identities that hold after every operation: the account agrees with the page source and the pool. */
    private void assertLedger(long pooledBytes) {
        assertEquals(pages.reservedBytes(), account.mappedBytes(), "mapped bytes against the page source");
        assertEquals(pages.committedBytes(), account.committedBytes(), "committed bytes against the page source");
        assertEquals(pooledBytes, account.retainedBytes(), "retained bytes");
        long all = 0;
        for (SuperSlab ss : pool.all()) {
            assertSame(ss, Registry.lookup(ss.base), "every SuperSlab is registered as itself");
            all += SIZE;
        }
        assertEquals(account.mappedBytes(), all, "every mapped SuperSlab is in all()");
        assertNull(pool.check(new MemoryAccount.Held()), "the pool's own check");
    }

    private static Set<SuperSlab> all(SuperSlabPool p) {
        Set<SuperSlab> s = new HashSet<>();
        p.all().forEach(s::add);
        return s;
    }

    /** Carves one slab with one block in it, as an owner would. */
    private Slab oneBlockIn(SuperSlab ss) {
        Slab s = ss.carve(1, 64);
        assertTrue(s.carve() >= 0);
        return s;
    }

    /** A SuperSlab pooled, purged and acquired again for the same slots: every slot decommitted. */
    private SuperSlab purgedAndReacquired() {
        SuperSlab ss = pool.acquire(SMALL, null, Thread.currentThread());
        pool.giveBack(ss);
        pool.purge(System.nanoTime() + LATER);
        assertSame(ss, pool.acquire(SMALL, null, Thread.currentThread()));
        assertTrue(ss.isDecommitted(0));
        return ss;
    }

    @Test
    void aFreshSuperSlabIsMappedCommittedRegisteredAndOwned() {
        pool(Long.MAX_VALUE, 0, HOUR_MS);
        SuperSlab ss = pool.acquire(SMALL, null, Thread.currentThread());
        assertEquals(0, ss.base % SIZE);
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertSame(Thread.currentThread(), ss.ownerThreadOpaque());
        assertEquals(1, events.superSlabsMapped.sum());
        assertEquals(Set.of(ss), all(pool));
        assertEquals(SIZE, account.committedBytes());
        assertEquals("SuperSlab[0x" + Long.toHexString(ss.base) + ", 32 x 65536 B, state 0]", ss.toString());
        assertLedger(0);
    }

    @Test
    void anEmptiedSuperSlabIsPooledAndReusedBeforeAnyNewMapping() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab ss = pool.acquire(SMALL, null, Thread.currentThread());
        pool.giveBack(ss);
        assertEquals(SuperSlab.POOLED, ss.stateVolatile());
        assertNull(ss.ownerThreadOpaque());
        assertLedger(SIZE);
        assertSame(ss, pool.acquire(SMALL, null, Thread.currentThread()));
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertEquals(1, events.superSlabsMapped.sum());
        assertEquals(1, pages.calls(Op.RESERVE));
        assertLedger(0);
    }

    @Test
    void aPooledSuperSlabIsRecarvedForAnotherSlabSize() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab old = pool.acquire(SMALL, null, Thread.currentThread());
        old.retire(oneBlockIn(old), System.nanoTime());
        pool.giveBack(old);
        SuperSlab ss = pool.acquire(MEDIUM, null, Thread.currentThread());
        assertNotSame(old, ss);
        assertEquals(old.base, ss.base);
        assertEquals(1 << MEDIUM, ss.slotBytes());
        assertEquals(SuperSlab.RELEASED, old.stateVolatile());
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertEquals(Set.of(ss), all(pool));
        assertFalse(ss.allZero(), "a slot was written");
        assertFalse(ss.isDecommitted(0));
        assertEquals(0, pages.calls(Op.COMMIT), "still committed: nothing to commit");
        assertLedger(0);
    }

    @Test
    void aPurgedSuperSlabIsRecarvedDecommittedAndItsSlotsCommittedOneByOne() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab old = pool.acquire(SMALL, null, Thread.currentThread());
        old.retire(oneBlockIn(old), System.nanoTime());
        pool.giveBack(old);
        pool.purge(System.nanoTime() + LATER);
        assertEquals(1, events.purges.sum());
        assertEquals(0, account.committedBytes());
        assertLedger(SIZE);
        SuperSlab ss = pool.acquire(MEDIUM, null, Thread.currentThread());
        assertTrue(ss.allZero(), "decommitted pages read as zero");
        assertTrue(ss.isDecommitted(ss.freeSlotFor(0)));
        assertEquals(0, account.committedBytes());
        assertLedger(0);
        pool.commitSlot(ss, 1);
        assertFalse(ss.isDecommitted(1));
        assertTrue(ss.isDecommitted(0));
        assertTrue(pages.isCommitted(ss.base + ss.slotBytes()), "slot 1's pages");
        assertTrue(pages.isCommitted(ss.base + 2 * ss.slotBytes() - 1));
        assertFalse(pages.isCommitted(ss.base), "not slot 0's");
        assertFalse(pages.isCommitted(ss.base + 2 * ss.slotBytes()), "nor slot 2's");
        assertEquals(ss.slotBytes(), account.committedBytes());
        assertEquals(ss.slotBytes(), ss.committedBytes());
        assertLedger(0);
    }

    @Test
    void aPartlyCommittedSuperSlabIsCommittedWholeBeforeItIsRecarved() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab ss = purgedAndReacquired();
        pool.commitSlot(ss, 0);
        pool.giveBack(ss);
        assertLedger(SIZE);
        SuperSlab recarved = pool.acquire(MEDIUM, null, Thread.currentThread());
        assertEquals(2, pages.calls(Op.COMMIT), "the slot's commit, then one of the whole SuperSlab");
        assertEquals(SIZE, account.committedBytes());
        assertEquals(SIZE, recarved.committedBytes());
        assertLedger(0);
    }

    @Test
    void aRefusedCommitLeavesThePooledSuperSlabPooledUnchanged() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab ss = purgedAndReacquired();
        pages.failing(Op.COMMIT, true);
        HakMemOutOfMemoryError slot = assertThrows(HakMemOutOfMemoryError.class, () -> pool.commitSlot(ss, 0));
        assertTrue(slot.getMessage().contains("the page source refused to commit a slab"), slot.getMessage());
        assertInstanceOf(OsException.class, slot.getCause());
        assertTrue(ss.isDecommitted(0));
        assertLedger(0);
        pages.failing(Op.COMMIT, false);
        pool.commitSlot(ss, 0);
        pool.giveBack(ss);

        pages.failing(Op.COMMIT, true);
        HakMemOutOfMemoryError recarve = assertThrows(HakMemOutOfMemoryError.class,
                () -> pool.acquire(MEDIUM, null, Thread.currentThread()));
        assertTrue(recarve.getMessage().contains("refused to commit a pooled SuperSlab"), recarve.getMessage());
        assertEquals(SuperSlab.POOLED, ss.stateVolatile());
        assertEquals(Set.of(ss), all(pool));
        assertLedger(SIZE);
        pages.failing(Op.COMMIT, false);
        assertSame(ss, pool.acquire(SMALL, null, Thread.currentThread()), "still pooled");
        assertLedger(0);
    }

    @Test
    void refusedMappingsFailWithTheReasonAndLeaveNoAccountBehind() {
        pool(SIZE, 0, HOUR_MS);
        pages.failing(Op.RESERVE, true);
        HakMemOutOfMemoryError refused = assertThrows(HakMemOutOfMemoryError.class,
                () -> pool.acquire(SMALL, null, null));
        assertTrue(refused.getMessage().contains("the page source refused a SuperSlab"), refused.getMessage());
        assertInstanceOf(OsException.class, refused.getCause());
        pages.failing(Op.RESERVE, false);
        pages.beyondAddressSpace(true);
        HakMemOutOfMemoryError beyond = assertThrows(HakMemOutOfMemoryError.class,
                () -> pool.acquire(SMALL, null, null));
        pages.beyondAddressSpace(false);
        assertTrue(beyond.getMessage().contains("beyond the 48-bit registry range"), beyond.getMessage());
        pages.misaligned(true);
        HakMemOutOfMemoryError misaligned = assertThrows(HakMemOutOfMemoryError.class,
                () -> pool.acquire(SMALL, null, null));
        pages.misaligned(false);
        assertTrue(misaligned.getMessage().contains("the page source mapped a SuperSlab at an address not aligned to "
                + SIZE + " bytes, against its contract: 0x10000001000"), misaligned.getMessage());
        assertEquals(0, events.superSlabsMapped.sum());
        assertLedger(0);

        pool.acquire(SMALL, null, null);
        HakMemOutOfMemoryError limit = assertThrows(HakMemOutOfMemoryError.class,
                () -> pool.acquire(SMALL, null, null));
        assertTrue(limit.getMessage().contains("the mapped limit of " + SIZE + " bytes is reached (" + SIZE
                + " mapped)"), limit.getMessage());
        assertLedger(0);
    }

    @Test
    void beyondTheRetainBudgetTheLeastRecentlyEmptiedAreUnmapped() {
        pool(Long.MAX_VALUE, 2 * SIZE, HOUR_MS);
        List<SuperSlab> slabs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            slabs.add(pool.acquire(SMALL, null, null));
        }
        for (SuperSlab ss : slabs) {
            pool.giveBack(ss);
            assertTrue(account.retainedBytes() <= 2 * SIZE);
        }
        assertEquals(2, events.superSlabsReleased.sum());
        assertEquals(SuperSlab.RELEASED, slabs.get(0).stateVolatile());
        assertEquals(SuperSlab.RELEASED, slabs.get(1).stateVolatile());
        assertNull(Registry.lookup(slabs.get(0).base));
        assertEquals(Set.of(slabs.get(2), slabs.get(3)), all(pool));
        assertLedger(2 * SIZE);
        assertSame(slabs.get(3), pool.acquire(SMALL, null, null), "the most recently emptied first");
    }

    @Test
    void aSuperSlabWhoseUnmapIsRefusedStaysPooledAndIsRetried() {
        pool(Long.MAX_VALUE, 0, HOUR_MS);
        SuperSlab a = pool.acquire(SMALL, null, null);
        SuperSlab b = pool.acquire(SMALL, null, null);
        pages.failing(Op.RELEASE, true);
        pool.giveBack(a);
        pool.giveBack(b);
        assertEquals(0, events.superSlabsReleased.sum());
        assertLedger(2 * SIZE);
        pages.failing(Op.RELEASE, false);
        pool.purge(System.nanoTime());
        assertEquals(2, events.superSlabsReleased.sum(), "the next trim retried both");
        assertLedger(0);
    }

    @Test
    void releasePooledUnmapsEveryPooledSuperSlabButKeepsThoseItCannot() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab owned = pool.acquire(SMALL, null, null);
        SuperSlab a = pool.acquire(SMALL, null, null);
        SuperSlab b = pool.acquire(SMALL, null, null);
        pool.giveBack(a);
        pool.giveBack(b);
        pages.failing(Op.RELEASE, true);
        pool.releasePooled();
        assertLedger(2 * SIZE);
        pages.failing(Op.RELEASE, false);
        pool.purge(System.nanoTime() + LATER);
        assertLedger(2 * SIZE);
        assertEquals(SIZE, account.committedBytes(), "only the owned one is committed");
        pool.releasePooled();
        assertEquals(Set.of(owned), all(pool));
        assertEquals(2, events.superSlabsReleased.sum());
        assertLedger(0);
    }

    @Test
    void thePurgeWaitsForTheDelayAndGivesEachSuperSlabBackOnce() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab ss = pool.acquire(SMALL, null, null);
        pool.giveBack(ss);
        pool.purge(System.nanoTime());
        assertEquals(0, pages.calls(Op.DECOMMIT), "pooled for less than the delay");
        long later = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOUR_MS);
        pool.purge(later);
        assertEquals(1, pages.calls(Op.DECOMMIT));
        assertEquals(0, ss.committedBytes());
        pool.purge(later + 1);
        assertEquals(1, pages.calls(Op.DECOMMIT), "nothing left to give back");
        assertEquals(1, events.purges.sum());
        assertLedger(SIZE);
    }

    @Test
    void aRefusedDecommitKeepsTheSuperSlabCommittedUntilALaterPurge() {
        pool(Long.MAX_VALUE, 8 * SIZE, 0);
        pool.giveBack(pool.acquire(SMALL, null, null));
        pages.failing(Op.DECOMMIT, true);
        pool.purge(System.nanoTime());
        assertEquals(0, events.purges.sum());
        assertEquals(SIZE, account.committedBytes());
        assertLedger(SIZE);
        pages.failing(Op.DECOMMIT, false);
        pool.purge(System.nanoTime());
        assertEquals(1, events.purges.sum());
        assertLedger(SIZE);
    }

    @Test
    void anAbandonedSuperSlabIsAdoptedOnceAndStaleQueueEntriesAreSkipped() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab a = pool.acquire(SMALL, null, Thread.currentThread());
        SuperSlab b = pool.acquire(SMALL, null, null);
        assertNull(pool.pollAbandoned());
        pool.abandon(a);
        assertNull(a.ownerThreadOpaque(), "no reference to the dead owner stays");
        pool.abandon(b);
        assertEquals(SuperSlab.ABANDONED, a.stateVolatile());
        assertTrue(pool.tryClaim(a), "a freer claims it");
        assertFalse(pool.tryClaim(a), "only once");
        assertEquals(SuperSlab.OWNED, a.stateVolatile());
        assertSame(b, pool.pollAbandoned(), "a's entry is stale and skipped");
        assertEquals(SuperSlab.OWNED, b.stateVolatile());
        assertNull(pool.pollAbandoned());
        assertEquals(2, events.adoptions.sum());
        assertLedger(0);
    }

    @Test
    void reclaimPoolsAnAbandonedSuperSlabOnceItsRemoteFreesEmptyItAndCountsThem() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab ss = pool.acquire(SMALL, null, null);
        Slab s = ss.carve(1, 64);
        int b1 = s.carve();
        int b2 = s.carve();
        pool.abandon(ss);
        assertEquals(Slab.FREED, s.freeRemote(b1));
        pool.reclaimAbandoned();
        assertEquals(SuperSlab.ABANDONED, ss.stateVolatile(), "one block is still live");
        assertEquals(1, orphans.remoteFrees[1]);
        assertEquals(0, orphans.mallocs[1]);
        assertLedger(0);
        assertEquals(Slab.FREED, s.freeRemote(b2));
        pool.reclaimAbandoned();
        assertEquals(SuperSlab.POOLED, ss.stateVolatile());
        assertTrue(ss.isEmpty());
        assertNull(ss.slabAcquire(0));
        assertEquals(2, orphans.remoteFrees[1]);
        assertEquals(2, orphans.mallocs[1], "the retired slab's blocks are counted as handed out");
        assertNull(pool.pollAbandoned(), "a pooled SuperSlab is no longer abandoned");
        assertLedger(SIZE);
    }

    @Test
    void reclaimSkipsAnAbandonedSuperSlabAdoptedMeanwhile() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab ss = pool.acquire(SMALL, null, null);
        pool.abandon(ss);
        assertTrue(pool.tryClaim(ss));
        pool.reclaimAbandoned();
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertLedger(0);
    }

    @Test
    void releaseAllCollectsRefusedUnmapsAndForgetsEverySuperSlab() {
        pool(Long.MAX_VALUE, 8 * SIZE, HOUR_MS);
        SuperSlab a = pool.acquire(SMALL, null, null);
        SuperSlab b = pool.acquire(SMALL, null, null);
        pool.giveBack(b);
        pages.failing(Op.RELEASE, true);
        List<Throwable> failures = pool.releaseAll();
        assertEquals(2, failures.size());
        failures.forEach(f -> assertInstanceOf(OsException.class, f));
        assertEquals(Set.of(), all(pool));
        assertNull(Registry.lookup(a.base));
        assertEquals(SuperSlab.RELEASED, a.stateVolatile());
        assertEquals(2 * SIZE, account.mappedBytes(), "what could not be unmapped stays mapped");
        assertEquals(0, events.superSlabsReleased.sum());
        assertThrows(IllegalStateException.class, () -> pool.acquire(SMALL, null, null));
        pages.failing(Op.RELEASE, false);
        pages.releaseAll();
        pool = null;
    }

    @Test
    void aFreeSlotIsTakenByItsOwnClassThenNeverUsedThenAnotherClasss() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab ss = pool.acquire(MEDIUM, null, Thread.currentThread());
        Slab a = ss.carve(1, 64);
        Slab b = ss.carve(2, 128);
        ss.retire(a, System.nanoTime());
        ss.retire(b, System.nanoTime());
        assertLedger(0);
        assertEquals(1, ss.carve(2, 128).slot, "class 2 takes back the slot laid out for it, not the first free one");
        assertEquals(2, ss.carve(3, 256).slot, "a class with no slot of its own takes a never-used one first");
        for (int i = 3; i < ss.slots; i++) {
            assertEquals(i, ss.carve(4, 512).slot, "never-used slots before another class's");
        }
        assertEquals(0, ss.carve(5, 1024).slot, "with no never-used slot left, another class's");
        assertLedger(0);
    }

    @Test
    void aPooledSuperSlabIsFoundByTheClassOfItsFreeSlotsUntilItsPagesGoBack() {
        pool(Long.MAX_VALUE, 4 * SIZE, HOUR_MS);
        SuperSlab other = pool.acquire(MEDIUM, null, Thread.currentThread());
        other.retire(other.carve(2, 128), System.nanoTime());
        SuperSlab ss = pool.acquire(MEDIUM, null, Thread.currentThread());
        ss.retire(ss.carve(1, 64), System.nanoTime());
        pool.giveBack(ss);
        pool.giveBack(other);
        assertLedger(2 * SIZE);
        assertNull(pool.acquirePooledWithSlotOf(MEDIUM, 3, null, Thread.currentThread()), "no slot of class 3");
        assertNull(pool.acquirePooledWithSlotOf(SMALL, 1, null, Thread.currentThread()), "no SuperSlab of that shift");
        assertSame(ss, pool.acquirePooledWithSlotOf(MEDIUM, 1, null, Thread.currentThread()),
                "the one whose free slot held class 1, though another was pooled after it");
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertLedger(SIZE);
        pool.purge(System.nanoTime() + LATER);
        assertLedger(SIZE);
        assertNull(pool.acquirePooledWithSlotOf(MEDIUM, 2, null, Thread.currentThread()),
                "a purged slot's pages hold no layout");
    }

    /**
     * An owned SuperSlab's free slot is dirty with its free time until it has stayed free for the purge delay; then
     * the sweep gives back its pages alone (counted as a purge and as committed bytes given back), and says when the
     * next dirty slot falls due. A slot carved again before that keeps its pages.
     */
    @Test
    void aFreeSlotsPagesGoBackOnceItHasStayedFreeForThePurgeDelay() {
        pool(Long.MAX_VALUE, 4 * SIZE, 10);
        long delay = TimeUnit.MILLISECONDS.toNanos(10);
        SuperSlab ss = pool.acquire(MEDIUM, null, Thread.currentThread());
        long t0 = System.nanoTime();
        ss.retire(oneBlockIn(ss), t0);
        ss.retire(ss.carve(2, 128), t0 + delay / 2);
        ss.carve(3, 256);
        assertLedger(0);
        assertEquals(Long.MAX_VALUE, pool.purgeSlots(pool.acquire(SMALL, null, null), t0), "nothing free is dirty");
        assertEquals(delay / 4, pool.purgeSlots(ss, t0 + delay * 3 / 4), "slot 0 falls due in a quarter delay");
        assertEquals(0, events.purges.sum());
        assertEquals(delay / 2, pool.purgeSlots(ss, t0 + delay), "slot 0 given back, slot 1 due in half a delay");
        assertTrue(ss.isDecommitted(0));
        assertFalse(ss.isDecommitted(1));
        assertEquals(1, events.purges.sum());
        assertEquals(SIZE - ss.slotBytes(), ss.committedBytes());
        assertLedger(0);
        pool.commitSlot(ss, 0);
        assertEquals(0, ss.carve(4, 512).slot, "the given-back slot, laid out for no class, first");
        for (int i = 3; i < ss.slots; i++) {
            assertEquals(i, ss.carve(5, 1024).slot);
        }
        assertEquals(1, ss.carve(6, 2048).slot, "another class's dirty slot, within its delay: in place");
        assertFalse(ss.isDecommitted(1), "its pages kept");
        assertEquals(Long.MAX_VALUE, pool.purgeSlots(ss, t0 + LATER), "every slot in use");
        assertEquals(1, events.purges.sum());
        assertLedger(0);
    }
}
