package dev.hakmem.stats;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A heap's address-space accounting: bytes mapped (checked against the configured limit before each mapping),
 * bytes committed (mapped minus given back with madvise), and bytes retained while empty (pooled SuperSlabs and
 * cached big mappings, checked against the retain budget). Updated on slow paths only.
 */
public final class MemoryAccount {
    private final long mappedLimit;
    private final long retainBudget;
    private final AtomicLong mapped = new AtomicLong();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicLong retained = new AtomicLong();

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
        retained.addAndGet(delta);
    }

    public boolean overRetainBudget() {
        return retained.get() > retainBudget;
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
        return retained.get();
    }

    public long mappedLimit() {
        return mappedLimit;
    }
}
