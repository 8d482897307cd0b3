package dev.hakmem.bench.peer;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A map from block addresses to the objects that own them, for peers whose blocks are objects (Netty's ByteBuf)
 * while the benchmarks hold addresses. A radix table over the 48-bit address space, like a page table: a lookup is
 * three array loads with no hashing and no probe loop. A hash map's probe loops branch on the key at random and
 * cost tens of nanoseconds in mispredictions here, which would be charged to the peer although an application
 * holding its ByteBufs never pays them.
 *
 * <p>Keys are taken at 16-byte granularity: blocks of at least 16 bytes that do not overlap start at least 16
 * bytes apart, so no two live blocks share a key. Tables, once made, stay for the map's life.
 *
 * <p>Safe for the peers' threads: any threads may put and remove different addresses at once (tables are
 * installed by compare-and-set, so two threads that make the same table at once keep one), and an address put by
 * one thread may be removed by another, provided the caller orders the two, as handing the address from one
 * thread to the other through any queue or lock does. Slots are then read and written plainly: on the hot path
 * the map costs what it cost single-threaded.
 */
final class AddressMap<V> {
    private static final int GRANULE_BITS = 4;
    private static final int LEAF_BITS = 16;
    private static final int MID_BITS = 14;
    private static final int TOP_BITS = 14;
    private static final int ADDRESS_BITS = GRANULE_BITS + LEAF_BITS + MID_BITS + TOP_BITS;

    private static final VarHandle MIDS = MethodHandles.arrayElementVarHandle(Object[][][].class);
    private static final VarHandle LEAVES = MethodHandles.arrayElementVarHandle(Object[][].class);

    private final Object[][][] top = new Object[1 << TOP_BITS][][];

    /**
     * Maps a new address.
     *
     * @throws IllegalStateException    if a live block is mapped at the same 16-byte granule already
     * @throws IllegalArgumentException if the address is 0 or beyond the 48-bit address space
     */
    void put(long address, V value) {
        if (address == 0) {
            throw new IllegalArgumentException("address 0");
        }
        Object[] leaf = leaf(address, true);
        int i = leafIndex(address);
        if (leaf[i] != null) {
            throw new IllegalStateException("address already mapped: 0x" + Long.toHexString(address));
        }
        leaf[i] = value;
    }

    /**
     * Unmaps the address of a block being freed and returns its value.
     *
     * @throws IllegalArgumentException if the address is not mapped: not a live block of this peer
     */
    V take(long address) {
        V value = remove(address);
        if (value == null) {
            throw new IllegalArgumentException("not a live block: 0x" + Long.toHexString(address));
        }
        return value;
    }

    /** Unmaps an address and returns its value, or null if it was not mapped. */
    @SuppressWarnings("unchecked")
    V remove(long address) {
        Object[] leaf = leaf(address, false);
        if (leaf == null) {
            return null;
        }
        int i = leafIndex(address);
        V value = (V) leaf[i];
        if (value != null) {
            leaf[i] = null;
        }
        return value;
    }

    private Object[] leaf(long address, boolean create) {
        if (address >>> ADDRESS_BITS != 0) {
            throw new IllegalArgumentException("beyond the 48-bit address space: 0x" + Long.toHexString(address));
        }
        int t = (int) (address >>> (ADDRESS_BITS - TOP_BITS));
        Object[][] mid = top[t];
        if (mid == null) {
            if (!create) {
                return null;
            }
            mid = install(MIDS, top, t, new Object[1 << MID_BITS][]);
        }
        int m = (int) (address >>> (GRANULE_BITS + LEAF_BITS)) & ((1 << MID_BITS) - 1);
        Object[] leaf = mid[m];
        if (leaf == null) {
            if (!create) {
                return null;
            }
            leaf = install(LEAVES, mid, m, new Object[1 << LEAF_BITS]);
        }
        return leaf;
    }

    /** Installs a new table unless another thread installed one first, and returns the one installed. */
    @SuppressWarnings("unchecked")
    private static <T> T install(VarHandle tables, Object[] parent, int index, T table) {
        Object witness = tables.compareAndExchange(parent, index, (Object) null, (Object) table);
        return witness == null ? table : (T) witness;
    }

    private static int leafIndex(long address) {
        return (int) (address >>> GRANULE_BITS) & ((1 << LEAF_BITS) - 1);
    }
}
