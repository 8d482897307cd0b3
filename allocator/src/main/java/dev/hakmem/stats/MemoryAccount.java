package dev.hakmem.stats;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A heap's address-space accounting: bytes mapped (checked against the configured limit before each mapping),
 * bytes committed (mapped minus given back with madvise), and bytes retained while empty (pooled SuperSlabs and
 * cached big mappings, checked against the retain budget). Updated on slow paths, except retained, which the big
 * tier's lock-free slots update on every reuse: a LongAdder, so that threads doing so in parallel do not contend on
 * one counter.
 */
public final class MemoryAccount {
    private final long mappedLimit;
    /** Set by the policy in force; read by the slow paths that retain or trim. */
    private volatile long retainBudget;
    /**
     * Quiescent: == {@code SuperSlab.SIZE} x the pool's mapped SuperSlabs + the spans of the big tier's mappings
     * (allocated, cached or in a lock-free slot) + the sampled guard's chunk, once mapped. A reservation is counted
     * before its mapping and given back after its unmap, so between the two it may exceed that sum, never fall below
     * it.
     */
    private final AtomicLong mapped = new AtomicLong();
    /**
     * Quiescent: == the pool's {@code SuperSlab.committedBytes()} summed + the spans of the big mappings not
     * decommitted + the sampled guard's chunk. Reserved memory is committed (see {@code PageSource.reserve}).
     */
    private final AtomicLong committed = new AtomicLong();
    /**
     * Quiescent: == {@code SuperSlab.SIZE} x the pooled SuperSlabs + the spans of the cached big mappings (the locked
     * cache and the lock-free slots).
     */
    private final LongAdder retained = new LongAdder();

    public MemoryAccount(long mappedLimit, long retainBudget) {
        this.mappedLimit = mappedLimit;
        this.retainBudget = retainBudget;
    }

    /** Reserves {@code bytes} of the mapped limit before mapping; false if that would exceed it. */
    public boolean tryMap(long bytes) {
        long m;
        do {
            m = mapped.get();
            if (m + bytes > mappedLimit || m + bytes < 0) {
                return false;
            }
        } while (!mapped.compareAndSet(m, m + bytes));
        return true;
    }

    /** Gives back a reservation from {@link #tryMap} whose mapping failed or was released. */
    public void unmapped(long bytes) {
        mapped.addAndGet(-bytes);
    }

    public void committed(long delta) {
        committed.addAndGet(delta);
    }

    public void retained(long delta) {
        retained.add(delta);
    }

    public boolean overRetainBudget() {
        return retained.sum() > retainBudget;
    }

    public long retainBudget() {
        return retainBudget;
    }

    /** A new budget; the next purge trims what is retained beyond it. */
    public void setRetainBudget(long bytes) {
        retainBudget = bytes;
    }

    public long mappedBytes() {
        return mapped.get();
    }

    public long committedBytes() {
        return committed.get();
    }

    public long retainedBytes() {
        return retained.sum();
    }

    public long mappedLimit() {
        return mappedLimit;
    }

    /**
     * For {@code check()} on a quiescent heap: whether the counters equal what the structures hold, as each field's
     * comment states. Returns null, or the counters that drifted.
     */
    public String reconcile(Held held) {
        if (mapped.get() == held.mapped && committed.get() == held.committed && retained.sum() == held.retained) {
            return null;
        }
        return "the memory account drifted: it counts mapped " + mapped.get() + ", committed " + committed.get()
                + ", retained " + retained.sum() + " bytes, but the SuperSlabs, big mappings and sampled slots hold"
                + " mapped " + held.mapped + ", committed " + held.committed + ", retained " + held.retained;
    }

    /**
     * What the pool's and the big tier's structures and the sampled guard's chunk hold, summed by their checks for
     * {@link #reconcile}.
     */
    public static final class Held {
        public long mapped;
        public long committed;
        public long retained;
    }
}
