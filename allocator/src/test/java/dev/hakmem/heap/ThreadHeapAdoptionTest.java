package dev.hakmem.heap;

import dev.hakmem.PageSource;
import dev.hakmem.os.ForwardingPageSource;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Adoption, with the interleavings that need another thread played out deterministically on one: another heap's
 * moves are run from inside a page-source call the adopter makes, at the exact point a second thread could make them.
 */
class ThreadHeapAdoptionTest {
    private static final SizeClasses CLASSES = new SizeClasses(1.25);
    /** The largest class of 512 KiB slabs: four slots per SuperSlab. */
    private static final int CLS = CLASSES.classOf(16 << 10);

    /**
     * An adopter drains the only slab of an abandoned SuperSlab, finds it empty and retires it, which gives the
     * SuperSlab back to the pool. Another heap takes it from the pool at once and carves two slabs: slots 0 and 1.
     * The adopter must not look at the slots again (it snapshots them before retiring anything), or it files the
     * other heap's current slab in its own lists and allocates from it: two heaps owning one slab.
     *
     * <p>The window: the give-back trims the pool to its retain budget (one SuperSlab here), and trimming unmaps an
     * older pooled SuperSlab; the page source's {@code release} of that one runs after the give-back and before the
     * adopter's loop moves on, so the other heap acquires and carves there.
     */
    @Test
    void anAdopterNeverFilesSlabsCarvedInTheSuperSlabItGaveBack() {
        assertEquals(SizeClasses.SMALL_SHIFT + 3, CLASSES.slabShift(CLS), "16 KiB blocks: 512 KiB slabs");
        ReleaseHook pages = new ReleaseHook(PageSource.system());
        Events events = new Events();
        SuperSlabPool pool = new SuperSlabPool(-1, pages, new MemoryAccount(Long.MAX_VALUE, SuperSlab.SIZE), events,
                new ClassCounters(CLASSES.count()), 0);
        HeapSet set = new HeapSet(CLASSES, pool, events, new ClassCounters(CLASSES.count()), 1);
        Thread thread = Thread.currentThread();
        ThreadHeap dead = new ThreadHeap(set, CLASSES, pool, thread, false);
        ThreadHeap other = new ThreadHeap(set, CLASSES, pool, thread, false);
        ThreadHeap adopter = new ThreadHeap(set, CLASSES, pool, thread, false);
        try {
            long orphan = dead.malloc(CLS);
            SuperSlab ss = pool.all().iterator().next();
            Slab deadSlab = ss.slabAt(orphan);
            // The older pooled SuperSlab that the give-back's trim unmaps: alone it fits the budget, with a second not.
            pool.giveBack(pool.acquire(CLASSES.slabShift(CLS), null, null));

            // The owner dies holding one block, which a survivor then frees: the drain on adoption empties the slab.
            dead.abandonAll();
            assertEquals(Slab.FREED, deadSlab.freeRemote(deadSlab.indexOf(orphan)));

            pages.onNextRelease = () -> {
                for (int i = 0; i <= CLASSES.capacity(CLS); i++) {
                    other.malloc(CLS);
                }
            };
            long block = adopter.malloc(CLS);

            // The interleaving happened: the adopter adopted, gave back, and the other heap carved slots 0 and 1.
            assertNull(pages.onNextRelease, "the pool never trimmed after the give-back");
            assertEquals(1, events.adoptions.sum());
            assertSame(other, ss.ownerOpaque());
            assertNotNull(ss.slabAcquire(1));
            assertFalse(block >= ss.base && block < ss.base + SuperSlab.SIZE,
                    "the adopter allocated from a slab the other heap carved in the SuperSlab it gave back");
        } finally {
            pool.releaseAll();
        }
    }

    /** Runs a hook (once) inside the next {@code release}, then releases. */
    private static final class ReleaseHook extends ForwardingPageSource {
        Runnable onNextRelease;

        ReleaseHook(PageSource delegate) {
            super(delegate);
        }

        @Override
        public void release(long address, long size) {
            Runnable hook = onNextRelease;
            onNextRelease = null;
            if (hook != null) {
                hook.run();
            }
            super.release(address, size);
        }
    }
}
