package dev.hakmem.registry;

/**
 * A range of address space that some heap mapped: a SuperSlab or a big mapping. Its geometry is final, so a reader
 * that found it through the {@link Registry} sees it fully built.
 */
public abstract class Region {
    /** Which heap mapped it (see {@code Allocator.id()}). */
    public final int heapId;
    /** First byte; 2 MiB-aligned. */
    public final long base;
    /** Bytes mapped. */
    public final long span;

    protected Region(int heapId, long base, long span) {
        if ((base & (Registry.CHUNK - 1)) != 0) {
            throw new IllegalArgumentException("region not chunk-aligned: 0x" + Long.toHexString(base));
        }
        this.heapId = heapId;
        this.base = base;
        this.span = span;
    }

    /** The region was unmapped and unregistered ({@link Mappings}): its state says so from here on. */
    protected abstract void markReleased();

    public final boolean contains(long address) {
        return address - base >= 0 && address - base < span;
    }
}
