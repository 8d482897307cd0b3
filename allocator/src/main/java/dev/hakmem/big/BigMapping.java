package dev.hakmem.big;

import dev.hakmem.registry.Region;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One Big block: a direct mapping of whole 2 MiB chunks, registered for every chunk it covers so that any address
 * inside it resolves to it (and an interior pointer is recognised as one).
 */
public final class BigMapping extends Region {
    static final int ALLOCATED = 0;
    static final int CACHED = 1;
    static final int RELEASED = 2;

    private static final VarHandle STATE;
    private static final VarHandle SAMPLED;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(BigMapping.class, "state", int.class);
            SAMPLED = MethodHandles.lookup().findVarHandle(BigMapping.class, "sampled", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private volatile int state;
    /**
     * 1 while the block is marked sampled (the profiler remembers it), else 0: a slab's count and mark in one (see
     * {@code Slab.sampled}, whose ordering argument applies unchanged). Quiescent, checked by the allocator's
     * {@code check()}: 1 exactly when the profiler remembers the allocated block.
     */
    @SuppressWarnings("unused")
    private volatile int sampled;

    // Guarded by the BigTier's lock, but for the free's write of zero = false: that comes before the mapping is
    // published to a cache (under the lock, or by a lock-free slot's CAS), which the malloc that takes it reads after.
    /** Reads as zero: fresh from the OS, or decommitted since last use. */
    boolean zero = true;
    boolean decommitted;
    long cachedSince;

    BigMapping(int heapId, long base, long span) {
        super(heapId, base, span);
    }

    /** 1 while the block is marked sampled: 0 on every free of a block that is not. */
    public int sampledOpaque() {
        return (int) SAMPLED.getOpaque(this);
    }

    /** The allocating thread, before it hands the block out: marks it sampled (a volatile store). */
    public void markSampled() {
        SAMPLED.setVolatile(this, 1);
    }

    /** Any thread about to free the block: clears its mark and returns whether it was set (one of racing frees). */
    public boolean unmarkSampled() {
        return sampledOpaque() != 0 && (int) SAMPLED.getAndSet(this, 0) != 0;
    }

    int stateVolatile() {
        return (int) STATE.getVolatile(this);
    }

    void setStateRelease(int s) {
        STATE.setRelease(this, s);
    }

    @Override
    protected void markReleased() {
        setStateRelease(RELEASED);
    }

    /** Volatile CAS: of two racing frees exactly one moves the block out of ALLOCATED. */
    boolean casState(int expected, int next) {
        return STATE.compareAndSet(this, expected, next);
    }
}
