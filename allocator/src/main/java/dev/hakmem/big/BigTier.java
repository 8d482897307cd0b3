package dev.hakmem.big;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.PageSource;
import dev.hakmem.os.Mem;
import dev.hakmem.registry.Registry;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Big tier, above the largest pool class: each block is its own mapping of whole 2 MiB chunks, 2 MiB-aligned
 * (or more, for larger alignments). Freed mappings wait in a cache keyed by size for reuse; after the purge delay
 * the maintenance thread gives their pages back with madvise in one batch, and beyond the retain budget the oldest
 * are unmapped. Big blocks are rare and large, so this tier locks.
 */
public final class BigTier {
    /** Larger requests are refused outright: no 48-bit address space could map them. */
    public static final long MAX_SIZE = 1L << 46;
    private static final long CHUNK = Registry.CHUNK;

    private final int heapId;
    private final PageSource pages;
    private final MemoryAccount account;
    private final Events events;
    private final long purgeDelayNanos;

    /** Cached mappings by span. Guarded by this. */
    private final TreeMap<Long, ArrayDeque<BigMapping>> cache = new TreeMap<>();
    /** The same mappings, oldest first, for eviction and purging. Guarded by this. */
    private final LinkedHashSet<BigMapping> cachedInOrder = new LinkedHashSet<>();
    /** Every mapping, allocated or cached: for close. */
    private final Set<BigMapping> all = ConcurrentHashMap.newKeySet();

    // Counts, guarded by this: malloc and free take the lock anyway, and a counter under it is a plain add where
    // an atomic one would be another locked instruction on every call.
    private long mallocs;
    private long frees;
    private long liveBlocks;
    private long liveBytes;

    public BigTier(int heapId, PageSource pages, MemoryAccount account, Events events, long purgeDelayMillis) {
        this.heapId = heapId;
        this.pages = pages;
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
        BigMapping m = alignment <= CHUNK ? fromCache(span) : null;
        boolean zero;
        if (m != null) {
            events.bigCacheHits.increment();
            zero = m.zero;
        } else {
            events.bigCacheMisses.increment();
            m = map(span, Math.max(CHUNK, alignment), size);
            zero = true;
        }
        if (zeroed && !zero) {
            Mem.fill(m.base, size, (byte) 0);
        }
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
                    pages.commit(m.base, m.span);
                } catch (RuntimeException | Error ex) {
                    putInCache(m);
                    return null;
                }
                m.decommitted = false;
                account.committed(m.span);
            }
            countMalloc(m);
        }
        m.setStateRelease(BigMapping.ALLOCATED);
        return m;
    }

    private BigMapping map(long span, long alignment, long request) {
        if (!account.tryMap(span)) {
            throw new HakMemOutOfMemoryError(request, "the mapped limit of " + account.mappedLimit()
                    + " bytes is reached (" + account.mappedBytes() + " mapped)");
        }
        long base;
        try {
            base = pages.reserve(span, alignment);
        } catch (RuntimeException | Error e) {
            account.unmapped(span);
            throw new HakMemOutOfMemoryError(request, "the page source refused " + span + " bytes: " + e, e);
        }
        if (!Registry.covers(base, span)) {
            pages.release(base, span);
            account.unmapped(span);
            throw new HakMemOutOfMemoryError(request, "the OS mapped beyond the 48-bit registry range");
        }
        BigMapping m = new BigMapping(heapId, base, span);
        account.committed(span);
        all.add(m);
        synchronized (this) {
            countMalloc(m);
        }
        Registry.register(m);
        return m;
    }

    /** Frees the block of mapping {@code m} at {@code address}: into the cache, or unmapped beyond the budget. */
    public void free(BigMapping m, long address) {
        checkStart(m, address);
        if (!m.casState(BigMapping.ALLOCATED, BigMapping.CACHED)) {
            throw new DoubleFreeException(address, "big block of " + m.span + " bytes is not allocated");
        }
        synchronized (this) {
            frees++;
            liveBlocks--;
            liveBytes -= m.span;
            m.zero = false;
            putInCache(m);
            trim();
        }
    }

    private void countMalloc(BigMapping m) {
        mallocs++;
        liveBlocks++;
        liveBytes += m.span;
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

    /** Visits the start of every allocated big block. */
    public void forEachLive(java.util.function.LongConsumer visitor) {
        for (BigMapping m : all) {
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
        unmapCached(true);
    }

    private void unmapCached(boolean everything) {
        Iterator<BigMapping> it = cachedInOrder.iterator();
        while ((everything || account.overRetainBudget()) && it.hasNext()) {
            BigMapping m = it.next();
            try {
                pages.release(m.base, m.span);
            } catch (RuntimeException | Error e) {
                continue;
            }
            it.remove();
            ArrayDeque<BigMapping> q = cache.get(m.span);
            q.remove(m);
            if (q.isEmpty()) {
                cache.remove(m.span);
            }
            Registry.unregister(m);
            all.remove(m);
            m.setStateRelease(BigMapping.RELEASED);
            account.retained(-m.span);
            account.committed(m.decommitted ? 0 : -m.span);
            account.unmapped(m.span);
        }
    }

    /** Maintenance: one batch of madvise over the mappings cached longer than the purge delay; then trims. */
    public synchronized void purge(long now) {
        for (BigMapping m : cachedInOrder) {
            if (!m.decommitted && now - m.cachedSince >= purgeDelayNanos) {
                try {
                    pages.decommit(m.base, m.span);
                } catch (RuntimeException | Error e) {
                    continue;
                }
                m.decommitted = true;
                m.zero = true;
                account.committed(-m.span);
                events.purges.increment();
            }
        }
        trim();
    }

    public synchronized long mallocs() {
        return mallocs;
    }

    public synchronized long frees() {
        return frees;
    }

    public synchronized long liveBlocks() {
        return liveBlocks;
    }

    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** Unmaps every mapping; failures are collected. */
    public List<Throwable> releaseAll() {
        List<Throwable> failures = new ArrayList<>();
        synchronized (this) {
            cache.clear();
            cachedInOrder.clear();
        }
        for (BigMapping m : List.copyOf(all)) {
            try {
                pages.release(m.base, m.span);
                account.unmapped(m.span);
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
            Registry.unregister(m);
            all.remove(m);
            m.setStateRelease(BigMapping.RELEASED);
        }
        return failures;
    }
}
