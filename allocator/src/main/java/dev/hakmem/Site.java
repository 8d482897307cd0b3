package dev.hakmem;

import dev.hakmem.site.SiteState;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * An allocation site: a named place in the program whose blocks are profiled together, on the idea that the call
 * site is an implicit purpose label (the same site, the same sizes and lifetimes). Get one from
 * {@link HakMem#site(String)} or {@link HakMem#site()}, keep it, and allocate through it as through the heap; free
 * its blocks with {@link HakMem#free(long)} or {@link HakMem#free(MemorySegment)}.
 *
 * <pre>{@code
 *   private static final Site ROWS = HakMem.global().site("rows");
 *   long row = ROWS.malloc(256);
 *   ...
 *   HakMem.global().free(row);
 * }</pre>
 *
 * <p>Sampling profiles every site at the cost of a counter decrement per malloc ({@link SiteProfile} says how and
 * what). The policy in force may give the site a rule ({@link Policy.SiteRule}, from
 * {@code dev.hakmem.site.SiteRules}): a long-lived site allocates from a second heap of each thread, whose
 * SuperSlabs short-lived blocks never share, and a direct site maps its blocks above 64 KiB directly. Guard mode
 * checks a site's blocks like any other.
 */
public final class Site implements SegmentAllocator {
    private final HakMem heap;
    private final SiteState state;

    Site(HakMem heap, SiteState state) {
        this.heap = heap;
        this.state = state;
    }

    /**
     * The site's name, as given to {@link HakMem#site(String)} or made by {@link HakMem#site()}.
     *
     * @return the name, 1 to 512 characters
     */
    public String name() {
        return state.name();
    }

    /**
     * As {@link HakMem#malloc}, from this site.
     *
     * @param size the number of bytes, at least 0
     * @return the block's address, 16-byte aligned, never 0
     * @throws IllegalArgumentException when {@code size} is negative
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long malloc(long size) {
        return heap.malloc(state, size);
    }

    /**
     * As {@link HakMem#calloc}, from this site.
     *
     * @param count the number of elements, at least 0
     * @param size the size of an element in bytes, at least 0
     * @return the address of the zeroed block, 16-byte aligned, never 0
     * @throws IllegalArgumentException when an argument is negative or the product overflows
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long calloc(long count, long size) {
        return heap.calloc(state, count, size);
    }

    /** As {@link HakMem#allocate}, from this site: free the segment with {@link HakMem#free(MemorySegment)}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return HakMem.segment(heap.mallocAligned(state, byteSize, byteAlignment), byteSize);
    }

    /**
     * A snapshot of what sampling learned of this site's blocks.
     *
     * @return the site's profile as of this call
     */
    public SiteProfile profile() {
        return heap.profile(state);
    }

    @Override
    public String toString() {
        return "Site[" + name() + "]";
    }
}
