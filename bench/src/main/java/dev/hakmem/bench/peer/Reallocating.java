package dev.hakmem.bench.peer;

/** A peer that can also resize a block the way C's {@code realloc} does; not every allocator can. */
public interface Reallocating extends NativeAllocator {

    /**
     * Resizes a block that {@link #malloc} or this method returned, keeping its contents up to the smaller size, and
     * returns its address, which may have changed; the old address is invalid afterwards unless it is the one
     * returned.
     */
    long realloc(long address, long newSize);
}
