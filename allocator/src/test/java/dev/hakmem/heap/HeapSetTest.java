package dev.hakmem.heap;

import dev.hakmem.PageSource;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class HeapSetTest {
    private static final SizeClasses CLASSES = new SizeClasses(1.25);

    private static HeapSet newSet() {
        Events events = new Events();
        SuperSlabPool pool = new SuperSlabPool(-1, PageSource.system(), new MemoryAccount(Long.MAX_VALUE, 0),
                events, new ClassCounters(CLASSES.count()), 0);
        return new HeapSet(CLASSES, pool, events, new ClassCounters(CLASSES.count()), 1);
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
}
