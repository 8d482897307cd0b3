package dev.hakmem.registry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Maps any address to the {@link Region} that covers it in O(1): a two-level table over 2 MiB chunks
 * ({@code address >>> 21}) spanning the 48-bit user address space, shared by every heap of the process.
 *
 * <p>Reads are wait-free: two acquire loads. Writers publish with release stores after the region is fully
 * built, so a reader that sees a region sees its final fields and everything its builder wrote before
 * {@link #register}. A removal stores null; a reader racing it either finds the region (whose metadata stays
 * valid Java state, and whose memory the allocator does not touch on that path) or finds nothing.
 */
public final class Registry {
    public static final int CHUNK_SHIFT = 21;
    public static final long CHUNK = 1L << CHUNK_SHIFT;
    private static final int ADDRESS_BITS = 48;
    private static final int LEAF_BITS = 13;
    private static final int ROOT_BITS = ADDRESS_BITS - CHUNK_SHIFT - LEAF_BITS;

    private static final VarHandle ROOT = MethodHandles.arrayElementVarHandle(Region[][].class);
    private static final VarHandle LEAF = MethodHandles.arrayElementVarHandle(Region[].class);

    /** Leaves are created on demand and never removed: 16384 roots cover 256 TiB. */
    private static final Region[][] ROOTS = new Region[1 << ROOT_BITS][];

    private Registry() {
    }

    /** The region covering {@code address}, or null. Any long is accepted, negative and wild ones included. */
    public static Region lookup(long address) {
        if ((address >>> ADDRESS_BITS) != 0) {
            return null;
        }
        // acquire: pairs with the release in leafFor/register, so a found leaf and region are fully built.
        Region[] leaf = (Region[]) ROOT.getAcquire(ROOTS, (int) (address >>> (CHUNK_SHIFT + LEAF_BITS)));
        if (leaf == null) {
            return null;
        }
        return (Region) LEAF.getAcquire(leaf, (int) (address >>> CHUNK_SHIFT) & ((1 << LEAF_BITS) - 1));
    }

    /** Whether regions at this address can be registered at all. */
    public static boolean covers(long base, long span) {
        return base > 0 && span > 0 && ((base + span - 1) >>> ADDRESS_BITS) == 0;
    }

    /** Makes every chunk of the region map to it (replacing what was there, e.g. a SuperSlab re-carved). */
    public static void register(Region region) {
        if (!covers(region.base, region.span)) {
            throw new IllegalArgumentException("address beyond the registry's range: 0x"
                    + Long.toHexString(region.base));
        }
        for (long a = region.base; a < region.base + region.span; a += CHUNK) {
            // release: the region's construction happens-before any acquire load that returns it.
            LEAF.setRelease(leafFor(a), leafIndex(a), region);
        }
    }

    /** Removes the region's chunks that still map to it. */
    public static void unregister(Region region) {
        for (long a = region.base; a < region.base + region.span; a += CHUNK) {
            // CAS: only clear entries that are still ours, never a successor that re-registered the chunk.
            LEAF.compareAndSet(leafFor(a), leafIndex(a), region, null);
        }
    }

    private static int leafIndex(long address) {
        return (int) (address >>> CHUNK_SHIFT) & ((1 << LEAF_BITS) - 1);
    }

    private static Region[] leafFor(long address) {
        int i = (int) (address >>> (CHUNK_SHIFT + LEAF_BITS));
        Region[] leaf = (Region[]) ROOT.getAcquire(ROOTS, i);
        if (leaf == null) {
            Region[] fresh = new Region[1 << LEAF_BITS];
            // CAS: two registrars racing for one root install a single leaf; the loser adopts the winner's.
            Region[] witness = (Region[]) ROOT.compareAndExchangeRelease(ROOTS, i, null, fresh);
            leaf = witness == null ? fresh : witness;
        }
        return leaf;
    }
}
