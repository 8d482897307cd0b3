package dev.hakmem.heap;

import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * All heaps of one allocator: one per platform thread (created on first use, found through a ThreadLocal), and a
 * fixed set shared by virtual threads.
 *
 * <p>Virtual threads never get a heap each: a million of them would mean a million heaps, each holding slabs. A
 * virtual thread uses shared heap {@code threadId mod n} under that heap's lock. The lock is uncontended in the
 * common case, since n defaults to twice the number of carriers; the cost (a CAS to lock, a store to unlock) is
 * paid only by virtual threads.
 *
 * <p>Thread death: Java has no hook for it. Each platform heap holds its thread weakly; {@link #reapDead} (run by
 * the maintenance thread, and before a heap maps new memory) finds heaps whose thread is gone and abandons their
 * SuperSlabs to the pool's queue, where other heaps adopt them and the maintenance thread reclaims empty ones.
 *
 * <p>Lifetime segregation (LLAMA, Maas et al., ASPLOS 2020): every heap, platform or shared, may have a twin for
 * long-lived blocks, created on first use ({@link #currentLongLived}). The twin is an ordinary heap of the same
 * thread (or shared under a lock of its own) with SuperSlabs of its own, so the few survivors of a long-lived site
 * never pin a SuperSlab that short-lived blocks would otherwise empty and give back:
 * <pre>
 *   thread T:  heap ----- SuperSlabs of short-lived blocks: emptied and pooled as the blocks die
 *               \-- twin -- SuperSlabs of long-lived blocks
 * </pre>
 * Everything else treats a twin as a heap: a SuperSlab names it as owner, so the owner's frees, remote frees and
 * adoption work unchanged; it is reaped with its thread, counted in {@code heapsCreated} and checked.
 */
public final class HeapSet {
    private static final long REAP_INTERVAL_NANOS = 10_000_000L;

    private final SizeClasses classes;
    private final SuperSlabPool pool;
    private final Events events;
    /** Counts of heaps that are gone, folded in when they die. */
    private final ClassCounters retired;
    private static final int CACHE_SIZE = 1024;

    /**
     * The calling thread's heap, held weakly: a ThreadLocal value that referred back to its key (heap -> set -> this
     * ThreadLocal) would keep every closed heap set alive in every thread that used it. The set's own list keeps its
     * heaps alive while the set lives.
     */
    private final ThreadLocal<WeakReference<ThreadHeap>> local = new ThreadLocal<>();
    /**
     * A direct-mapped cache in front of the ThreadLocal, indexed by thread id: one array load and a compare instead
     * of a ThreadLocalMap probe. Racy on purpose (plain loads and stores of whole references): an entry is used only
     * if its heap's final {@code owner} is the calling thread, and only that thread's heap can say so.
     */
    private final ThreadHeap[] cache = new ThreadHeap[CACHE_SIZE];
    private final ThreadHeap[] shared;
    /**
     * Live platform heaps (their twins hang off them). Guarded by this. Quiescent, checked by {@link #check}:
     * heapsCreated == the shared heaps + these + their twins + heapsAbandoned.
     */
    private final ArrayList<ThreadHeap> platform = new ArrayList<>();
    private volatile long lastReap;
    /** Set once, before the heap is used (guard mode), else null. */
    private SlowPathListener listener;

    public HeapSet(SizeClasses classes, SuperSlabPool pool, Events events, ClassCounters retired, int sharedHeaps) {
        this.classes = classes;
        this.pool = pool;
        this.events = events;
        this.retired = retired;
        this.shared = new ThreadHeap[sharedHeaps];
        for (int i = 0; i < sharedHeaps; i++) {
            shared[i] = new ThreadHeap(this, classes, pool, null, true);
            events.heapsCreated.increment();
        }
    }

    public void setListener(SlowPathListener l) {
        listener = l;
    }

    SlowPathListener listener() {
        return listener;
    }

    /** The calling thread's heap. For a shared heap the caller must hold its lock while using it. */
    public ThreadHeap current() {
        return current(cache);
    }

    /**
     * This set's cache in front of {@link #current}, for a caller on the malloc path that keeps it in a field of its
     * own: {@link #current(ThreadHeap[])} with it then loads the cache beside the set, not from it (issue 11: thread
     * to heap in one dependent load fewer).
     */
    public ThreadHeap[] cache() {
        return cache;
    }

    /** {@link #current()}, reading this set's {@link #cache()}, passed in by the caller. */
    public ThreadHeap current(ThreadHeap[] cache) {
        assert cache == this.cache : "another set's cache";
        Thread t = Thread.currentThread();
        ThreadHeap h = cache[(int) t.threadId() & (CACHE_SIZE - 1)];
        return h != null && h.owner == t ? h : currentSlow(t);
    }

    private ThreadHeap currentSlow(Thread t) {
        if (t.isVirtual()) {
            return sharedFor(t);
        }
        WeakReference<ThreadHeap> ref = local.get();
        ThreadHeap h = ref == null ? null : ref.get();
        if (h == null) {
            h = newPlatformHeap();
            local.set(new WeakReference<>(h));
        }
        cache[(int) t.threadId() & (CACHE_SIZE - 1)] = h;
        return h;
    }

    private ThreadHeap sharedFor(Thread t) {
        return shared[(int) Long.remainderUnsigned(t.threadId(), shared.length)];
    }

    private ThreadHeap newPlatformHeap() {
        ThreadHeap h = new ThreadHeap(this, classes, pool, Thread.currentThread(), false);
        synchronized (this) {
            platform.add(h);
        }
        events.heapsCreated.increment();
        return h;
    }

    /**
     * The calling thread's heap for long-lived blocks: its heap's twin, created on first use. For a shared heap's
     * twin the caller must hold the twin's lock while using it.
     */
    public ThreadHeap currentLongLived() {
        ThreadHeap h = current();
        ThreadHeap twin = h.longLivedAcquire();
        return twin != null ? twin : newTwin(h);
    }

    /** Under this set's lock: a shared heap's twin may be wanted by several virtual threads at once. */
    private synchronized ThreadHeap newTwin(ThreadHeap h) {
        ThreadHeap twin = h.longLivedAcquire();
        if (twin == null) {
            twin = new ThreadHeap(this, classes, pool, h.owner, h.isShared());
            h.setLongLived(twin);
            events.heapsCreated.increment();
        }
        return twin;
    }

    /** Reaps dead threads' heaps, at most once per interval; called before mapping new memory. */
    void reapIfDue() {
        long now = System.nanoTime();
        if (now - lastReap >= REAP_INTERVAL_NANOS) {
            lastReap = now;
            reapDead();
        }
    }

    /** Abandons the heaps whose thread died, and their twins; returns how many heaps. */
    public int reapDead() {
        List<ThreadHeap> dead = new ArrayList<>();
        synchronized (this) {
            // Folded under the lock that tally takes, so a snapshot counts a dying heap exactly once.
            platform.removeIf(h -> {
                boolean gone = !h.owner.isAlive();
                if (gone) {
                    retired.add(h.counters);
                    dead.add(h);
                    ThreadHeap twin = h.longLivedAcquire();
                    if (twin != null) {
                        retired.add(twin.counters);
                        dead.add(twin);
                    }
                    // No reference to a dead thread's heap may stay, or it would keep the Thread alive.
                    int i = (int) h.owner.threadId() & (CACHE_SIZE - 1);
                    if (cache[i] == h) {
                        cache[i] = null;
                    }
                }
                return gone;
            });
        }
        for (ThreadHeap h : dead) {
            h.abandonAll();
            events.heapsAbandoned.increment();
        }
        return dead.size();
    }

    /** Every live heap: the shared ones, then the platform ones, each followed by its twin if it has one. */
    private synchronized List<ThreadHeap> live() {
        List<ThreadHeap> all = new ArrayList<>(2 * (shared.length + platform.size()));
        for (List<ThreadHeap> heaps : List.of(List.of(shared), platform)) {
            for (ThreadHeap h : heaps) {
                all.add(h);
                ThreadHeap twin = h.longLivedAcquire();
                if (twin != null) {
                    all.add(twin);
                }
            }
        }
        return all;
    }

    /**
     * Adds the counts of every heap, live or gone, into {@code into}, then runs {@code walk} (the snapshot's walk of
     * the slabs), all under this set's lock (no heap is created or reaped meanwhile) and every live heap's
     * {@link ThreadHeap#foldLock}: a slab retiring meanwhile is counted by {@code into} or by the walk, exactly once.
     * The other counts are racy reads, exact when quiescent.
     */
    public synchronized void tally(ClassCounters into, Runnable walk) {
        List<ThreadHeap> heaps = live();
        int locked = 0;
        try {
            for (ThreadHeap h : heaps) {
                h.foldLock.lock();
                locked++;
            }
            into.add(retired);
            for (ThreadHeap h : heaps) {
                into.add(h.counters);
            }
            walk.run();
        } finally {
            for (int i = 0; i < locked; i++) {
                heaps.get(i).foldLock.unlock();
            }
        }
    }

    /**
     * For {@code check()} on a quiescent heap set: every heap's bookkeeping ({@link ThreadHeap#check}); that every
     * OWNED SuperSlab of the pool is listed by exactly one live heap (the heap check, that each is the owner of
     * those it lists, makes this a bijection: no SuperSlab is owned by a heap that is gone); and that every heap
     * created is live or was abandoned. Returns null or the problem.
     */
    public String check() {
        List<ThreadHeap> heaps = live();
        Set<SuperSlab> listed = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ThreadHeap h : heaps) {
            String problem = h.check(listed);
            if (problem != null) {
                return describe(h) + ": " + problem;
            }
        }
        for (SuperSlab ss : pool.all()) {
            if (ss.stateVolatile() == SuperSlab.OWNED && !listed.contains(ss)) {
                return ss + " is OWNED, but no live heap lists it (its owner is " + ss.ownerOpaque() + ")";
            }
        }
        long created = events.heapsCreated.sum();
        long abandoned = events.heapsAbandoned.sum();
        return created == heaps.size() + abandoned ? null : "events count " + created + " heaps created and "
                + abandoned + " abandoned, but " + heaps.size() + " heaps are live (" + shared.length
                + " shared, their twins, the platform heaps and theirs)";
    }

    private String describe(ThreadHeap h) {
        for (int i = 0; i < shared.length; i++) {
            if (shared[i] == h || shared[i].longLivedAcquire() == h) {
                return (shared[i] == h ? "shared heap " : "the long-lived twin of shared heap ") + i + " of "
                        + shared.length;
            }
        }
        return "a heap of " + h.owner;
    }

    /** Close: every heap drops its slabs, so later use refills and finds the pool closed. */
    public void forgetAll() {
        for (ThreadHeap h : live()) {
            h.forgetAll();
        }
        local.remove();
    }
}
