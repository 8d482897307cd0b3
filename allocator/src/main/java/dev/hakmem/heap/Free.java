package dev.hakmem.heap;

import dev.hakmem.site.Profiler;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;

/**
 * The one home of "free block {@code b} of slab {@code s}", end to end, as mimalloc's {@code free.c}: the owner's
 * path and the cross-thread path side by side, named by the convention written in {@code dev.hakmem.slab}'s
 * {@code package-info}.
 * The caller has validated the address (it lies in {@code s}'s slot, a block starts there, the slab is this
 * allocator's) and turns a refused outcome into the exception; nothing here reads the block's memory.
 * <pre>
 *   freeLocal(s, b)   the caller's thread owns s's SuperSlab
 *     s.freeLocal(b)                 bits and link, no atomic instruction
 *     emptied and not current?  -->  the owner heap retires s            (slow path)
 *
 *   freeRemote(s, b)  any other thread
 *     owner is the caller's shared heap?  -->  under its lock, as freeLocal
 *     else s.freeRemote(b)           claim (atomic OR), push (CAS)
 *          SuperSlab abandoned?  -->  the caller's heap adopts it          (slow path)
 * </pre>
 * Both first look at the slab's count of sampled blocks (one plain load, see {@code Slab.sampledPlain}): a slab that holds none never reaches
 * the profiler. A sampled block's mark and the profiler's entry go, and its lifetime is recorded, before the block
 * goes back (after that another thread may allocate and sample the same address).
 */
public final class Free {
    private final HeapSet heaps;
    private final Profiler profiler;

    public Free(HeapSet heaps, Profiler profiler) {
        this.heaps = heaps;
        this.profiler = profiler;
    }

    /** Hot path: the caller's thread owns {@code s}'s SuperSlab. Returns a {@code Slab} outcome. */
    public int freeLocal(Slab s, int b, long address) {
        return s.sampledPlain() == 0 ? blockLocal(s, b) : freeSampled(s, b, address, true);
    }

    /** Any thread that does not own {@code s}'s SuperSlab. Returns a {@code Slab} outcome. */
    public int freeRemote(Slab s, int b, long address) {
        return s.sampledPlain() == 0 ? blockRemote(s, b) : freeSampled(s, b, address, false);
    }

    /**
     * Slow path of both: the slab holds sampled blocks, and this may be one of them. Its mark cleared, its lifetime
     * is recorded before it goes back (see {@code Profiler}'s "Lifetimes").
     */
    private int freeSampled(Slab s, int b, long address, boolean local) {
        if (s.unmarkSampled(b)) {
            profiler.freed(address);
        }
        return local ? blockLocal(s, b) : blockRemote(s, b);
    }

    /**
     * The owner (or the holder of its shared heap's lock): the block goes on the slab's local free stack. A slab
     * this emptied retires unless it is its heap's current one, which the slab itself says ({@code Slab.isCurrent});
     * only then is the heap loaded, from the SuperSlab's owner word, which the owner itself wrote. The current flag
     * is tested first: a free into the current slab (every free of a malloc/free loop) then reads no block count.
     */
    static int blockLocal(Slab s, int b) {
        int outcome = s.freeLocal(b);
        if (outcome == Slab.FREED && !s.isCurrent() && s.used() == 0) {
            ((ThreadHeap) s.superSlab.ownerOpaque()).emptied(s);
        }
        return outcome;
    }

    /**
     * Not the owner's thread. A virtual thread freeing into its own shared heap frees locally under the heap's lock
     * (a shared heap's SuperSlabs name no owner thread, so every one of its frees comes here). Anyone else pushes
     * the block onto the slab's remote stack; if the SuperSlab turns out abandoned, the caller's heap adopts it, so
     * a block freed after its owner died is reclaimed by a live thread.
     */
    private int blockRemote(Slab s, int b) {
        SuperSlab ss = s.superSlab;
        if (ss.ownerOpaque() instanceof ThreadHeap h && h.isShared() && h == heaps.current()) {
            return h.freeLocked(s, b);
        }
        int outcome = s.freeRemote(b);
        if (outcome == Slab.FREED && ss.stateVolatile() == SuperSlab.ABANDONED) {
            heaps.current().adoptOnFree(ss);
        }
        return outcome;
    }
}
