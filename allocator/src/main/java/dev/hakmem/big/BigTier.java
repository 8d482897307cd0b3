package dev.hakmem.big;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.PageSource;
import dev.hakmem.os.Mem;
import dev.hakmem.registry.Mappings;
import dev.hakmem.registry.Registry;
import dev.hakmem.site.Profiler;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Big tier, above the largest pool class: each block is its own mapping of whole 2 MiB chunks, 2 MiB-aligned
 * (or more, for larger alignments). Freed mappings wait in a cache keyed by size for reuse; after the purge delay
 * the maintenance thread gives their pages back with madvise in one batch, and beyond the retain budget the oldest
 * are unmapped. That cache is under a lock; in front of it a few lock-free slots hand recently freed mappings of up
 * to 4 MiB straight to the next malloc of the same span (see {@link #recent}). Mapping, committing, purging and
 * unmapping go through {@link Mappings}, the one bookkeeping the SuperSlab pool uses too.
 */
public final class BigTier {
    /** Larger requests are refused outright: no 48-bit address space could map them. */
    public static final long MAX_SIZE = 1L << 46;
    private static final long CHUNK = Registry.CHUNK;
    /** Spans of 1 to RECENT_SPANS chunks have lock-free slots, RECENT_WAYS per span. */
    private static final int RECENT_SPANS = 2;
    private static final int RECENT_WAYS = 2;
    /** Slots are this many array elements apart (64 bytes or more), so that threads on different ways share no line. */
    private static final int RECENT_STRIDE = 16;
    /** The slots are used only under a retain budget of four times what they can hold (see {@link #recent}). */
    private static final long RECENT_MIN_BUDGET = 4 * RECENT_WAYS * CHUNK * RECENT_SPANS * (RECENT_SPANS + 1) / 2;

    private final int heapId;
    private final MemoryAccount account;
    private final Events events;
    /** Set by the policy in force; read by maintenance. */
    private volatile long purgeDelayNanos;

    /** Cached mappings by span. Guarded by this. */
    private final TreeMap<Long, ArrayDeque<BigMapping>> cache = new TreeMap<>();
    /** The same mappings, oldest first, for eviction and purging. Guarded by this. */
    private final LinkedHashSet<BigMapping> cachedInOrder = new LinkedHashSet<>();
    /** Every mapping, allocated or cached, with their bookkeeping. */
    private final Mappings<BigMapping> mappings;
    /**
     * Recently freed mappings, passed from a free to a malloc of the same span without the lock: slot
     * {@code ((chunks - 1) * RECENT_WAYS + way) * RECENT_STRIDE}; a thread starts at the way its id picks, so two
     * threads in a malloc/free loop mostly pass mappings to themselves. Two threads that each malloc and free a big block in a loop queued on
     * the lock, whose critical section (the sorted cache, the age order, the clock) is long enough to make them park:
     * 2 threads ran 6 times slower than one. A mapping in a slot is CACHED, committed, not zero, counted as retained,
     * and in no other cache structure. The maintenance thread moves the slots' mappings into the locked cache each
     * tick, so the purge delay and the retain budget apply to them too, one tick late at most: the slots hold 12 MiB
     * at most, and are used only when the budget is at least four times that (the default, 64 MiB, is), so that a
     * small budget is kept exactly. Slots change only by
     * CAS: the free's CAS (volatile, so a release) publishes the mapping's fields to the malloc whose CAS takes it.
     */
    private final AtomicReferenceArray<BigMapping> recent =
            new AtomicReferenceArray<>(RECENT_SPANS * RECENT_WAYS * RECENT_STRIDE);

    // Quiescent, checked by check(): mallocs - frees == the mappings in `all` that are ALLOCATED, and liveBytes ==
    // their spans summed; bigCacheHits + bigCacheMisses == mallocs (a miss is counted once its mapping exists).
    private final LongAdder mallocs = new LongAdder();
    private final LongAdder frees = new LongAdder();
    private final LongAdder liveBytes = new LongAdder();

    public BigTier(int heapId, PageSource pages, MemoryAccount account, Events events, long purgeDelayMillis) {
        this.heapId = heapId;
        this.mappings = new Mappings<>(heapId, "big", pages, account, events);
        this.account = account;
        this.events = events;
        this.purgeDelayNanos = purgeDelayMillis * 1_000_000L;
    }

    /** A block of at least {@code size} bytes aligned to {@code alignment}; zeroed on request. */
    public long malloc(long size, long alignment, boolean zeroed) {
        if (size > MAX_SIZE) {
            throw new HakMemOutOfMemoryError(size, "larger than the largest possible mapping (" + MAX_SIZE + ")");
        }
        long span = (size + CHUNK - 1) & -CHUNK;
        BigMapping m = null;
        if (alignment <= CHUNK) {
            m = takeRecent(span);
            if (m == null) {
                m = fromCache(span);
            }
        }
        boolean zero;
        if (m != null) {
            events.bigCacheHits.increment();
            zero = m.zero;
        } else {
            m = map(span, Math.max(CHUNK, alignment), size);
            events.bigCacheMisses.increment();
            zero = true;
        }
        if (zeroed && !zero) {
            Mem.fill(m.base, size, (byte) 0);
        }
        mallocs.increment();
        liveBytes.add(m.span);
        return m.base;
    }

    /** A cached mapping of {@code span} up to 1.25 x span bytes, made usable again, or null. */
    private BigMapping fromCache(long span) {
        BigMapping m;
        synchronized (this) {
            var e = cache.ceilingEntry(span);
            if (e == null || e.getKey() > span + span / 4) {
                return null;
            }
            m = e.getValue().pollFirst();
            if (e.getValue().isEmpty()) {
                cache.remove(e.getKey());
            }
            cachedInOrder.remove(m);
            account.retained(-m.span);
            if (m.decommitted) {
                try {
                    mappings.commit(m.base, m.span, m.span, "a cached big mapping");
                } catch (HakMemOutOfMemoryError ex) {
                    putInCache(m);
                    return null;
                }
                m.decommitted = false;
            }
        }
        m.setStateRelease(BigMapping.ALLOCATED);
        return m;
    }

    private BigMapping map(long span, long alignment, long request) {
        long base = mappings.reserve(span, alignment, request, span + " bytes");
        return mappings.register(new BigMapping(heapId, base, span));
    }

    /** Frees the block of mapping {@code m} at {@code address}: into the cache, or unmapped beyond the budget. */
    public void free(BigMapping m, long address) {
        checkStart(m, address);
        if (!m.casState(BigMapping.ALLOCATED, BigMapping.CACHED)) {
            throw new DoubleFreeException(address, "big block of " + m.span + " bytes is not allocated");
        }
        frees.increment();
        liveBytes.add(-m.span);
        m.zero = false;
        if (putRecent(m)) {
            return;
        }
        synchronized (this) {
            putInCache(m);
            trim();
        }
    }

    /** A mapping of exactly {@code span} from the lock-free slots, made ALLOCATED, or null. */
    private BigMapping takeRecent(long span) {
        int first = recentSlot(span);
        for (int k = 0; first >= 0 && k < RECENT_WAYS; k++) {
            int i = way(first, k);
            BigMapping m = recent.get(i);
            if (m != null && recent.compareAndSet(i, m, null)) {
                account.retained(-m.span);
                m.setStateRelease(BigMapping.ALLOCATED);
                return m;
            }
        }
        return null;
    }

    /** Parks a just-freed mapping in a free lock-free slot of its span; false if there is none. */
    private boolean putRecent(BigMapping m) {
        int first = recentSlot(m.span);
        for (int k = 0; first >= 0 && k < RECENT_WAYS; k++) {
            int i = way(first, k);
            if (recent.get(i) == null && recent.compareAndSet(i, null, m)) {
                account.retained(m.span);
                return true;
            }
        }
        return false;
    }

    /** The way of a span's slots for a thread's {@code k}-th try, as an index into {@link #recent}. */
    private static int way(int first, int k) {
        int w = (int) ((Thread.currentThread().threadId() + k) % RECENT_WAYS);
        return (first + w) * RECENT_STRIDE;
    }

    /** The first way of the slots for mappings of {@code span}, or -1 if that span has none. */
    private int recentSlot(long span) {
        long chunks = span / CHUNK;
        return chunks <= RECENT_SPANS && account.retainBudget() >= RECENT_MIN_BUDGET ? (int) (chunks - 1) * RECENT_WAYS : -1;
    }

    /** Under the lock: moves the lock-free slots' mappings into the cache, where purge and trim see them. */
    private void drainRecent() {
        for (int i = 0; i < recent.length(); i++) {
            BigMapping m = recent.getAndSet(i, null);
            if (m != null) {
                account.retained(-m.span);
                putInCache(m);
            }
        }
    }

    private void putInCache(BigMapping m) {
        m.cachedSince = System.nanoTime();
        cache.computeIfAbsent(m.span, k -> new ArrayDeque<>()).addFirst(m);
        cachedInOrder.add(m);
        account.retained(m.span);
    }

    /** The usable size of the block at {@code address}, which must be the start of an allocated mapping. */
    public long usableSize(BigMapping m, long address) {
        checkStart(m, address);
        checkLive(m, address);
        return m.span;
    }

    /** Throws unless the mapping holds an allocated block. */
    public void checkLive(BigMapping m, long address) {
        if (m.stateVolatile() != BigMapping.ALLOCATED) {
            throw new DoubleFreeException(address, "big block 0x" + Long.toHexString(m.base) + " of " + m.span
                    + " bytes was freed");
        }
    }

    /**
     * Visits every big block marked sampled, with the sample it keeps ({@link BigMapping#markSampled}): the profiler's
     * walk of the samples held outside its table (racy; exact when quiescent).
     */
    public void forEachSampled(Profiler.Visitor visitor) {
        for (BigMapping m : mappings.all()) {
            if (m.sampledAcquire() != 0) {
                visitor.visit(m.base, m.sampleSite(), m.sampleBorn(), m.sampleThread());
            }
        }
    }

    /** The heap closes: every allocated block's mark is cleared, and its sample goes without a lifetime. */
    public void loseSampled(Profiler profiler) {
        for (BigMapping m : mappings.all()) {
            if (m.unmarkSampled()) {
                profiler.lostBig(m);
            }
        }
    }

    /** Visits the start of every allocated big block. */
    public void forEachLive(java.util.function.LongConsumer visitor) {
        for (BigMapping m : mappings.all()) {
            if (m.stateVolatile() == BigMapping.ALLOCATED) {
                visitor.accept(m.base);
            }
        }
    }

    private static void checkStart(BigMapping m, long address) {
        if (address != m.base) {
            throw new InvalidFreeException(address, "interior pointer: " + (address - m.base)
                    + " bytes into a big block of " + m.span + " bytes at 0x" + Long.toHexString(m.base));
        }
    }

    /** Unmaps the oldest cached mappings while more than the retain budget is kept. */
    private void trim() {
        unmapCached(false);
    }

    /** Under memory pressure: unmaps every cached mapping, whatever the budget. */
    public synchronized void releaseCached() {
        drainRecent();
        unmapCached(true);
    }

    private void unmapCached(boolean everything) {
        Iterator<BigMapping> it = cachedInOrder.iterator();
        while ((everything || account.overRetainBudget()) && it.hasNext()) {
            BigMapping m = it.next();
            if (!mappings.release(m, committedBytes(m))) {
                continue;
            }
            it.remove();
            ArrayDeque<BigMapping> q = cache.get(m.span);
            q.remove(m);
            if (q.isEmpty()) {
                cache.remove(m.span);
            }
            account.retained(-m.span);
        }
    }

    private static long committedBytes(BigMapping m) {
        return m.decommitted ? 0 : m.span;
    }

    /** A new purge delay, applied from the next purge on to every cached mapping, by how long it has waited. */
    public void setPurgeDelayMillis(long millis) {
        purgeDelayNanos = millis * 1_000_000L;
    }

    public long purgeDelayMillis() {
        return purgeDelayNanos / 1_000_000L;
    }

    /** Maintenance: one batch of madvise over the mappings cached longer than the purge delay; then trims. */
    public synchronized void purge(long now) {
        drainRecent();
        for (BigMapping m : cachedInOrder) {
            if (!m.decommitted && now - m.cachedSince >= purgeDelayNanos && mappings.decommit(m, m.span)) {
                m.decommitted = true;
                m.zero = true;
            }
        }
        trim();
    }

    public long mallocs() {
        return mallocs.sum();
    }

    public long frees() {
        return frees.sum();
    }

    /** Racy while blocks come and go, exact when the tier is quiescent. */
    public long liveBlocks() {
        return mallocs.sum() - frees.sum();
    }

    public long liveBytes() {
        return liveBytes.sum();
    }

    /**
     * For {@code check()} on a quiescent heap (the caller holds off maintenance): reconciles the counters with the
     * mappings, and checks that every cached mapping is CACHED and in exactly one cache structure, and that only an
     * allocated block is marked sampled (a mark on a freed one is a sample whose free was never told). Adds what the
     * mappings hold to {@code held}. Returns null, or the problem.
     */
    public synchronized String check(MemoryAccount.Held held) {
        long allocated = 0;
        long allocatedBytes = 0;
        long cachedBytes = 0;
        for (BigMapping m : mappings.all()) {
            held.mapped += m.span;
            held.committed += committedBytes(m);
            if (m.sampledOpaque() != 0 && m.stateVolatile() != BigMapping.ALLOCATED) {
                return describe(m) + " is marked sampled but not allocated";
            }
            switch (m.stateVolatile()) {
                case BigMapping.ALLOCATED -> {
                    allocated++;
                    allocatedBytes += m.span;
                }
                case BigMapping.CACHED -> cachedBytes += m.span;
                default -> {
                    return describe(m) + " is released but still in the tier";
                }
            }
        }
        long retainedBytes = 0;
        for (BigMapping m : cachedInOrder) {
            if (m.stateVolatile() != BigMapping.CACHED || !mappings.contains(m)) {
                return describe(m) + " is in the cache but not a cached mapping of the tier";
            }
            retainedBytes += m.span;
        }
        int queued = 0;
        for (ArrayDeque<BigMapping> q : cache.values()) {
            queued += q.size();
        }
        if (queued != cachedInOrder.size()) {
            return "the cache by span holds " + queued + " mappings, its age order " + cachedInOrder.size();
        }
        for (int i = 0; i < recent.length(); i++) {
            BigMapping m = recent.get(i);
            if (m != null) {
                if (m.stateVolatile() != BigMapping.CACHED || m.decommitted || cachedInOrder.contains(m)
                        || !mappings.contains(m)) {
                    return describe(m) + " is in a lock-free slot but not a committed mapping in no other cache";
                }
                retainedBytes += m.span;
            }
        }
        held.retained += retainedBytes;
        if (retainedBytes != cachedBytes) {
            return "cached big mappings span " + cachedBytes + " bytes but the cache and its slots hold "
                    + retainedBytes;
        }
        long m = mallocs.sum();
        long f = frees.sum();
        if (m - f != allocated || liveBytes.sum() != allocatedBytes) {
            return "big tier counts " + m + " mallocs - " + f + " frees, " + liveBytes.sum() + " live bytes, but "
                    + allocated + " mappings of " + allocatedBytes + " bytes are allocated";
        }
        long served = events.bigCacheHits.sum() + events.bigCacheMisses.sum();
        return served == m ? null : "big cache hits + misses = " + served + " but the tier counts " + m + " mallocs";
    }

    private static String describe(BigMapping m) {
        return "big mapping 0x" + Long.toHexString(m.base) + " of " + m.span + " bytes (state " + m.stateVolatile()
                + ")";
    }

    /**
     * Unmaps every mapping; failures are collected. A block still allocated counts as freed here, and every mapping
     * leaves the committed and retained bytes, so a closed heap's stats show nothing live, committed or mapped.
     */
    public List<Throwable> releaseAll() {
        synchronized (this) {
            drainRecent();
            for (BigMapping m : cachedInOrder) {
                account.retained(-m.span);
            }
            cache.clear();
            cachedInOrder.clear();
        }
        for (BigMapping m : mappings.all()) {
            if (m.stateVolatile() == BigMapping.ALLOCATED) {
                frees.increment();
                liveBytes.add(-m.span);
            }
        }
        return mappings.releaseAll(BigTier::committedBytes, m -> { });
    }
}
