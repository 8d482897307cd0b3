package dev.hakmem.core;

import dev.hakmem.PageSource;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.invoke.MethodHandles;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each condition under which {@link SlabCache} may answer a free, and its check, on a real SuperSlab. */
class SlabCacheEntriesTest {
    /** The cache's reach: addresses this far apart share an entry. */
    private static final long ALIAS = 4096L << SizeClasses.SMALL_SHIFT;
    /** Slabs of 512 KiB, four a SuperSlab. */
    private static final int SLAB_SHIFT = SizeClasses.SMALL_SHIFT + 3;

    private final SuperSlabPool pool = new SuperSlabPool(-5, PageSource.system(),
            new MemoryAccount(Long.MAX_VALUE, 0), new Events(), new ClassCounters(1), 0);
    private final SuperSlab ss = pool.acquire(SLAB_SHIFT, null, Thread.currentThread());
    private final Slab slab = ss.carve(0, 64);
    private final SlabCache cache = new SlabCache();

    @AfterEach
    void unmap() {
        assertEquals(List.of(), pool.releaseAll());
    }

    @Test
    void anEntryAnswersOnlyItsOwnerForAddressesInItsSlot() {
        long inSlot = slab.base + (1L << SLAB_SHIFT) - 64;
        assertNull(cache.ownedBy(slab.base, Thread.currentThread()), "empty");
        cache.fill(inSlot, slab);
        assertSame(slab, cache.ownedBy(inSlot, Thread.currentThread()));
        assertNull(cache.ownedBy(inSlot, new Thread(() -> { })), "another thread is not the owner");
        assertNull(cache.ownedBy(inSlot + ALIAS, Thread.currentThread()), "an alias outside the slot");
        assertNull(cache.check());
        cache.clear();
        assertNull(cache.ownedBy(inSlot, Thread.currentThread()), "cleared");
    }

    @Test
    void anEntryAnswersAnyThreadsRemoteFreeOnlyForAddressesInItsSlot() {
        long inSlot = slab.base + (1L << SLAB_SHIFT) - 64;
        assertNull(cache.holding(inSlot), "empty");
        cache.fill(inSlot, slab);
        assertSame(slab, cache.holding(inSlot));
        assertNull(cache.holding(inSlot + ALIAS), "an alias outside the slot");
        cache.clear();
        assertNull(cache.holding(inSlot), "cleared");
    }

    @Test
    void aRetiredSlabIsNeverAnsweredAndNotAProblem() {
        cache.fill(slab.base, slab);
        ss.retire(slab, System.nanoTime());
        assertNull(cache.ownedBy(slab.base, Thread.currentThread()));
        assertNull(cache.holding(slab.base), "a retired slab may have left its slot: the registry decides");
        assertNull(cache.check());
    }

    @Test
    void checkReportsAnEntryThatLeftItsSlotWithoutRetiring() throws ReflectiveOperationException {
        cache.fill(slab.base, slab);
        Slab[] slots = (Slab[]) MethodHandles.privateLookupIn(SuperSlab.class, MethodHandles.lookup())
                .findVarHandle(SuperSlab.class, "slabs", Slab[].class).get(ss);
        slots[slab.slot] = null;
        String problem = cache.check();
        assertTrue(problem != null && problem.startsWith("the slab cache holds Slab[class 0, 64 B")
                && problem.endsWith("which left its slot without retiring"), problem);
    }
}
