package dev.hakmem.slab;

import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.PageSource;
import dev.hakmem.jfr.Jfr;
import dev.hakmem.registry.Mappings;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One heap's SuperSlabs: maps them, keeps empty ones for reuse within the retain budget (given back with madvise
 * after the purge delay, unmapped beyond the budget), and queues the SuperSlabs of dead threads for adoption.
 * Everything here is a slow path: it locks. Mapping, committing, purging and unmapping go through
 * {@link Mappings}, the one bookkeeping the big tier uses too.
 */
public final class SuperSlabPool {
    private final int heapId;
    private final MemoryAccount account;
    private final Events events;
    private final ClassCounters orphanCounters;
    /** Set by the policy in force; read by maintenance. */
    private volatile long purgeDelayNanos;

    /**
     * Every SuperSlab of this heap that is mapped, whatever its state, with their bookkeeping. Quiescent, checked by
     * {@link #check}: its size == superSlabsMapped - superSlabsReleased.
     */
    private final Mappings<SuperSlab> mappings;
    /** Empty SuperSlabs, most recently emptied first; exactly the POOLED ones of {@link #all}. Guarded by this. */
    private final ArrayDeque<SuperSlab> pooled = new ArrayDeque<>();
    /** SuperSlabs of dead threads; an entry whose state is no longer ABANDONED is stale and skipped. */
    private final ConcurrentLinkedQueue<SuperSlab> abandoned = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    public SuperSlabPool(int heapId, PageSource pages, MemoryAccount account, Events events,
                         ClassCounters orphanCounters, long purgeDelayMillis) {
        this.heapId = heapId;
        this.mappings = new Mappings<>(heapId, "superslab", pages, account, events);
        this.account = account;
        this.events = events;
        this.orphanCounters = orphanCounters;
        this.purgeDelayNanos = purgeDelayMillis * 1_000_000L;
    }

    public void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the heap is closed");
        }
    }

    public Iterable<SuperSlab> all() {
        return mappings.all();
    }

    // ------------------------------------------------------------------ acquire and give back

    /** A SuperSlab with {@code slabShift}-sized slots, owned by {@code owner}: a pooled one if any, else fresh. */
    public SuperSlab acquire(int slabShift, SlabOwner owner, Thread ownerThread) {
        checkOpen();
        SuperSlab ss;
        synchronized (this) {
            ss = pooled.pollFirst();
        }
        if (ss == null) {
            ss = map(slabShift);
        } else {
            account.retained(-SuperSlab.SIZE);
            if (ss.slabShift != slabShift) {
                ss = recarveOrReturn(ss, slabShift);
            }
        }
        return own(ss, owner, ownerThread);
    }

    private static SuperSlab own(SuperSlab ss, SlabOwner owner, Thread ownerThread) {
        ss.setOwnerOpaque(owner, ownerThread);
        ss.setStateRelease(SuperSlab.OWNED);
        return ss;
    }

    /**
     * A pooled SuperSlab of {@code slabShift} with a free slot that last held class {@code cls} (see
     * {@link SuperSlab#freeSlotFor}), now owned by {@code owner}; null if none is pooled.
     */
    public SuperSlab acquirePooledWithSlotOf(int slabShift, int cls, SlabOwner owner, Thread ownerThread) {
        checkOpen();
        SuperSlab found = null;
        synchronized (this) {
            for (SuperSlab ss : pooled) {
                if (ss.slabShift == slabShift && ss.hasFreeSlotOf(cls)) {
                    found = ss;
                    break;
                }
            }
            if (found == null) {
                return null;
            }
            pooled.remove(found);
        }
        account.retained(-SuperSlab.SIZE);
        return own(found, owner, ownerThread);
    }

    private SuperSlab map(int slabShift) {
        long base = mappings.reserve(SuperSlab.SIZE, SuperSlab.SIZE, SuperSlab.SIZE, "a SuperSlab");
        SuperSlab ss = mappings.register(new SuperSlab(heapId, base, slabShift, true, false));
        events.superSlabsMapped.increment();
        return ss;
    }

    /**
     * The same memory as a new SuperSlab with other slots; it replaces the old one in the registry. If the page
     * source refuses the commit, the pooled SuperSlab goes back to the pool unchanged.
     */
    private SuperSlab recarveOrReturn(SuperSlab old, int slabShift) {
        long committedBefore = old.committedBytes();
        boolean decommitted = committedBefore == 0;
        if (!decommitted && committedBefore != SuperSlab.SIZE) {
            try {
                mappings.commit(old.base, SuperSlab.SIZE, SuperSlab.SIZE - committedBefore, "a pooled SuperSlab");
            } catch (HakMemOutOfMemoryError e) {
                account.retained(SuperSlab.SIZE);
                synchronized (this) {
                    pooled.addFirst(old);
                }
                throw e;
            }
        }
        SuperSlab ss = mappings.register(new SuperSlab(heapId, old.base, slabShift, old.allZero(), decommitted));
        mappings.forget(old);
        old.markReleased();
        return ss;
    }

    /** Owner: a slot whose pages were given back becomes usable again before it is carved. */
    public void commitSlot(SuperSlab ss, int slot) {
        mappings.commit(ss.base + ((long) slot << ss.slabShift), ss.slotBytes(), ss.slotBytes(), "a slab");
        ss.markCommitted(slot);
    }

    /**
     * Owner: gives back the pages of every free slot of {@code ss}, an owned SuperSlab, that has stayed free for the
     * purge delay in force (one madvise a slot), and returns how long from {@code now} until its next dirty free slot
     * falls due, or {@link Long#MAX_VALUE} if none is left. A slot whose give-back the page source refuses stays dirty
     * and is tried again a purge delay later. This is the pool's purge of an empty SuperSlab ({@link #purge}) for the
     * slots of one still in use, on the owner's slow path since only the owner reads its slots; see
     * {@code ThreadHeap.purgeSlotsIfDue} for why a slot's pages wait.
     */
    public long purgeSlots(SuperSlab ss, long now) {
        long delay = purgeDelayNanos;
        long next = Long.MAX_VALUE;
        for (int i = 0; i < ss.slots; i++) {
            if (!ss.isFreeDirty(i)) {
                continue;
            }
            long waited = now - ss.freeSince(i);
            if (waited < delay) {
                next = Math.min(next, delay - waited);
            } else if (!giveBackSlot(ss, i)) {
                next = Math.min(next, delay);
            }
        }
        return next;
    }

    /**
     * Owner: gives back the pages of free slot {@code slot} of {@code ss} now: after its purge delay
     * ({@link #purgeSlots}), or before a Mid carve lays it out for another class once a quarter of its SuperSlab's
     * slots hold stale layouts ({@link SuperSlab#keepsStaleLayout}). False if the page source refused: the slot stays
     * committed, old pages and all.
     */
    public boolean giveBackSlot(SuperSlab ss, int slot) {
        if (!mappings.decommit(ss.base + ((long) slot << ss.slabShift), ss.slotBytes(), ss.slotBytes())) {
            return false;
        }
        ss.markDecommitted(slot);
        return true;
    }

    public long purgeDelayNanos() {
        return purgeDelayNanos;
    }

    /** Owner: every slab of {@code ss} is retired; it waits in the pool for reuse. */
    public void giveBack(SuperSlab ss) {
        assert ss.isEmpty();
        ss.setOwnerOpaque(null, null);
        ss.setStateRelease(SuperSlab.POOLED);
        account.retained(SuperSlab.SIZE);
        synchronized (this) {
            ss.pooledSince = System.nanoTime();
            pooled.addFirst(ss);
            trim();
        }
    }

    /** Unmaps the least recently emptied SuperSlabs while more than the retain budget is kept. */
    private void trim() {
        assert Thread.holdsLock(this);
        int attempts = pooled.size();
        while (account.overRetainBudget() && attempts-- > 0) {
            SuperSlab ss = pooled.pollLast();
            if (!release(ss)) {
                pooled.addFirst(ss);
            }
        }
    }

    private boolean release(SuperSlab ss) {
        if (!mappings.release(ss, ss.committedBytes())) {
            return false;
        }
        account.retained(-SuperSlab.SIZE);
        events.superSlabsReleased.increment();
        return true;
    }

    /** Under memory pressure: unmaps every pooled SuperSlab, whatever the budget. */
    public synchronized void releasePooled() {
        for (int n = pooled.size(); n > 0; n--) {
            SuperSlab ss = pooled.pollLast();
            if (!release(ss)) {
                pooled.addFirst(ss);
            }
        }
    }

    /** A new purge delay, applied from the next purge on to every pooled SuperSlab, by how long it has waited. */
    public void setPurgeDelayMillis(long millis) {
        purgeDelayNanos = millis * 1_000_000L;
    }

    public long purgeDelayMillis() {
        return purgeDelayNanos / 1_000_000L;
    }

    /** Maintenance: gives back the pages of SuperSlabs pooled longer than the purge delay; trims to the budget. */
    public synchronized void purge(long now) {
        for (SuperSlab ss : pooled) {
            long committedBytes = ss.committedBytes();
            if (committedBytes > 0 && now - ss.pooledSince >= purgeDelayNanos
                    && mappings.decommit(ss, committedBytes)) {
                ss.markAllDecommitted();
            }
        }
        trim();
    }

    // ------------------------------------------------------------------ abandonment and adoption

    /** Reaper: the owner's thread died; the SuperSlab waits for an adopter. */
    public void abandon(SuperSlab ss) {
        ss.setOwnerOpaque(null, null);
        ss.setStateRelease(SuperSlab.ABANDONED);
        abandoned.add(ss);
    }

    /** An abandoned SuperSlab now owned by the caller (who must set itself as owner), or null. */
    public SuperSlab pollAbandoned() {
        SuperSlab ss;
        while ((ss = abandoned.poll()) != null) {
            if (ss.casState(SuperSlab.ABANDONED, SuperSlab.OWNED)) {
                adopted(ss);
                return ss;
            }
        }
        return null;
    }

    /** Claims one specific abandoned SuperSlab (a freer found it abandoned); its queue entry goes stale. */
    public boolean tryClaim(SuperSlab ss) {
        if (ss.casState(SuperSlab.ABANDONED, SuperSlab.OWNED)) {
            adopted(ss);
            return true;
        }
        return false;
    }

    private void adopted(SuperSlab ss) {
        events.adoptions.increment();
        Jfr.adoption(heapId, ss.base);
    }

    /**
     * Maintenance: for each abandoned SuperSlab, drains its remote frees; one that is then empty goes to the pool,
     * the others back to the queue. This is what returns a dead thread's memory when no live thread adopts it.
     */
    public void reclaimAbandoned() {
        for (int n = abandoned.size(); n > 0; n--) {
            SuperSlab ss = abandoned.poll();
            if (ss == null) {
                return;
            }
            if (!ss.casState(SuperSlab.ABANDONED, SuperSlab.RECLAIMING)) {
                continue;
            }
            boolean empty = true;
            for (int i = 0; i < ss.slots; i++) {
                Slab s = ss.slabAcquire(i);
                if (s != null) {
                    orphanCounters.addDrained(s.cls, s.drain());
                    empty &= s.used() == 0;
                }
            }
            if (empty) {
                long now = System.nanoTime();
                for (int i = 0; i < ss.slots; i++) {
                    Slab s = ss.slabAcquire(i);
                    if (s != null) {
                        orphanCounters.addRetired(s.cls, s.allocations());
                        ss.retire(s, now);
                    }
                }
                giveBack(ss);
            } else {
                // Back to ABANDONED (release: our drain's writes reach the next adopter), then requeued.
                ss.setStateRelease(SuperSlab.ABANDONED);
                abandoned.add(ss);
            }
        }
    }

    // ------------------------------------------------------------------ check

    /**
     * For {@code check()} on a quiescent heap (the caller holds off maintenance): checks every SuperSlab's slots
     * ({@link SuperSlab#checkSlots}), that the pooled SuperSlabs are exactly the empty POOLED ones and that the event counts match the SuperSlabs mapped; adds what the
     * SuperSlabs hold to {@code held}. Returns null, or the problem.
     */
    public synchronized String check(MemoryAccount.Held held) {
        int inPool = 0;
        for (SuperSlab ss : mappings.all()) {
            held.mapped += SuperSlab.SIZE;
            held.committed += ss.committedBytes();
            int state = ss.stateVolatile();
            if (state == SuperSlab.RELEASED) {
                return ss + " is released but still in the pool's set";
            }
            String slots = ss.checkSlots();
            if (slots != null) {
                return ss + ": " + slots;
            }
            inPool += state == SuperSlab.POOLED ? 1 : 0;
        }
        for (SuperSlab ss : pooled) {
            if (ss.stateVolatile() != SuperSlab.POOLED || !ss.isEmpty() || !mappings.contains(ss)) {
                return ss + " is pooled but not an empty POOLED SuperSlab of the heap";
            }
        }
        if (inPool != pooled.size()) {
            return inPool + " SuperSlabs are POOLED but the pool holds " + pooled.size();
        }
        held.retained += SuperSlab.SIZE * pooled.size();
        long counted = events.superSlabsMapped.sum() - events.superSlabsReleased.sum();
        return counted == mappings.size() ? null : "events count " + counted + " SuperSlabs mapped and not "
                + "released, but the pool has " + mappings.size();
    }

    // ------------------------------------------------------------------ close

    /** Unmaps everything; the heap is unusable afterwards. Failures are collected, not thrown midway. */
    public List<Throwable> releaseAll() {
        closed = true;
        synchronized (this) {
            account.retained(-(long) pooled.size() * SuperSlab.SIZE);
            pooled.clear();
        }
        abandoned.clear();
        return mappings.releaseAll(SuperSlab::committedBytes, ss -> events.superSlabsReleased.increment());
    }
}
