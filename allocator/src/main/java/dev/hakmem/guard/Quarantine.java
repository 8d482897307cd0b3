package dev.hakmem.guard;

/**
 * One thread's freed guarded blocks, poisoned, held first in first out before their memory is reused, bounded in
 * bytes and in count. A write after free lands in a quarantined block and is found when it leaves (or by a heap
 * check).
 *
 * <pre>
 *   inner[], user[], size[]:  a ring of primitive arrays, no object per block
 *        head (oldest)                     head + count (the next free goes here)
 *        v                                 v
 *   [ .. | b0 | b1 | b2 | ...  | b(n-1) | ..  ]   capacity a power of two, grown on demand up to the bound
 * </pre>
 *
 * <p>Owned by one thread (guard mode's per-thread state): the freeing thread pushes and evicts with plain accesses,
 * no lock. A block freed by another thread than its allocator goes to the freeing thread's ring; the exactly-once
 * of a free is the header's CAS, not this class. Another thread touches a ring only when its owner is dead (it is
 * adopted, or drained by a check) or the heap is quiescent (a check, a close); see Guard's NOTE on the registry.
 * Per thread rather than shared, small rather than 16 MiB: issue 12's profile put half of full mode's time in the
 * old shared quarantine's lock and in the cache misses of evicting blocks freed 16 MiB earlier.
 *
 * <p>Invariants (checked by {@link #check}): {@code bytes} is the sum of the held blocks' sizes; {@code count}
 * fits the arrays; after {@link #add} and the caller's evictions while {@link #over} the ring holds the newest
 * blocks within {@code maxBytes} bytes and {@code maxBlocks} blocks, or only the newest one (see {@link #over}); only {@link #addWithoutEviction} and
 * {@link #adopt} may leave it above a bound ({@code overBound}), until the next add. A block taken out by
 * {@link #forget} stays as a hole of size 0 and inner 0 until it is evicted, counted in {@code count}.
 */
final class Quarantine {
    /** The default count bound per thread: 4096 small blocks (64 B each with guard mode's overhead) are 256 KiB. */
    static final int MAX_BLOCKS = 1 << 12;
    private static final int INITIAL = 16;

    private final long maxBytes;
    private final int maxBlocks;
    private long[] inner = new long[INITIAL];
    private long[] user = new long[INITIAL];
    private long[] size = new long[INITIAL];
    /** The oldest block's slot; the ring holds slots head .. head + count - 1, modulo the capacity. */
    private int head;
    private int count;
    /** The sizes of the held blocks, summed. */
    private long bytes;
    /** Set by {@link #addWithoutEviction} and {@link #adopt}, cleared by the next {@link #add}. */
    private boolean overBound;

    Quarantine(long maxBytes, int maxBlocks) {
        this.maxBytes = maxBytes;
        this.maxBlocks = maxBlocks;
    }

    /** Adds a block as the newest; the caller then evicts the oldest while {@link #over}. */
    void add(long in, long us, long sz) {
        push(in, us, sz);
        overBound = false;
    }

    /** Adds a block without making room: a bound may be exceeded until the next {@link #add}. */
    void addWithoutEviction(long in, long us, long sz) {
        push(in, us, sz);
        overBound = true;
    }

    private void push(long in, long us, long sz) {
        if (count == inner.length) {
            grow();
        }
        int i = (head + count) & (inner.length - 1);
        inner[i] = in;
        user[i] = us;
        size[i] = sz;
        count++;
        bytes += sz;
    }

    /** Doubles the arrays, unrolling the ring so that the oldest block lands at slot 0. */
    private void grow() {
        int n = inner.length;
        inner = unrolled(inner, n * 2);
        user = unrolled(user, n * 2);
        size = unrolled(size, n * 2);
        head = 0;
    }

    private long[] unrolled(long[] a, int capacity) {
        long[] out = new long[capacity];
        int first = a.length - head;
        System.arraycopy(a, head, out, 0, first);
        System.arraycopy(a, 0, out, first, head);
        return out;
    }

    /**
     * Whether the oldest block must leave: the ring is above one of its bounds, and holds more than the latest free.
     * The latest free always stays until the next one, however large (unless the quarantine is off, 0 bytes), so a
     * block larger than the whole bound is still caught if freed twice in a row; with 16 MiB shared, as before
     * issue 12, no block of a slab (1 MiB at most) was larger.
     */
    boolean over() {
        return count > (maxBytes == 0 ? 0 : 1) && (bytes > maxBytes || count > maxBlocks);
    }

    int count() {
        return count;
    }

    /** The k-th oldest block's inner address (0: a hole left by {@link #forget}), user address and size. */
    long innerAt(int k) {
        return inner[(head + k) & (inner.length - 1)];
    }

    long userAt(int k) {
        return user[(head + k) & (inner.length - 1)];
    }

    long sizeAt(int k) {
        return size[(head + k) & (inner.length - 1)];
    }

    /** Takes out the oldest block (the caller read it first). */
    void dropOldest() {
        bytes -= size[head];
        head = (head + 1) & (inner.length - 1);
        count--;
    }

    /** Takes out the k-th oldest block, found corrupted, so it is reported once and never reused: a hole. */
    void forget(int k) {
        int i = (head + k) & (inner.length - 1);
        bytes -= size[i];
        inner[i] = 0;
        size[i] = 0;
    }

    /** Takes over a dead thread's ring, its blocks older than any of this ring's later ones. */
    void adopt(Quarantine orphan) {
        for (int k = 0; k < orphan.count; k++) {
            push(orphan.innerAt(k), orphan.userAt(k), orphan.sizeAt(k));
        }
        overBound |= orphan.count > 0;
        orphan.clear();
    }

    /**
     * Forgets every block (their memory is about to be unmapped, or they were given back by the caller), and gives
     * back grown arrays: an adopted ring's state may stay reachable from guard mode's per-thread cache.
     */
    void clear() {
        inner = new long[INITIAL];
        user = new long[INITIAL];
        size = new long[INITIAL];
        head = 0;
        count = 0;
        bytes = 0;
        overBound = false;
    }

    /** The invariants above; null or the problem. */
    String check() {
        long sum = 0;
        for (int k = 0; k < count; k++) {
            if (innerAt(k) == 0 && sizeAt(k) != 0) {
                return "the quarantine's hole at its " + k + "-th oldest block has a size of " + sizeAt(k);
            }
            sum += sizeAt(k);
        }
        if (count < 0 || count > inner.length || sum != bytes) {
            return "the quarantine counts " + bytes + " bytes but holds " + count + " blocks of " + sum
                    + " in " + inner.length + " slots";
        }
        if (!overBound && over()) {
            return "the quarantine holds " + count + " blocks of " + bytes + " bytes, over its bounds of "
                    + maxBlocks + " blocks and " + maxBytes + " bytes";
        }
        return null;
    }
}
