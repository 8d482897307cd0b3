package dev.hakmem;

import dev.hakmem.core.Allocator;
import dev.hakmem.core.BlockArena;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * An off-heap memory allocator: Tiny slabs in 2 MiB SuperSlabs up to 1 KiB, Mid and Large pools up to 1 MiB, Big
 * mappings above, per-thread heaps with lock-free remote frees.
 *
 * <p>Every address this class returns is 16-byte aligned and stays valid until it is freed or the heap is closed.
 * Any address passed in is validated against the heap's own metadata before anything is done with it: a wrong one
 * raises {@link InvalidFreeException} or {@link DoubleFreeException} and leaves the heap intact.
 *
 * <p>Thread-safe: any thread may allocate and free any block; a block freed by a thread that does not own its slab
 * goes back through that slab's lock-free remote-free stack.
 */
public final class HakMem implements SegmentAllocator, AutoCloseable {

    private static final class Global {
        static final HakMem INSTANCE = new HakMem(HakMemConfig.fromSystem(), true);
    }

    private final Allocator allocator;
    private final boolean global;

    private HakMem(HakMemConfig config, boolean global) {
        this.allocator = new Allocator(config, global ? "global" : "heap");
        this.global = global;
    }

    /** The process-wide heap, configured from {@code hakmem.*} properties and {@code HAKMEM_*} variables. */
    public static HakMem global() {
        return Global.INSTANCE;
    }

    /** An independent heap; {@link #close()} gives all its memory back. */
    public static HakMem create(HakMemConfig config) {
        return new HakMem(config, false);
    }

    /** A heap with the default configuration. */
    public static HakMem create() {
        return create(HakMemConfig.defaults());
    }

    /** Allocates {@code size} bytes, 16-byte aligned; size 0 gives a unique minimal block. */
    public long malloc(long size) {
        return allocator.malloc(size);
    }

    /** Allocates {@code count * size} zeroed bytes; an overflowing product is an IllegalArgumentException. */
    public long calloc(long count, long size) {
        return allocator.calloc(count, size);
    }

    /** Allocates {@code size} bytes aligned to {@code alignment}, a power of two. */
    public long mallocAligned(long size, long alignment) {
        return allocator.mallocAligned(size, alignment);
    }

    /**
     * Resizes a block, in place while its size class still fits, else by moving its contents. Address 0 acts as
     * {@link #malloc}. The old address is invalid afterwards unless it is the one returned.
     */
    public long realloc(long address, long newSize) {
        return allocator.realloc(address, newSize);
    }

    /** Frees a block; 0 is a no-op. */
    public void free(long address) {
        allocator.free(address);
    }

    /** The number of bytes the block can hold, at least what was requested. */
    public long usableSize(long address) {
        return allocator.usableSize(address);
    }

    /** A block as a segment bounded to {@code byteSize}, alive until it is freed with {@link #free(MemorySegment)}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return MemorySegment.ofAddress(allocator.mallocAligned(byteSize, byteAlignment)).reinterpret(byteSize);
    }

    /** Frees a segment obtained from {@link #allocate}. */
    public void free(MemorySegment segment) {
        if (!segment.isNative()) {
            throw new InvalidFreeException(segment.address(), "a heap segment, not native memory");
        }
        allocator.free(segment.address());
    }

    /**
     * A confined arena whose segments come from this heap. Closing it frees them all and makes them inaccessible.
     */
    public Arena newArena() {
        return new BlockArena(allocator);
    }

    /** A snapshot of the heap's counters. */
    public HakMemStats stats() {
        return allocator.stats();
    }

    /**
     * Walks the whole heap and checks every slab's invariants (bitmaps, free lists, counters). Meant for a
     * quiescent heap: blocks being allocated or freed by other threads during the walk may be reported.
     *
     * @throws HeapCorruptionException naming the first inconsistency found
     */
    public void check() {
        allocator.check();
    }

    /** The configuration this heap was built with. */
    public HakMemConfig config() {
        return allocator.config();
    }

    /**
     * Gives every mapping back to the OS. Only for heaps from {@link #create}; no thread may use the heap during
     * or after the call (it then throws IllegalStateException).
     */
    @Override
    public void close() {
        if (global) {
            throw new UnsupportedOperationException("the global heap cannot be closed");
        }
        allocator.close();
    }

    @Override
    public String toString() {
        return "HakMem[" + allocator.name() + ", " + allocator.config() + "]";
    }
}
