package dev.hakmem.big;

import dev.hakmem.registry.Region;
import dev.hakmem.site.Profiler;
import dev.hakmem.site.SiteState;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One Big block: a direct mapping of whole 2 MiB chunks, registered for every chunk it covers so that any address
 * inside it resolves to it (and an interior pointer is recognised as one). A sampled block keeps its sample here
 * (site, birth, thread), not in the profiler's table: a big block is its own mapping, so the room is there already,
 * and its sampled malloc and free skip the table's probe, its bound and the lock of a stripe other threads share
 * ({@link Profiler#sampledBig}; issue 11).
 */
public final class BigMapping extends Region implements Profiler.SampleHolder {
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
     * 1 while the block is marked sampled (it keeps a sample the profiler counts as remembered), else 0: a slab's
     * count and mark in one (see {@code Slab.sampled}, whose ordering argument applies unchanged; {@link #markSampled}). Checked by
     * {@link BigTier#check}: only an allocated block is marked; quiescent, by the profiler's {@code check()}: each
     * site's remembered blocks are the table's and the marked mappings' of that site.
     */
    @SuppressWarnings("unused")
    private volatile int sampled;
    // The sample the block keeps while marked. NOTE: plain: written by the allocating thread before markSampled's
    // release store of the mark, which publishes them; read by the free whose getAndSet cleared that mark (it read
    // the store), or by a walk after an acquire load of the mark. A mapping is marked again only once allocated again,
    // after the free that read them gave it back.
    private SiteState sampleSite;
    private long sampleBorn;
    private long sampleThread;

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

    /** 1 while the block is marked sampled, read before its sample ({@link BigTier#forEachSampled}). */
    int sampledAcquire() {
        return (int) SAMPLED.getAcquire(this);
    }

    /**
     * The allocating thread, before it hands the block out: keeps the sample and marks it. NOTE: a release store is
     * enough (a volatile one added a full fence to every sampled malloc): the free that clears the mark happens-after
     * it (the program passed the block on), a walk reads the mark with acquire, and the mark's last clear, by the
     * block's previous free, happened-before this malloc took the mapping (the cache's lock or a slot's CAS).
     */
    @Override
    public void markSampled(SiteState site, long born, long thread) {
        sampleSite = site;
        sampleBorn = born;
        sampleThread = thread;
        SAMPLED.setRelease(this, 1);
    }

    @Override
    public SiteState sampleSite() {
        return sampleSite;
    }

    @Override
    public long sampleBorn() {
        return sampleBorn;
    }

    @Override
    public long sampleThread() {
        return sampleThread;
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
