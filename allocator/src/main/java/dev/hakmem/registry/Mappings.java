package dev.hakmem.registry;

import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.PageSource;
import dev.hakmem.jfr.Jfr;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/**
 * One tier's mappings and their bookkeeping, the same for SuperSlabs and big mappings: every reservation, commit,
 * decommit and release of a tier goes through here, which keeps the memory account, the registry and the set of
 * mapped regions in step.
 * <pre>
 *   reserve --> register --> (decommit --> commit)* --> release        or, at close, releaseAll
 *   tryMap      Registry      committed -/+              unregister, unmapped
 *   committed   all.add                                  all.remove, markReleased
 * </pre>
 * Each step either happens whole or leaves everything as it was, as {@link PageSource}'s contract lets it: a refused
 * reservation gives its share of the mapped limit back, a refused decommit leaves the memory committed, a refused
 * release leaves the region mapped and registered, to be retried. The tiers keep their own retained bytes and
 * caches; this class knows nothing of slabs or of the big cache. Each map, unmap and purge is also a JFR event
 * ({@code dev.hakmem.Mapping}, {@code dev.hakmem.Purge}).
 *
 * @param <R> the tier's kind of region
 */
public final class Mappings<R extends Region> {
    /** The heap's number and the tier's name ("superslab", "big"), for the JFR events. */
    private final int heapId;
    private final String kind;
    private final PageSource pages;
    private final MemoryAccount account;
    private final Events events;
    /**
     * Every region of the tier that is mapped, whatever its state: for stats, check and close. Each tier's check
     * reconciles it with its counts (see {@code SuperSlabPool.check}, {@code BigTier.check}).
     */
    private final Set<R> all = ConcurrentHashMap.newKeySet();

    public Mappings(int heapId, String kind, PageSource pages, MemoryAccount account, Events events) {
        this.heapId = heapId;
        this.kind = kind;
        this.pages = pages;
        this.account = account;
        this.events = events;
    }

    /**
     * Maps {@code span} bytes aligned to {@code alignment}, counted as mapped and committed, for a request of
     * {@code request} bytes; the caller builds its region there and {@link #register}s it. Throws
     * {@link HakMemOutOfMemoryError} naming the request and {@code what} when the mapped limit, the page source or
     * the registry's range refuses, with nothing left counted or mapped.
     */
    public long reserve(long span, long alignment, long request, String what) {
        if (!account.tryMap(span)) {
            throw new HakMemOutOfMemoryError(request, "the mapped limit of " + account.mappedLimit()
                    + " bytes is reached (" + account.mappedBytes() + " mapped)");
        }
        long base;
        try {
            base = pages.reserve(span, alignment);
        } catch (RuntimeException | Error e) {
            account.unmapped(span);
            throw new HakMemOutOfMemoryError(request, "the page source refused " + what + " aligned to " + alignment
                    + ": " + e, e);
        }
        // A page source is the program's to wrap: one that breaks its contract is refused before anything is built
        // over its memory, as the OS mapping out of the registry's reach is.
        boolean aligned = (base & (alignment - 1)) == 0;
        if (!aligned || !Registry.covers(base, span)) {
            pages.release(base, span);
            account.unmapped(span);
            throw new HakMemOutOfMemoryError(request, (aligned ? "the OS mapped " + what
                    + " beyond the 48-bit registry range" : "the page source mapped " + what + " at an address not"
                    + " aligned to " + alignment + " bytes, against its contract") + ": 0x" + Long.toHexString(base));
        }
        account.committed(span);
        Jfr.mapping(heapId, kind, true, base, span);
        return base;
    }

    /**
     * Publishes a region built over memory this tier reserved (or over a region it replaces, which
     * {@link #forget} then drops): from here on every address in it resolves to it.
     */
    public R register(R r) {
        all.add(r);
        Registry.register(r);
        return r;
    }

    /** A region replaced in the registry by its successor over the same memory leaves the set. */
    public void forget(R r) {
        all.remove(r);
    }

    /**
     * Makes {@code bytes} at {@code address} usable again, of which {@code decommitted} were given back before (the
     * rest is committed already, and committing it again is harmless). Throws {@link HakMemOutOfMemoryError} naming
     * {@code what} if the page source refuses; nothing is counted then.
     */
    public void commit(long address, long bytes, long decommitted, String what) {
        try {
            pages.commit(address, bytes);
        } catch (RuntimeException | Error e) {
            throw new HakMemOutOfMemoryError(bytes, "the page source refused to commit " + what + ": " + e, e);
        }
        account.committed(decommitted);
    }

    /**
     * Gives back the pages of a whole region of which {@code committedBytes} are committed, and counts a purge.
     * False if the page source refused: the memory stays committed, and a later purge tries again.
     */
    public boolean decommit(R r, long committedBytes) {
        return decommit(r.base, r.span, committedBytes);
    }

    /**
     * Gives back the pages of {@code bytes} at {@code address}, inside one of this tier's regions, of which
     * {@code committedBytes} are committed, and counts a purge. False if the page source refused: nothing changed.
     */
    public boolean decommit(long address, long bytes, long committedBytes) {
        try {
            pages.decommit(address, bytes);
        } catch (RuntimeException | Error e) {
            return false;
        }
        account.committed(-committedBytes);
        events.purges.increment();
        Jfr.purge(heapId, address, bytes);
        return true;
    }

    /**
     * Unmaps a region of which {@code committedBytes} are committed. Unregistered after the unmap: the free path reads
     * only Java metadata, never the memory itself. False if the page source refused: the region stays mapped,
     * registered and counted.
     */
    public boolean release(R r, long committedBytes) {
        try {
            pages.release(r.base, r.span);
        } catch (RuntimeException | Error e) {
            return false;
        }
        Registry.unregister(r);
        all.remove(r);
        r.markReleased();
        account.committed(-committedBytes);
        account.unmapped(r.span);
        Jfr.mapping(heapId, kind, false, r.base, r.span);
        return true;
    }

    /**
     * Close: unmaps every region, whatever its state, and calls {@code released} on each one the page source
     * unmapped. A region whose unmap failed leaves the registry and the set anyway (the heap is unusable after close)
     * but stays counted as mapped; its failure is collected, not thrown midway.
     */
    public List<Throwable> releaseAll(ToLongFunction<R> committedBytes, Consumer<R> released) {
        List<Throwable> failures = new ArrayList<>();
        for (R r : List.copyOf(all)) {
            try {
                pages.release(r.base, r.span);
                account.unmapped(r.span);
                account.committed(-committedBytes.applyAsLong(r));
                released.accept(r);
                Jfr.mapping(heapId, kind, false, r.base, r.span);
            } catch (RuntimeException | Error e) {
                failures.add(e);
            }
            Registry.unregister(r);
            all.remove(r);
            r.markReleased();
        }
        return failures;
    }

    /** Every mapped region (a concurrent set: iterating it while regions come and go is safe and racy). */
    public Iterable<R> all() {
        return all;
    }

    public int size() {
        return all.size();
    }

    public boolean contains(R r) {
        return all.contains(r);
    }
}
