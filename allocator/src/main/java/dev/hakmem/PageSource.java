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

    /**
     * Prepares a range of a reservation for {@link #residency} and says whether this source can report it: which of
     * the range's pages were touched since they were reserved or {@link #decommit decommitted}. The sampled guard
     * gives a freed slot's page back and later asks whether anything touched it. On Linux this also keeps the kernel
     * from backing the range with huge pages (MADV_NOHUGEPAGE), which would make every page of it resident at once.
     *
     * @param address the range's start, on a page boundary, inside a reservation
     * @param size    the range's length in bytes, whole pages
     * @return false (the default) when this source cannot tell: {@link #residency} must then not be called
     */
    default boolean trackResidency(long address, long size) {
        return false;
    }

    /**
     * Writes into {@code resident[0 .. size / pageSize())} whether each page of a range {@link #trackResidency}
     * accepted is in memory (1) or not (0). A page that was decommitted and not touched since is not; a page read or
     * written since is. An exception means nothing was written.
     *
     * @param address  the range's start, on a page boundary
     * @param size     the range's length in bytes, whole pages
     * @param resident where to write, at least one byte per page
     */
    default void residency(long address, long size, byte[] resident) {
        throw new UnsupportedOperationException(this + " cannot tell which pages are resident");
    }

    /**
     * Whether {@link #protect} works here: the sampled guard's optional guard pages need it
     * ({@link GuardOptions#withGuardPages}).
     *
     * @return false (the default) when this source cannot change a range's access
     */
    default boolean canProtect() {
        return false;
    }

    /**
     * Makes a range of a reservation inaccessible, so that any access to it faults (in a JVM: a crash, with an
     * hs_err report naming the address), or readable and writable again. Only the sampled guard's optional guard
     * pages call it, and only where {@link #canProtect} said yes. An exception means the access did not change.
     *
     * @param address    the range's start, on a page boundary, inside a reservation
     * @param size       the range's length in bytes, whole pages
     * @param accessible true: readable and writable; false: no access
     */
    default void protect(long address, long size, boolean accessible) {
        throw new UnsupportedOperationException(this + " cannot protect pages");
    }

    /** {@return the page size this source works in, in bytes, a power of two} */
    long pageSize();

    /** {@return the best source for this platform} */
    static PageSource system() {
        return PageSources.system();
    }
}
