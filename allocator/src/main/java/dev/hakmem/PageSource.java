package dev.hakmem;

import dev.hakmem.os.PageSources;

/**
 * The seam through which all of a heap's memory comes from the operating system. The default is {@link #system()}:
 * mmap/madvise/munmap through FFM downcalls on Linux, a portable {@code Arena}-based fallback elsewhere. Wrap it to
 * inject faults or to account for memory.
 *
 * <p>Contract: any exception thrown by a method means the operation did not happen. The allocator turns a failed
 * {@code reserve} or {@code commit} into {@link HakMemOutOfMemoryError}, keeps memory whose {@code decommit}
 * failed as committed, and keeps a mapping whose {@code release} failed as mapped (retrying later).
 */
public interface PageSource {

    /**
     * Maps {@code size} bytes aligned to {@code alignment} (a power of two, at least the page size), readable and
     * writable. Fresh memory reads as zero.
     *
     * @param size      the number of bytes, above 0
     * @param alignment the alignment in bytes, a power of two, at least the page size
     * @return the address of the mapping, a multiple of {@code alignment}
     * @throws HakMemOutOfMemoryError or any other exception when the memory cannot be mapped
     */
    long reserve(long size, long alignment);

    /**
     * Makes a range inside a reservation usable again after {@link #decommit}.
     *
     * @param address the range's start, on a page boundary, inside a reservation
     * @param size    the range's length in bytes, whole pages
     */
    void commit(long address, long size);

    /**
     * Gives a range's physical pages back; the range stays reserved and reads as zero when next touched.
     *
     * @param address the range's start, on a page boundary, inside a reservation
     * @param size    the range's length in bytes, whole pages
     */
    void decommit(long address, long size);

    /**
     * Unmaps a whole reservation, exactly as {@link #reserve} returned it.
     *
     * @param address the address {@link #reserve} returned
     * @param size    the size it was called with
     */
    void release(long address, long size);

    /** {@return the page size this source works in, in bytes, a power of two} */
    long pageSize();

    /** {@return the best source for this platform} */
    static PageSource system() {
        return PageSources.system();
    }
}
