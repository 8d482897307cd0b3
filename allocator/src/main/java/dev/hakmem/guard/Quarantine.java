package dev.hakmem.guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Freed guarded blocks, poisoned, held first in first out before their memory is reused, bounded in bytes and in
 * count. A write after free lands in a quarantined block and is found when it leaves (or by a heap check).
 *
 * <p>Invariants (all guarded by this, checked by {@link #check}): {@code bytes} is the sum of the held blocks'
 * sizes; after {@link #add} the quarantine holds at most {@code maxBytes} bytes and {@code maxBlocks} blocks, the
 * newest ones, having let go of the fewest oldest blocks that achieve it; only {@link #addWithoutEviction} may leave
 * it above a bound ({@code overBound}), until the next add.
 */
final class Quarantine {
    static final int MAX_BLOCKS = 1 << 16;

    record Entry(long inner, long user, long size) {
    }

    private final long maxBytes;
    private final int maxBlocks;
    private final ArrayDeque<Entry> fifo = new ArrayDeque<>();
    /** The sizes of the blocks in {@link #fifo}, summed: checked by {@link #check}. Guarded by this. */
    private long bytes;
    /** Set by {@link #addWithoutEviction}, cleared by the next {@link #add}: the bounds may be exceeded meanwhile. */
    private boolean overBound;

    Quarantine(long maxBytes, int maxBlocks) {
        this.maxBytes = maxBytes;
        this.maxBlocks = maxBlocks;
    }

    /** Adds a block without making room: the bound may be exceeded until the next {@link #add}. */
    synchronized void addWithoutEviction(Entry e) {
        fifo.addLast(e);
        bytes += e.size();
        overBound = true;
    }

    /** Takes out a block found corrupted, so it is reported once and never reused. */
    synchronized boolean remove(Entry e) {
        if (fifo.remove(e)) {
            bytes -= e.size();
            return true;
        }
        return false;
    }

    /** Adds a block; returns the blocks that leave to make room, oldest first. */
    synchronized List<Entry> add(Entry e) {
        fifo.addLast(e);
        bytes += e.size();
        List<Entry> out = List.of();
        while (!fifo.isEmpty() && (bytes > maxBytes || fifo.size() > maxBlocks)) {
            Entry old = fifo.pollFirst();
            bytes -= old.size();
            if (out.isEmpty()) {
                out = new ArrayList<>();
            }
            out.add(old);
        }
        overBound = false;
        return out;
    }

    /** Close: forgets every block (their memory is about to be unmapped). */
    synchronized void clear() {
        fifo.clear();
        bytes = 0;
        overBound = false;
    }

    /** The invariants above; null or the problem. */
    synchronized String check() {
        long sum = 0;
        for (Entry e : fifo) {
            sum += e.size();
        }
        if (sum != bytes) {
            return "the quarantine counts " + bytes + " bytes but holds " + fifo.size() + " blocks of " + sum;
        }
        if (!overBound && (bytes > maxBytes || fifo.size() > maxBlocks)) {
            return "the quarantine holds " + fifo.size() + " blocks of " + bytes + " bytes, over its bounds of "
                    + maxBlocks + " blocks and " + maxBytes + " bytes";
        }
        return null;
    }

    synchronized List<Entry> snapshot() {
        return List.copyOf(fifo);
    }
}
