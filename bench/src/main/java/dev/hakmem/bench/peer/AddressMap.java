package dev.hakmem.bench.peer;

/**
 * A map from block addresses to the objects that own them, for peers whose blocks are objects (Netty's ByteBuf)
 * while the benchmarks hold addresses. A radix table over the 48-bit address space, like a page table: a lookup is
 * three array loads with no hashing and no probe loop. A hash map's probe loops branch on the key at random and
 * cost tens of nanoseconds in mispredictions here, which would be charged to the peer although an application
 * holding its ByteBufs never pays them.
 *
 * <p>Keys are taken at 16-byte granularity: blocks of at least 16 bytes that do not overlap start at least 16
 * bytes apart, so no two live blocks share a key. Not thread-safe; tables, once made, stay for the map's life.
 */
final class AddressMap<V> {
    private static final int GRANULE_BITS = 4;
    private static final int LEAF_BITS = 16;
    private static final int MID_BITS = 14;
    private static final int TOP_BITS = 14;
    private static final int ADDRESS_BITS = GRANULE_BITS + LEAF_BITS + MID_BITS + TOP_BITS;

    private final Object[][][] top = new Object[1 << TOP_BITS][][];
    private int size;

    int size() {
        return size;
    }

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
        size++;
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
            size--;
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
            mid = top[t] = new Object[1 << MID_BITS][];
        }
        int m = (int) (address >>> (GRANULE_BITS + LEAF_BITS)) & ((1 << MID_BITS) - 1);
        Object[] leaf = mid[m];
        if (leaf == null) {
            if (!create) {
                return null;
            }
            leaf = mid[m] = new Object[1 << LEAF_BITS];
        }
        return leaf;
    }

    private static int leafIndex(long address) {
        return (int) (address >>> GRANULE_BITS) & ((1 << LEAF_BITS) - 1);
    }
}
