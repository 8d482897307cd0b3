package dev.hakmem.guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Freed guarded blocks, poisoned, held first in first out before their memory is reused, bounded in bytes and in
 * count. A write after free lands in a quarantined block and is found when it leaves (or by a heap check).
 */
final class Quarantine {
    private static final int MAX_BLOCKS = 1 << 16;

    record Entry(long inner, long user, long size) {
    }

    private final long maxBytes;
    /** Guarded by this. */
    private final ArrayDeque<Entry> fifo = new ArrayDeque<>();
    private long bytes;

    Quarantine(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Adds a block without making room: the bound may be exceeded until the next {@link #add}. */
    synchronized void addWithoutEviction(Entry e) {
        fifo.addLast(e);
        bytes += e.size();
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
        while (!fifo.isEmpty() && (bytes > maxBytes || fifo.size() > MAX_BLOCKS)) {
            Entry old = fifo.pollFirst();
            bytes -= old.size();
            if (out.isEmpty()) {
                out = new ArrayList<>();
            }
            out.add(old);
        }
        return out;
    }

    /** Close: forgets every block (their memory is about to be unmapped). */
    synchronized void clear() {
        fifo.clear();
        bytes = 0;
    }

    synchronized List<Entry> snapshot() {
        return List.copyOf(fifo);
    }
}
