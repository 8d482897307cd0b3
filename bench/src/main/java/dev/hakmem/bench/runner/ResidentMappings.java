package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemException;
import dev.hakmem.PageSource;
import dev.hakmem.big.BigMapping;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.registry.Region;
import dev.hakmem.registry.Registry;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.tiny.TinyClasses;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A page source that knows every mapping a heap holds and which of its pages are resident
 * ({@code hakmem profile --memory}): it passes every call to the system's source, remembers each reservation until its
 * release, and asks the source to {@link PageSource#trackResidency track its residency} (mincore) from the start.
 * {@link #resident} then splits the resident bytes of all the live reservations by what the allocator keeps there,
 * read from the process-wide {@link Registry} (read-only: the region at a reservation's base, and for a SuperSlab the
 * slab in each slot), not from the heap's own bookkeeping, so that a heap whose counts were wrong could not make its
 * split agree with them:
 * <pre>
 *   SuperSlab, OWNED/ABANDONED ... slot holding a slab  -> "slab TINY|MID|LARGE &lt;block size&gt;"
 *                              ... slot with no slab    -> {@value #FREE_SLOTS}  (dirty pages awaiting the purge)
 *   SuperSlab, POOLED                                   -> {@value #POOLED}
 *   BigMapping, allocated / cached                      -> {@value #BIG_LIVE} / {@value #BIG_CACHED}
 *   another region (the sampled guard's slots)          -> {@value #OTHER}
 *   no region yet (between reserve and register)        -> {@value #UNREGISTERED}
 * </pre>
 * On Linux tracking residency also sets MADV_NOHUGEPAGE on the reservation: that changes nothing where transparent
 * huge pages are "madvise" or "never" (hakmem never asks for huge pages), but under "always" the profiled heap would
 * not get the huge pages the bench's does; the profile prints the machine's setting.
 */
final class ResidentMappings implements PageSource {
    static final String SLAB = "slab ";
    static final String FREE_SLOTS = "superslab free slots";
    static final String POOLED = "superslabs pooled";
    static final String BIG_LIVE = "big live";
    static final String BIG_CACHED = "big cached";
    static final String OTHER = "other regions";
    static final String UNREGISTERED = "unregistered";

    private final PageSource pages;
    /** The live reservations: base to size, from the return of reserve to that of release. */
    private final Map<Long, Long> reservations = new ConcurrentHashMap<>();

    ResidentMappings(PageSource pages) {
        this.pages = pages;
    }

    /** Reserves, and starts tracking the whole reservation's residency; releases it again if that fails. */
    @Override
    public long reserve(long size, long alignment) {
        long base = pages.reserve(size, alignment);
        boolean tracked;
        try {
            tracked = pages.trackResidency(base, size);
        } catch (RuntimeException | Error e) {
            pages.release(base, size);
            throw e;
        }
        if (!tracked) {
            pages.release(base, size);
            throw new UnsupportedOperationException(pages + " cannot tell which pages are resident: no memory"
                    + " profile on it");
        }
        reservations.put(base, size);
        return base;
    }

    @Override
    public void commit(long address, long size) {
        pages.commit(address, size);
    }

    @Override
    public void decommit(long address, long size) {
        pages.decommit(address, size);
    }

    @Override
    public void release(long address, long size) {
        pages.release(address, size);
        reservations.remove(address);
    }

    @Override
    public boolean trackResidency(long address, long size) {
        return pages.trackResidency(address, size);
    }

    @Override
    public void residency(long address, long size, byte[] resident) {
        pages.residency(address, size, resident);
    }

    @Override
    public long pageSize() {
        return pages.pageSize();
    }

    /**
     * The resident bytes of every live reservation of {@code heap}, by part (see the class comment). A reservation
     * released while it is read (mincore then fails on it) counts for nothing: it is no longer resident.
     */
    Map<String, Long> resident(HakMem heap) {
        Map<String, Long> parts = new TreeMap<>();
        long page = pages.pageSize();
        for (Map.Entry<Long, Long> r : reservations.entrySet()) {
            long base = r.getKey();
            long size = r.getValue();
            byte[] resident = new byte[(int) (size / page)];
            try {
                pages.residency(base, size, resident);
            } catch (RuntimeException e) {
                continue;
            }
            Region region = Registry.lookup(base);
            if (region instanceof SuperSlab ss && ss.base == base) {
                boolean pooled = ss.stateVolatile() == SuperSlab.POOLED;
                int pagesPerSlot = (int) (ss.slotBytes() / page);
                for (int slot = 0; slot < ss.slots; slot++) {
                    Slab slab = ss.slabAcquire(slot);
                    String part = pooled ? POOLED : slab == null ? FREE_SLOTS : slabPart(slab.blockSize);
                    parts.merge(part, page * count(resident, slot * pagesPerSlot, pagesPerSlot), Long::sum);
                }
            } else {
                String part = region == null || region.base != base ? UNREGISTERED
                        : region instanceof BigMapping ? (live(heap, base) ? BIG_LIVE : BIG_CACHED) : OTHER;
                parts.merge(part, page * count(resident, 0, resident.length), Long::sum);
            }
        }
        return parts;
    }

    /** {@code "slab TINY 64"}: the tier and block size of a slab's class. */
    static String slabPart(int blockSize) {
        String tier = blockSize <= TinyClasses.MAX ? "TINY" : blockSize <= PoolClasses.MID_MAX ? "MID" : "LARGE";
        return SLAB + tier + " " + blockSize;
    }

    /**
     * Whether the big mapping at {@code base} holds an allocated block: the public {@link HakMem#usableSize} answers
     * for an allocated one and throws for a cached one, which keeps the allocator free of a hook for this.
     */
    private static boolean live(HakMem heap, long base) {
        try {
            heap.usableSize(base);
            return true;
        } catch (HakMemException e) {
            return false;
        }
    }

    private static long count(byte[] resident, int from, int length) {
        long n = 0;
        for (int i = from; i < from + length; i++) {
            n += resident[i];
        }
        return n;
    }
}
