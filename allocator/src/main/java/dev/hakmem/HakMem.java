package dev.hakmem;

import dev.hakmem.core.Allocator;
import dev.hakmem.core.BlockArena;
import dev.hakmem.guard.Guard;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;

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
        static final HakMem INSTANCE = withExitReport(new HakMem(HakMemConfig.fromSystem(), true));

        private static HakMem withExitReport(HakMem heap) {
            if (heap.guard != null && heap.config().guard().leakReportAtExit()) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println(heap.leakReport()),
                        "hakmem-leak-report"));
            }
            return heap;
        }
    }

    private final Allocator allocator;
    /** Guard mode's layer, or null: every method takes one well-predicted branch on it. */
    private final Guard guard;
    private final boolean global;

    private HakMem(HakMemConfig config, boolean global) {
        this.allocator = new Allocator(config, global ? "global" : "heap");
        this.guard = config.guard().enabled() ? new Guard(allocator, config.guard()) : null;
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
        return guard == null ? allocator.malloc(size) : guard.malloc(size);
    }

    /** Allocates {@code count * size} zeroed bytes; an overflowing product is an IllegalArgumentException. */
    public long calloc(long count, long size) {
        return guard == null ? allocator.calloc(count, size) : guard.calloc(count, size);
    }

    /** Allocates {@code size} bytes aligned to {@code alignment}, a power of two. */
    public long mallocAligned(long size, long alignment) {
        return guard == null ? allocator.mallocAligned(size, alignment) : guard.mallocAligned(size, alignment);
    }

    /**
     * Resizes a block, in place while its size class still fits, else by moving its contents. Address 0 acts as
     * {@link #malloc}. The old address is invalid afterwards unless it is the one returned.
     */
    public long realloc(long address, long newSize) {
        return guard == null ? allocator.realloc(address, newSize) : guard.realloc(address, newSize);
    }

    /** Frees a block; 0 is a no-op. */
    public void free(long address) {
        if (guard == null) {
            allocator.free(address);
        } else {
            guard.free(address);
        }
    }

    /** The number of bytes the block can hold, at least what was requested. */
    public long usableSize(long address) {
        return guard == null ? allocator.usableSize(address) : guard.usableSize(address);
    }

    /** A block as a segment bounded to {@code byteSize}, alive until it is freed with {@link #free(MemorySegment)}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return MemorySegment.ofAddress(mallocAligned(byteSize, byteAlignment)).reinterpret(byteSize);
    }

    /** Frees a segment obtained from {@link #allocate}. */
    public void free(MemorySegment segment) {
        if (!segment.isNative()) {
            InvalidFreeException e = new InvalidFreeException(segment.address(), "a heap segment, not native memory");
            if (guard == null) {
                throw allocator.counted(e);
            }
            guard.refuse(e);
            return;
        }
        free(segment.address());
    }

    /**
     * A confined arena whose segments come from this heap. Closing it frees them all and makes them inaccessible.
     */
    public Arena newArena() {
        return new BlockArena(this::mallocAligned, this::free);
    }

    /** A snapshot of the heap's counters. */
    public HakMemStats stats() {
        return guard == null ? allocator.stats() : guard.stats();
    }

    /**
     * Walks the whole heap and checks every slab's invariants (bitmaps, free lists, counters). Meant for a
     * quiescent heap: blocks being allocated or freed by other threads during the walk may be reported.
     *
     * @throws HeapCorruptionException naming the first inconsistency found
     */
    public void check() {
        if (guard == null) {
            allocator.check();
        } else {
            guard.check();
        }
    }

    /**
     * The blocks still allocated, grouped by allocation site. Sites are recorded in guard mode only; without it
     * every block is reported under one "(no site)" entry.
     */
    public LeakReport leakReport() {
        if (guard != null) {
            return guard.leakReport();
        }
        HakMemStats s = allocator.stats();
        return new LeakReport(s.liveBlocks(), s.liveBytes(), s.liveBlocks() == 0 ? java.util.List.of()
                : java.util.List.of(new LeakReport.Site("(no site: guard mode is off)", s.liveBlocks(),
                s.liveBytes())));
    }

    /**
     * Writes guard mode's trace rings (every thread's latest heap events) to {@code file}.
     *
     * @throws IllegalStateException when guard mode is off
     */
    public void dumpTrace(Path file) {
        if (guard == null) {
            throw new IllegalStateException("guard mode is off: no trace is kept");
        }
        guard.dumpTrace(file);
    }

    /** Heap errors guard mode detected so far (thrown or reported); 0 when guard mode is off. */
    public long violations() {
        return guard == null ? 0 : guard.violations();
    }

    /**
     * The policy in force: the knobs every allocation reads. Changes only when a learner publishes a better one
     * (see {@link HakMemConfig.Mode#LEARNING}); save it with {@link Policy#toJson()}.
     */
    public Policy policy() {
        return allocator.policy();
    }

    /** The configuration this heap was built with. */
    public HakMemConfig config() {
        return allocator.config();
    }

    /**
     * Gives every mapping back to the OS. Only for heaps from {@link #create}; no thread may use the heap during
     * the call. Afterwards, from any thread: every method that allocates, frees, resizes or sizes a block, and
     * {@link #check()}, throws IllegalStateException without touching the unmapped memory; {@code free(0)} and a
     * second {@code close()} do nothing; {@link #stats()} and {@link #leakReport()} report nothing mapped, committed
     * or live. An arena from {@link #newArena()} refuses to allocate, and its close makes its segments inaccessible
     * and then throws IllegalStateException; a segment from {@link #allocate} must not be accessed.
     */
    @Override
    public void close() {
        if (global) {
            throw new UnsupportedOperationException("the global heap cannot be closed");
        }
        if (guard != null) {
            LeakReport leaks = guard.leakReport();
            if (leaks.blocks() > 0) {
                System.getLogger("dev.hakmem").log(System.Logger.Level.WARNING, leaks.toString());
            }
        }
        try {
            allocator.close();
        } finally {
            if (guard != null) {
                guard.closed();
            }
        }
    }

    @Override
    public String toString() {
        return "HakMem[" + allocator.name() + ", " + allocator.config() + "]";
    }
}
