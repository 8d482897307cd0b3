package dev.hakmem.heap;

import dev.hakmem.HakMemStats;
import dev.hakmem.os.Mem;
import dev.hakmem.site.Profiler;
import dev.hakmem.site.SiteState;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SlabOwner;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A heap: the SuperSlabs one platform thread owns (or that a group of virtual threads shares, under its lock), its
 * current slab per size class, and its other slabs per class. The lock is this class's alone: every operation a
 * shared heap offers ({@link #allocate}, {@link #freeLocked}, {@link #adoptOnFree}) takes and releases it here.
 *
 * <p>The per-class "cache" is the current slab's own free stack: allocation pops it (or carves the next never-used
 * block), local free pushes onto it; no atomic instruction on either path. When the current slab runs dry the
 * refill takes a whole batch at once: the slab's remote frees in one swap, or another slab with space.
 *
 * <p>Only the owner calls the methods here (for a shared heap: whoever holds {@link #lock}); after the owner's
 * thread died, the reaper, which sees everything the dead thread did (thread termination happens-before
 * {@code isAlive()} returning false).
 */
public final class ThreadHeap extends SlabOwner {
    private static final VarHandle LONG_LIVED;

    static {
        try {
            LONG_LIVED = MethodHandles.lookup().findVarHandle(ThreadHeap.class, "longLived", ThreadHeap.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final HeapSet set;
    private final SizeClasses classes;
    private final SuperSlabPool pool;
    /**
     * The owning platform thread, or null for a shared heap. Final, so a racy read of the heap (HeapSet's cache) still
     * sees it; the reaper drops every reference to the heap once the thread is dead, so it keeps no thread alive.
     */
    final Thread owner;
    /**
     * Held around every operation on a heap shared by virtual threads; null for a platform thread's heap. Private:
     * taken only by this class's locked operations, each releasing it on every path, exceptions included.
     */
    private final ReentrantLock lock;

    /** Per class, the slab allocation pops from; {@link Slab#SENTINEL} until the first refill. */
    private final Slab[] current;
    /** Per class, the other slabs this heap owns (each knows its index here, for O(1) removal). */
    private final ArrayList<Slab>[] others;
    /** Per class, where the next search for a slab with space starts (round robin). */
    private final int[] cursor;
    /**
     * Per Mid class, the slab a free emptied that this heap keeps instead of retiring it, or null (see
     * {@link #emptied}). Quiescent, checked by {@link #check}: null, or a slab of its class, listed in
     * {@link #others}, with no block in use. Owner only, plain.
     */
    private final Slab[] spare;
    private final ArrayList<SuperSlab> superSlabs = new ArrayList<>();
    final ClassCounters counters;
    /**
     * Held while a retiring slab's blocks move from the slab (counted by a snapshot's walk of the slots) to
     * {@link #counters}: the fold and the slot's release happen together, and a snapshot ({@link HeapSet#tally})
     * holds every heap's fold lock while it reads both, so it counts each block once, never twice nor none (issue
     * 10: a snapshot between the two counted the slab in both, the next in one, and mallocs went backwards). Taken
     * per retired slab only, never per malloc or free; uncontended but for the rare snapshot.
     */
    final ReentrantLock foldLock = new ReentrantLock();
    /**
     * When this heap last swept its SuperSlabs' free slots (System.nanoTime), and how long after that the next dirty
     * free slot falls due ({@link Long#MAX_VALUE}: none); see {@link #purgeSlotsIfDue}. Owner only, plain.
     * Checked: {@code slotsDueAfter} is {@link Long#MAX_VALUE} only while no listed SuperSlab has a dirty free slot
     * (a retire lowers it, a SuperSlab joining sets it to 0, a sweep sets it to its next slot's wait), so a carve
     * that finds it so has no purge to look for and reads no clock.
     */
    private long slotsSweptAt;
    private long slotsDueAfter = Long.MAX_VALUE;

    /**
     * The two malloc countdowns folded into one word, so a malloc counts both with one subtraction and tests both
     * with one mask ({@code (countdown -= (size << 32) + 1) & EXPIRED}):
     * <pre>
     *   63 | 62 ........ 32 | 31 | 30 ......... 0
     *   s  | sample bytes   | g  | guard mallocs
     * </pre>
     * The high half (signed, {@link #sampleCountdown()}) is the bytes this heap hands out before its next sampled
     * byte (see {@link Profiler}), at most {@link #SAMPLE_HELD} of them, the rest waiting in {@link #sampleRest}; the
     * low half is sampled guard mode's count of mallocs before the next guarded one, which {@link Guard} refills
     * ({@link #refillGuard}). A half that goes below zero sets its sign bit ({@code s} or {@code g}): that malloc is
     * a slow path's ({@link #allocateGuardExpired} for the guard half, first, else {@link #allocateExpired}), which
     * refills the half that expired. The guard half going below zero borrows 1 from the sample half; its slow path
     * gives it back.
     * Quiescent, checked by {@link #check}: neither sign bit is set, {@code sampleRest >= 0}.
     * 0 until the heap's first malloc, which starts both streams.
     * Owner only (for a shared heap: the holder of {@link #lock}, around the test and both slow paths), plain.
     */
    private long countdown;
    /** The sample half's bytes beyond {@link #SAMPLE_HELD} (a gap of 2^30 bytes or more). Same rules as countdown. */
    private long sampleRest;
    /**
     * Whether the guard has started this heap's guard half ({@link Guard}'s first expiry draws it). Same rules as
     * {@link #countdown}.
     */
    public boolean guardCounting;
    /**
     * The period the sample half was drawn under (its sample weighs what that period gives), null until the
     * stream of sampled bytes starts; and the state of its generator. Owner only, plain.
     */
    private Profiler.Period samplePeriod;
    private long sampleRandom;

    /**
     * This heap's twin for long-lived blocks (a site whose rule says so allocates there, so that its survivors stay
     * out of the SuperSlabs short-lived blocks empty), or null until first used; never set on a twin. Written once,
     * under the heap set's lock, with a release store; read with an acquire load, since a shared heap's twin is
     * read by virtual threads that did not create it.
     */
    @SuppressWarnings("unused")
    private ThreadHeap longLived;

    @SuppressWarnings("unchecked")
    ThreadHeap(HeapSet set, SizeClasses classes, SuperSlabPool pool, Thread owner, boolean shared) {
        this.set = set;
        this.classes = classes;
        this.pool = pool;
        this.owner = shared ? null : owner;
        this.lock = shared ? new ReentrantLock() : null;
        this.current = new Slab[classes.count()];
        java.util.Arrays.fill(current, Slab.SENTINEL);
        this.others = new ArrayList[classes.count()];
        for (int c = 0; c < others.length; c++) {
            others[c] = new ArrayList<>();
        }
        this.cursor = new int[classes.count()];
        this.spare = new Slab[classes.count()];
        this.counters = new ClassCounters(classes.count());
    }

    public boolean isShared() {
        return lock != null;
    }

    /** The twin for long-lived blocks, or null (acquire: pairs with the release in {@link #setLongLived}). */
    ThreadHeap longLivedAcquire() {
        return (ThreadHeap) LONG_LIVED.getAcquire(this);
    }

    void setLongLived(ThreadHeap twin) {
        LONG_LIVED.setRelease(this, twin);
    }

    // ------------------------------------------------------------------ countdowns

    /** The sign bits of {@link #countdown}'s two halves: a malloc with either set is the slow path's. */
    private static final long EXPIRED = 1L << 63 | 1L << 31;
    /** The guard half's sign bit: its malloc is {@link #allocateGuardExpired}'s. */
    private static final long GUARD_EXPIRED = 1L << 31;
    private static final long GUARD_HALF = 0xFFFF_FFFFL;
    /**
     * The most bytes the sample half holds: 2^30 leaves room below zero for any malloc of a slab class (at most
     * {@code PoolClasses.MAX}, 1 MiB) plus the guard half's borrow, so the half never wraps.
     */
    private static final long SAMPLE_HELD = 1L << 30;
    /** The guard half's largest count: what a heap without sampled guard mode parks it at. */
    public static final int GUARD_PARKED = Integer.MAX_VALUE;

    /**
     * Sampled guard mode's side of {@link #countdown}, asked by the malloc that took the guard half below zero,
     * under a shared heap's lock: it refills the guard half ({@link #refillGuard}) and returns a guarded block of
     * {@code size} bytes for a request of class {@code cls}, or 0 for the heap to serve this malloc.
     */
    @FunctionalInterface
    public interface Guard {
        long due(ThreadHeap h, int cls, long size, boolean zeroed);
    }

    /** Sets the guard half to {@code mallocs} (in [0, {@link #GUARD_PARKED}]), keeping the sample half. */
    public void refillGuard(int mallocs) {
        assert mallocs >= 0 : mallocs;
        countdown = (countdown & ~GUARD_HALF) | mallocs;
    }

    /** The sample half: bytes before the next sampled byte, less {@link #sampleRest}. */
    private long sampleCountdown() {
        return countdown >> 32;
    }

    /** Sets the sample half's count of bytes (above -2^30), what the half cannot hold going to sampleRest. */
    private void setSampleCountdown(long bytes) {
        long held = Math.min(bytes, SAMPLE_HELD);
        sampleRest = bytes - held;
        countdown = (held << 32) | (countdown & GUARD_HALF);
    }

    // ------------------------------------------------------------------ sampling

    /**
     * Slow path: a malloc of {@code size} bytes took the sample half below zero. Returns whether it is sampled
     * ({@link #allocateSampled} then restarts the countdown). The heap's first malloc starts its stream instead: the
     * generator is seeded and the countdown drawn afresh, and the malloc is sampled only if that countdown falls
     * inside it. A gap longer than the half holds goes on with {@link #sampleRest}.
     */
    private boolean sampleDue(long size, Profiler profiler) {
        if (samplePeriod == null) {
            sampleRandom = profiler.seed();
            setSampleCountdown(nextGap(profiler) - size);
            return sampleCountdown() < 0;
        }
        if (sampleRest > 0) {
            setSampleCountdown(sampleCountdown() + sampleRest);
            return sampleCountdown() < 0;
        }
        return true;
    }

    /** A fresh countdown, under the period in force (the gaps are memoryless, see {@link Profiler}). */
    private long nextGap(Profiler profiler) {
        sampleRandom = Profiler.advance(sampleRandom);
        samplePeriod = profiler.period();
        return samplePeriod.gap(sampleRandom);
    }

    // ------------------------------------------------------------------ allocate

    /**
     * Hot path: a block of class {@code cls} for a request of {@code size} bytes by {@code site} (null: the
     * anonymous one), zeroed on request, or a guarded one from {@code guard}; a shared heap's lock is held around
     * it, so both countdowns are its holder's. The profiler's and the guard's whole cost here is one subtraction
     * and one branch on {@link #countdown}: only a malloc that takes a half below zero goes to the slow path.
     */
    public long allocate(int cls, long size, boolean zeroed, SiteState site, Profiler profiler, Guard guard) {
        ReentrantLock l = lock;
        if (l == null) {
            return allocateOwned(cls, size, zeroed, site, profiler, guard);
        }
        l.lock();
        try {
            return allocateOwned(cls, size, zeroed, site, profiler, guard);
        } finally {
            l.unlock();
        }
    }

    /**
     * NOTE: the two halves' slow paths are called from here, each from a call site of its own, not one from the
     * other. C2 inlines a callee of more than {@code MaxInlineSize} (35) bytecodes only from a call site that runs
     * at least a quarter of its caller's invocations ({@code InlineFrequencyRatio}), and either expiry here is one
     * malloc in hundreds (the sampler's) or in thousands (the guard's): both stay out of line (PrintInlining: "too
     * big") and compile apart. When the sampler's slow path called the guard's, the
     * guard's call ran often enough there to be inlined, and C2 compiled its whole tree (slot, canaries, stack,
     * residency) into the sampler's slow path during the measured windows: 4,750 nodes and 20 to 25 MiB of compiler
     * arena in one compilation, peak RSS that plain hakmem never paid (issue 12).
     */
    private long allocateOwned(int cls, long size, boolean zeroed, SiteState site, Profiler profiler, Guard guard) {
        long c = countdown -= (size << 32) + 1;
        if ((c & EXPIRED) != 0) {
            return (c & GUARD_EXPIRED) != 0 ? allocateGuardExpired(cls, size, zeroed, site, profiler, guard)
                    : allocateExpired(cls, size, zeroed, site, profiler);
        }
        return zeroed ? calloc(cls) : malloc(cls);
    }

    /**
     * Slow path: this malloc took the guard half of {@link #countdown} below zero, and maybe the sample half too. The
     * half, at -1, has borrowed 1 from the sample half: adding 1 gives it back and leaves the guard half at 0 for the
     * guard to refill. A guarded block comes from no slab, so the sampler does not count it (its size goes back to
     * the sample half); a malloc the guard leaves to the heap goes on to the sample half's slow path.
     */
    private long allocateGuardExpired(int cls, long size, boolean zeroed, SiteState site, Profiler profiler,
                                      Guard guard) {
        countdown += 1;
        long guarded = guard.due(this, cls, size, zeroed);
        if (guarded != 0) {
            countdown += size << 32;
            return guarded;
        }
        return allocateExpired(cls, size, zeroed, site, profiler);
    }

    /**
     * Slow path: this malloc took the sample half of {@link #countdown} below zero, or the guard left it to the heap
     * (then the sample half may not have expired).
     */
    private long allocateExpired(int cls, long size, boolean zeroed, SiteState site, Profiler profiler) {
        if (sampleCountdown() < 0 && sampleDue(size, profiler)) {
            return allocateSampled(cls, size, zeroed, site, profiler);
        }
        return zeroed ? calloc(cls) : malloc(cls);
    }

    /**
     * Slow path: a sampled malloc. It weighs what the period its countdown was drawn under gives, and restarts the
     * countdown from a fresh gap under the period in force, which also says whether it is timed. If the profiler
     * remembers the block, it is marked sampled in its slab (the current one, which every malloc takes from) before
     * it is handed out.
     */
    private long allocateSampled(int cls, long size, boolean zeroed, SiteState site, Profiler profiler) {
        Profiler.Period drawn = samplePeriod;
        setSampleCountdown(nextGap(profiler));
        Profiler.Period now = samplePeriod;
        long start = now.start();
        long address = zeroed ? calloc(cls) : malloc(cls);
        if (profiler.recordMalloc(site, address, size, drawn, now.took(start))) {
            Slab s = current[cls];
            assert s.covers(address) : s + " did not hand out 0x" + Long.toHexString(address);
            s.markSampled(s.indexOf(address));
        }
        return address;
    }

    /** Hot path: a block of class {@code cls}. */
    public long malloc(int cls) {
        Slab s = current[cls];
        int b = s.popFree();
        if (b < 0) {
            s = slabWithSpace(cls);
            b = take(s);
        }
        return s.address(b);
    }

    /** A zeroed block of class {@code cls}: memory never used since the OS zeroed it is not cleared again. */
    public long calloc(int cls) {
        Slab s = current[cls];
        int b = s.popFree();
        boolean zero = false;
        if (b < 0) {
            s = slabWithSpace(cls);
            b = s.popFree();
            if (b < 0) {
                b = s.carve();
                zero = s.carvedZero();
            }
        }
        long address = s.address(b);
        if (!zero) {
            Mem.fill(address, s.blockSize, (byte) 0);
        }
        return address;
    }

    /**
     * The current slab's free stack is empty: drain its remote frees first (reusing warm blocks, as mimalloc collects
     * before it extends), else carve its never-used blocks, else refill from another slab. A Mid or Large class
     * carves only when none of its slabs has a freed block (see {@link #reusesFirst}).
     */
    private Slab slabWithSpace(int cls) {
        Slab s = current[cls];
        drain(s);
        if (s.hasFreed()) {
            return s;
        }
        return s.hasFree() && !reusesFirst(cls) ? s : refill(cls);
    }

    /**
     * Whether class {@code cls} hands out freed blocks of any of its slabs before it carves a never-used one. A block
     * touches the pages it starts and ends on, so a never-used Mid or Large block (8 KiB to 1 MiB) is up to two pages
     * the resident set did not hold, while a freed one's are already resident: a program that frees blocks at random
     * across a class's slabs (mid_large_mt_64k) otherwise grows its resident set by carving the current slab while
     * the others hold freed blocks (issue 11). Tiny classes keep carving first: a 64 KiB slab's blocks share pages,
     * and their refill stays as short as it was.
     */
    private boolean reusesFirst(int cls) {
        return classes.tier(cls) != HakMemStats.Tier.TINY;
    }

    /** A block from a slab that has space. */
    private static int take(Slab s) {
        int b = s.popFree();
        if (b < 0) {
            b = s.carve();
        }
        assert b >= 0 : s;
        return b;
    }

    // ------------------------------------------------------------------ free (see Free)

    /**
     * A free emptied {@code s}, a slab of this heap that is not the current one of its class: it retires, unless it
     * is of a Mid class that keeps no spare yet. Then it stays listed, every block freed, as the class's spare: the
     * next refill that finds no freed block elsewhere takes it back whole, where a retired slab would have left its
     * slot to be carved again, by another class when the demand swings, whose layout dirties pages this one never
     * touched (mid_large_mt_64k retired and carved about 4000 slabs per million operations, 6% of them in another
     * class's slot; mimalloc keeps an emptied page for a few retire cycles for the same reason). One per class
     * bounds what an idle thread holds to one Mid slab (64 KiB to 2 MiB, see {@link SizeClasses#MID_BLOCKS}) a
     * class, of which only the pages its blocks touched are resident; its death, or a carve that finds no free slot
     * ({@link #collect}), retires the spares.
     */
    void emptied(Slab s) {
        int cls = s.cls;
        if (spare[cls] == null && classes.tier(cls) == HakMemStats.Tier.MID) {
            spare[cls] = s;
            return;
        }
        retire(s);
    }

    /** A virtual thread frees block {@code b} of {@code s}, of this shared heap: locally, under the lock. */
    int freeLocked(Slab s, int b) {
        lock.lock();
        try {
            return Free.blockLocal(s, b);
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------------ refill

    /** Slow path: makes a slab with space the current one for {@code cls}, and returns it. */
    Slab refill(int cls) {
        pool.checkOpen();
        Slab s = findSlabWithSpace(cls);
        while (s == null && adoptOne()) {
            s = findSlabWithSpace(cls);
        }
        if (s == null) {
            s = carveSlab(cls);
        }
        makeCurrent(cls, s);
        SlowPathListener l = set.listener();
        if (l != null) {
            l.refill(cls, s.base);
        }
        return s;
    }

    /**
     * The current slab after draining its remote frees, else the first other slab of the class with space; for a
     * class that {@link #reusesFirst reuses first}, a slab with a freed block before one that only has never-used
     * blocks left to carve.
     */
    private Slab findSlabWithSpace(int cls) {
        Slab cur = current[cls];
        if (cur != Slab.SENTINEL) {
            drain(cur);
        }
        if (reusesFirst(cls)) {
            if (cur.hasFreed()) {
                return cur;
            }
            Slab freed = nextOther(cls, true);
            if (freed != null) {
                return freed;
            }
        }
        return cur.hasFree() ? cur : nextOther(cls, false);
    }

    /**
     * The first other slab of {@code cls}, round robin from its cursor, that has a freed block ({@code freedOnly}) or
     * any space, after draining it; null if none.
     */
    private Slab nextOther(int cls, boolean freedOnly) {
        ArrayList<Slab> list = others[cls];
        int n = list.size();
        for (int k = 0; k < n; k++) {
            int i = (cursor[cls] + k) % n;
            Slab s = list.get(i);
            drain(s);
            if (freedOnly ? s.hasFreed() : s.hasFree()) {
                cursor[cls] = i;
                return s;
            }
        }
        return null;
    }

    private void drain(Slab s) {
        if (s.hasRemote()) {
            counters.remoteFrees[s.cls] += s.drain();
        }
    }

    private void makeCurrent(int cls, Slab s) {
        Slab old = current[cls];
        if (old == s) {
            return;
        }
        if (s.listIndex() >= 0) {
            removeFromList(s);
        }
        if (spare[cls] == s) {
            spare[cls] = null;
        }
        current[cls] = s;
        s.setCurrent(true);
        if (old != Slab.SENTINEL) {
            old.setCurrent(false);
            if (old.used() == 0) {
                retire(old);
            } else {
                addToList(old);
            }
        }
    }

    /** A new slab for {@code cls} in a SuperSlab this heap owns, or in one it acquires from the pool. */
    private Slab carveSlab(int cls) {
        if (slotsDueAfter != Long.MAX_VALUE) {
            // Only a dirty free slot can fall due (see slotsDueAfter): without one, no clock read (issue 11).
            purgeSlotsIfDue(System.nanoTime());
        }
        int shift = classes.slabShift(cls);
        SuperSlab target = superSlabWithFreeSlot(shift, cls);
        if (target == null || !target.hasFreeSlotOf(cls)) {
            // A pooled SuperSlab with a slot laid out for cls dirties no new page; another class's slot would.
            SuperSlab pooled = pool.acquirePooledWithSlotOf(shift, cls, this, ownerThread());
            if (pooled != null) {
                addSuperSlab(pooled);
                target = pooled;
            }
        }
        if (target == null && collect() > 0) {
            target = superSlabWithFreeSlot(shift, cls);
        }
        if (target == null) {
            set.reapIfDue();
            target = pool.acquire(shift, this, ownerThread());
            addSuperSlab(target);
        }
        int slot = target.freeSlotFor(cls);
        if (classes.tier(cls) == HakMemStats.Tier.MID && target.laidOutForOther(slot, cls)
                && !target.keepsStaleLayout(slot)) {
            // Enough stale layouts in this SuperSlab: this one goes back first (refused, it is carved in place). A
            // Large slot (the whole SuperSlab) keeps its pages: given back, it would fault up to 512 pages in again
            // for each change of class (mid_large_mt_1m ran 3 to 8 times slower so, as before commit 818c46f).
            pool.giveBackSlot(target, slot);
        }
        if (target.isDecommitted(slot)) {
            try {
                pool.commitSlot(target, slot);
            } catch (RuntimeException | Error e) {
                if (target.isEmpty()) {
                    superSlabs.remove(target);
                    pool.giveBack(target);
                }
                throw e;
            }
        }
        return target.carve(cls, classes.blockSize(cls));
    }

    /**
     * An owned SuperSlab of {@code shift} with a free slot, ranked by its best slot as {@link SuperSlab#freeSlotFor}
     * ranks slots: one that last held {@code cls}, else (slots above 64 KiB) one laid out for no class, else any.
     */
    private SuperSlab superSlabWithFreeSlot(int shift, int cls) {
        SuperSlab blank = null;
        SuperSlab any = null;
        for (SuperSlab ss : superSlabs) {
            if (ss.slabShift == shift && ss.hasFreeSlot()) {
                if (ss.hasFreeSlotOf(cls)) {
                    return ss;
                }
                if (blank == null && ss.prefersBlankSlots() && !ss.laidOutForOther(ss.freeSlotFor(cls), cls)) {
                    blank = ss;
                }
                any = any == null ? ss : any;
            }
        }
        return blank != null ? blank : any;
    }

    /** A SuperSlab joins this heap; its free slots may be dirty, so the next slow path sweeps them. */
    private void addSuperSlab(SuperSlab ss) {
        superSlabs.add(ss);
        slotsDueAfter = 0;
    }

    /**
     * Slow path (a carve, a retire): gives back the pages of this heap's free slots that have stayed free for the
     * purge delay in force, if one is due ({@link SuperSlabPool#purgeSlots}); otherwise a compare (a carve reads the
     * clock for it only while a dirty free slot waits).
     *
     * <p>A retired slot keeps its pages for the delay, as mimalloc purges a free page only after its purge delay
     * ({@code mi_segment_schedule_purge}, driven from the owner's own allocation slow path, as here) and jemalloc's
     * dirty pages decay over time before they are given back (Evans, "jemalloc decay", arena_decay_ticks). Giving them back on
     * every change of class instead (session 7) cost lifetime_mix with its cache site segregated about 6,000 madvises
     * and 100,000 page faults in 3 M operations: its short-lived slabs empty after every request, and the next
     * request's band carves the same slots for other Mid classes at once.
     *
     * <p>What stays resident, and why it is bounded: a free slot carved again within the delay, for another class,
     * keeps the pages its old layout dirtied; the new layout's blocks cover the whole slot, so each of those pages
     * lies under some block of the new slab and is reused when that block is written whole, not leaked. A program
     * that writes its blocks sparsely (mid_large_mt_64k touches a block's first and last byte) reuses few of them,
     * and a slot relaid again and again would end up wholly resident: so a Mid carve keeps a stale layout in at most
     * one slot in four of a SuperSlab ({@link SuperSlab#keepsStaleLayout}) and gives the others back first, as
     * session 7 did for all. A slot never holds more than its own bytes (64 KiB to 2 MiB), all counted as committed
     * ({@link SuperSlab#committedBytes}) until given back, and a slot that then stays free for the delay goes back
     * whole. Slots of a heap that stops calling its
     * slow paths wait for its next one, its thread's death (an adopter's sweep, or the pool's purge once empty), or
     * the pool's purge of the whole SuperSlab; mimalloc's idle thread keeps its pages the same way.
     */
    private void purgeSlotsIfDue(long now) {
        if (now - slotsSweptAt < slotsDueAfter) {
            return;
        }
        long next = Long.MAX_VALUE;
        for (SuperSlab ss : superSlabs) {
            next = Math.min(next, pool.purgeSlots(ss, now));
        }
        slotsSweptAt = now;
        slotsDueAfter = next;
    }

    private Thread ownerThread() {
        return isShared() ? null : Thread.currentThread();
    }

    /**
     * Before growing: drains every slab of every class and retires the empty ones. Slabs emptied only by remote
     * frees, in a class this heap no longer allocates, would otherwise hold their memory for good. Returns how
     * many slabs were retired.
     */
    private int collect() {
        int retired = 0;
        for (ArrayList<Slab> list : others) {
            for (int i = list.size() - 1; i >= 0; i--) {
                Slab s = list.get(i);
                drain(s);
                if (s.used() == 0) {
                    retire(s);
                    retired++;
                }
            }
        }
        return retired;
    }

    /** An empty slab leaves this heap: its slot goes back to its SuperSlab, an empty SuperSlab to the pool. */
    private void retire(Slab s) {
        assert s.used() == 0 && s != current[s.cls] : s;
        if (s.listIndex() >= 0) {
            removeFromList(s);
        }
        if (spare[s.cls] == s) {
            spare[s.cls] = null;
        }
        SuperSlab ss = s.superSlab;
        // The slot keeps its pages for the purge delay: a program that frees and allocates large blocks in turn would
        // otherwise pay a madvise and then a page fault per 4 KiB for every block. They go back by this heap's sweep,
        // or with the whole SuperSlab once it has been pooled for the delay.
        long now = System.nanoTime();
        foldLock.lock();
        try {
            counters.mallocs[s.cls] += s.allocations();
            ss.retire(s, now);
        } finally {
            foldLock.unlock();
        }
        if (ss.isEmpty()) {
            superSlabs.remove(ss);
            pool.giveBack(ss);
        } else {
            slotsDueAfter = Math.min(slotsDueAfter, now - slotsSweptAt + pool.purgeDelayNanos());
        }
        purgeSlotsIfDue(now);
    }

    private void addToList(Slab s) {
        assert s.listIndex() < 0 : "slab " + s + " is already in a list at " + s.listIndex();
        ArrayList<Slab> list = others[s.cls];
        s.setListIndex(list.size());
        list.add(s);
    }

    private void removeFromList(Slab s) {
        ArrayList<Slab> list = others[s.cls];
        int i = s.listIndex();
        assert list.get(i) == s : "slab " + s + " is not at its list index " + i;
        Slab last = list.removeLast();
        if (last != s) {
            list.set(i, last);
            last.setListIndex(i);
        }
        s.setListIndex(-1);
    }

    // ------------------------------------------------------------------ check

    /**
     * This heap's own bookkeeping, for a quiescent heap: every exception path must leave it whole. The lock of a
     * shared heap is free (a holder that failed without unlocking would block every later virtual thread); every
     * current or listed slab is live, of its class, filed once, in a SuperSlab this heap owns and lists; every
     * listed SuperSlab is OWNED by this heap, and listed by no other heap: each is added to {@code listed}, which
     * holds the SuperSlabs the heaps checked before listed. Neither half of the countdown is expired (the malloc
     * that expired one refilled it) and no sample bytes are owed. A listed SuperSlab's dirty free
     * slot has a sweep due ({@link #slotsDueAfter}). Returns null or the problem.
     */
    String check(Set<SuperSlab> listed) {
        if (lock != null && lock.isLocked()) {
            return "the lock is held with no operation running (held by the current thread: "
                    + lock.isHeldByCurrentThread() + ")";
        }
        if ((countdown & EXPIRED) != 0 || sampleRest < 0) {
            return "countdown 0x" + Long.toHexString(countdown) + " (sample rest " + sampleRest
                    + ") has an expired half at rest: every malloc would take the slow path";
        }
        Set<SuperSlab> mine = Collections.newSetFromMap(new IdentityHashMap<>());
        for (SuperSlab ss : superSlabs) {
            if (ss.ownerOpaque() != this || ss.stateVolatile() != SuperSlab.OWNED) {
                return "lists " + ss + ", which it does not own";
            }
            if (!mine.add(ss)) {
                return "lists " + ss + " twice";
            }
            if (!listed.add(ss)) {
                return "lists " + ss + ", which another heap lists too";
            }
            int dirty = slotsDueAfter == Long.MAX_VALUE ? ss.firstFreeDirtySlot() : -1;
            if (dirty >= 0) {
                return "free slot " + dirty + " of " + ss + " holds dirty pages, but no sweep is due: they would stay"
                        + " resident until the SuperSlab empties";
            }
        }
        for (int c = 0; c < current.length; c++) {
            Slab cur = current[c];
            if (cur != Slab.SENTINEL) {
                String problem = checkFiled(cur, c, "current", mine);
                if (problem == null && cur.listIndex() != -1) {
                    problem = "is current and also listed at " + cur.listIndex();
                }
                if (problem == null && !cur.isCurrent()) {
                    problem = "is current but does not say so: a free emptying it would retire it";
                }
                if (problem != null) {
                    return "current slab " + cur + " of class " + c + " " + problem;
                }
            }
            ArrayList<Slab> list = others[c];
            Slab sp = spare[c];
            if (sp != null && (sp.cls != c || sp.listIndex() < 0 || sp.listIndex() >= list.size()
                    || list.get(sp.listIndex()) != sp || sp.used() != 0)) {
                return "spare slab " + sp + " of class " + c + " is not an empty slab listed under its class";
            }
            for (int i = 0; i < list.size(); i++) {
                Slab s = list.get(i);
                String problem = checkFiled(s, c, "listed", mine);
                if (problem == null && s.listIndex() != i) {
                    problem = "is at list index " + i + " but records " + s.listIndex();
                }
                if (problem == null && s.isCurrent()) {
                    problem = "is listed but says it is current: a free emptying it would never retire it";
                }
                if (problem != null) {
                    return "slab " + s + " of class " + c + " " + problem;
                }
            }
        }
        return null;
    }

    /**
     * Null if {@code s}, filed under class {@code cls}, is live, of that class, in a slot of that class's slab size
     * (a slab's capacity and every block's address come from its slot's size: see {@link SizeClasses#MID_BLOCKS}), in
     * a SuperSlab this heap lists.
     */
    private String checkFiled(Slab s, int cls, String role, Set<SuperSlab> mine) {
        if (s.cls != cls) {
            return "is " + role + " under the wrong class";
        }
        if (s.superSlab.slabShift != classes.slabShift(cls)) {
            return "is " + role + " in a slot of " + s.superSlab.slotBytes() + " B, but its class's slabs are "
                    + (1L << classes.slabShift(cls)) + " B";
        }
        if (s.retiredPlain()) {
            return "is " + role + " but retired";
        }
        if (!mine.contains(s.superSlab)) {
            return "is " + role + " but its SuperSlab is not this heap's";
        }
        return null;
    }

    // ------------------------------------------------------------------ adoption and abandonment

    /** Adopts one abandoned SuperSlab of the heap set, if any. */
    private boolean adoptOne() {
        SuperSlab ss = pool.pollAbandoned();
        if (ss == null) {
            return false;
        }
        adopt(ss);
        return true;
    }

    /**
     * A freer found {@code ss} abandoned after pushing a block onto one of its slabs: this heap, the freer's, claims
     * and adopts it (under the lock for a shared heap), unless another thread was first.
     */
    void adoptOnFree(SuperSlab ss) {
        if (lock != null) {
            lock.lock();
        }
        try {
            if (pool.tryClaim(ss)) {
                adopt(ss);
            }
        } finally {
            if (lock != null) {
                lock.unlock();
            }
        }
    }

    /** Takes over a SuperSlab this heap just won by CAS: drains its slabs and files them by class. */
    void adopt(SuperSlab ss) {
        ss.setOwnerOpaque(this, isShared() ? null : Thread.currentThread());
        SlowPathListener l = set.listener();
        if (l != null) {
            l.adopt(ss.base);
        }
        addSuperSlab(ss);
        // Snapshot first: retiring the last slab gives the SuperSlab back to the pool, where another heap may take
        // it and carve new slabs at once; after that point this heap must not look at its slots again.
        List<Slab> slabs = new ArrayList<>(ss.slots);
        for (int i = 0; i < ss.slots; i++) {
            Slab s = ss.slabAcquire(i);
            if (s != null) {
                slabs.add(s);
            }
        }
        for (Slab s : slabs) {
            drain(s);
            if (s.used() == 0) {
                retire(s);
            } else {
                addToList(s);
            }
        }
    }

    /** Reaper: the owner died. Every SuperSlab goes to the abandoned queue, slabs and free stacks intact. */
    void abandonAll() {
        // Forget first: once a SuperSlab is in the queue an adopter may file its slabs (setting their list
        // indices) at once, and nothing of this heap may touch them after that.
        List<SuperSlab> owned = List.copyOf(superSlabs);
        forgetAll();
        for (SuperSlab ss : owned) {
            pool.abandon(ss);
        }
    }

    /** Close: forget every slab (their memory is about to be unmapped), so later use goes to refill and throws. */
    void forgetAll() {
        superSlabs.clear();
        for (int c = 0; c < current.length; c++) {
            if (current[c] != Slab.SENTINEL) {
                current[c].setCurrent(false);
            }
            current[c] = Slab.SENTINEL;
            // The slabs outlive this heap (an adopter files them in its own lists): leave no index of ours behind.
            others[c].forEach(s -> s.setListIndex(-1));
            others[c].clear();
            spare[c] = null;
        }
    }
}
