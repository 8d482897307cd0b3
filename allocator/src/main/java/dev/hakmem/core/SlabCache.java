package dev.hakmem.core;

import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;

/**
 * A direct-mapped cache from 64 KiB granule ({@code address >>> 16}) to the slab whose slot held it when the cache
 * was filled, in front of the registry on the free path. The registry's way from an address to its slab is four
 * dependent loads (leaf, region, {@code slabs[]}, slab), and in a malloc/free loop the next malloc waits on them;
 * here it is one, with the thread test beside it rather than before it. Remote frees use it too (issue 11: a
 * consumer thread's every free went through the registry).
 *
 * <h2>Invariant</h2>
 * An entry is any slab of this allocator that the registry once showed for its granule, so it may be stale. The
 * owner's path ({@link #ownedBy}) trusts it only when both of these hold, each checked on every hit:
 * <ul>
 *   <li>the slab's owner thread is the caller, which only the owner can read there; it is a copy of its
 *   SuperSlab's, null once the slab retired (a Slab object is never carved again, so one that has not retired still
 *   owns its slot);</li>
 *   <li>the address lies in the slab's slot.</li>
 * </ul>
 * Then the slab is the caller's, exactly as the registry path would have found it. The granule is the smallest
 * slot, so a granule lies in exactly one slot. Any other thread ({@link #holding}) trusts it when the slab has not
 * retired and the address lies in its slot: then it is the slab the registry would find. A free racing the slab's
 * retirement cannot be a valid one (a slab retires empty, and a block handed out again from the slot after that
 * was handed out after the retirement, which the freer then sees); it frees into the retired slab's bitmap, where no
 * block is allocated, and is refused, as the registry would have refused it, or finds the block not allocated.
 *
 * <h2>Threads</h2>
 * Entries are plain reads and writes of whole references. Any thread fills; a racing fill only replaces one valid
 * candidate with another, and the checks above reject whatever does not belong to the reader.
 */
final class SlabCache {
    private static final int GRANULE_SHIFT = SizeClasses.SMALL_SHIFT;
    /** 4096 entries cover 256 MiB of slots without a conflict, for 16 KiB of Java heap. */
    private static final int SIZE = 4096;

    private final Slab[] slabs = new Slab[SIZE];

    /** Hot path: the slab holding {@code address} if the cache has it and {@code caller} owns it, else null. */
    Slab ownedBy(long address, Thread caller) {
        Slab s = slabs[index(address)];
        return s != null && s.ownerThreadPlain() == caller && s.covers(address) ? s : null;
    }

    /**
     * Any thread that does not own the slab: the slab holding {@code address} if the cache has it, else null. NOTE:
     * the plain read of the retired flag is enough: a free of a block handed out from this slot after the slab
     * retired happens-after that retirement (the block's malloc follows it), so it reads true; any other racing
     * free is invalid, and is refused by the retired slab's bitmap (see the class comment).
     */
    Slab holding(long address) {
        Slab s = slabs[index(address)];
        return s != null && !s.retiredPlain() && s.covers(address) ? s : null;
    }

    /** Remembers slab {@code s} for {@code address}, once the registry has shown that {@code s}'s slot holds it. */
    void fill(long address, Slab s) {
        assert s.covers(address) : s;
        slabs[index(address)] = s;
    }

    /**
     * Checks what the hit path relies on: an entry that has not retired is still the slab of its slot, and one that
     * has retired names no owner thread, so that no hit can take it. For a quiescent heap. Returns null or the
     * problem.
     */
    String check() {
        for (Slab s : slabs) {
            if (s != null && !s.retiredPlain() && s.superSlab.slabAcquire(s.slot) != s) {
                return "the slab cache holds " + s + ", which left its slot without retiring";
            }
            if (s != null && s.retiredPlain() && s.ownerThreadPlain() != null) {
                return "the slab cache holds " + s + ", which retired but still names its owner "
                        + s.ownerThreadPlain() + ": a free by that thread would hit it";
            }
        }
        return null;
    }

    /** Close: forgets every slab, so that a free after close goes to the registry and is refused there. */
    void clear() {
        java.util.Arrays.fill(slabs, null);
    }

    private static int index(long address) {
        return (int) (address >>> GRANULE_SHIFT) & (SIZE - 1);
    }
}
