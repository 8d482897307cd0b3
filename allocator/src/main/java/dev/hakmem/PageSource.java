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
     * writable. Fresh memory reads as zero. Returns the address.
     */
    long reserve(long size, long alignment);

    /** Makes a range inside a reservation usable again after {@link #decommit}. */
    void commit(long address, long size);

    /** Gives a range's physical pages back; the range stays reserved and reads as zero when next touched. */
    void decommit(long address, long size);

    /** Unmaps a whole reservation, exactly as {@link #reserve} returned it. */
    void release(long address, long size);

    /** The page size this source works in. */
    long pageSize();

    /** The best source for this platform. */
    static PageSource system() {
        return PageSources.system();
    }
}
