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
    private final long retainBudget;
    private final AtomicLong mapped = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
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
}
