package dev.hakmem.heap;

import dev.hakmem.PageSource;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapSetTest {
    private static final SizeClasses CLASSES = new SizeClasses(1.25);

    private final Events events = new Events();
    private final SuperSlabPool pool = new SuperSlabPool(-1, PageSource.system(), new MemoryAccount(Long.MAX_VALUE, 0),
            events, new ClassCounters(CLASSES.count()), 0);

    private static HeapSet newSet() {
        return new HeapSetTest().setOf(1);
    }

    private HeapSet setOf(int sharedHeaps) {
        return new HeapSet(CLASSES, pool, events, new ClassCounters(CLASSES.count()), sharedHeaps);
    }

    @AfterEach
    void unmap() {
        assertEquals(java.util.List.of(), pool.releaseAll());
    }

    @Test
    void aThreadGetsOneHeapPerSet() {
        HeapSet set = newSet();
        assertSame(set.current(), set.current());
    }

    /** A heap set this thread used must not stay reachable through the thread's ThreadLocal map once dropped. */
    @Test
    void aDroppedHeapSetIsNotKeptAliveByTheThreadsThatUsedIt() throws InterruptedException {
        WeakReference<HeapSet> ref = usedOnceAndDropped();
        for (int i = 0; i < 50 && ref.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(ref.get(), "the heap set is still reachable");
    }

    private static WeakReference<HeapSet> usedOnceAndDropped() {
        HeapSet set = newSet();
        set.current();
        return new WeakReference<>(set);
    }

    @Test
    void virtualThreadsShareTheHeapTheirIdPicksAndPlatformThreadsGetTheirOwn() throws Exception {
        HeapSet set = setOf(3);
        assertEquals(3, events.heapsCreated.sum(), "the shared heaps exist from the start");
        Map<Long, ThreadHeap> byRemainder = new HashMap<>();
        Map<ThreadHeap, Boolean> distinct = new IdentityHashMap<>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 12; i++) {
                executor.submit(() -> {
                    ThreadHeap h = set.current();
                    assertSame(h, set.current());
                    assertTrue(h.isShared());
                    synchronized (byRemainder) {
                        ThreadHeap before = byRemainder.putIfAbsent(Thread.currentThread().threadId() % 3, h);
                        assertSame(before == null ? h : before, h, "the same remainder, the same heap");
                        distinct.put(h, true);
                    }
                    return null;
                }).get();
            }
        }
        assertEquals(byRemainder.size(), distinct.size(), "different remainders, different heaps");
        assertEquals(3, events.heapsCreated.sum(), "virtual threads never get a heap of their own");
        ThreadHeap mine = set.current();
        assertFalse(mine.isShared());
        assertSame(Thread.currentThread(), mine.owner);
        assertEquals(4, events.heapsCreated.sum());
        ThreadHeap[] other = new ThreadHeap[1];
        Thread t = Thread.ofPlatform().start(() -> other[0] = set.current());
        t.join();
        assertNotSame(mine, other[0]);
        assertEquals(5, events.heapsCreated.sum());
    }

    @Test
    void aDeadThreadsHeapIsReapedOnceAndItsCountsAreKept() throws InterruptedException {
        HeapSet set = setOf(1);
        int cls = 2;
        Thread t = Thread.ofPlatform().start(() -> set.current().counters.mallocs[cls] = 7);
        t.join();
        assertEquals(7, summed(set).mallocs[cls]);
        assertEquals(1, set.reapDead());
        assertEquals(1, events.heapsAbandoned.sum());
        assertEquals(7, summed(set).mallocs[cls], "folded into the retired counts, counted once");
        assertEquals(0, set.reapDead(), "reaped once");
        set.current().counters.mallocs[cls] = 1;
        assertEquals(0, set.reapDead(), "the calling thread is alive");
        assertEquals(8, summed(set).mallocs[cls]);
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            executor.submit(() -> set.current().counters.mallocs[cls] = 2).get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        }
        assertEquals(10, summed(set).mallocs[cls], "the shared heaps' counts too");
    }

    private static ClassCounters summed(HeapSet set) {
        ClassCounters sum = new ClassCounters(CLASSES.count());
        set.tally(sum, () -> { });
        return sum;
    }

    @Test
    void aVirtualThreadAdoptsAnAbandonedSuperSlabUnderItsSharedHeapsLock() throws Exception {
        HeapSet set = setOf(1);
        SuperSlab ss = pool.acquire(SizeClasses.SMALL_SHIFT, null, null);
        pool.abandon(ss);
        ThreadHeap[] adopter = new ThreadHeap[1];
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            executor.submit(() -> {
                adopter[0] = set.current();
                adopter[0].adoptOnFree(ss);
                return null;
            }).get();
        }
        assertSame(adopter[0], ss.ownerOpaque());
        assertNull(ss.ownerThreadOpaque(), "a shared heap's SuperSlab has no owner thread: every free takes the lock");
        assertEquals(SuperSlab.OWNED, ss.stateVolatile());
        assertNull(adopter[0].check(Collections.newSetFromMap(new IdentityHashMap<>())),
                "the lock is released and the heap lists the SuperSlab");
        assertEquals(1, events.adoptions.sum());
        set.current().adoptOnFree(ss);
        assertSame(adopter[0], ss.ownerOpaque(), "an owned SuperSlab is not adopted again");
    }
}
