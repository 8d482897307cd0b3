package dev.hakmem;

import dev.hakmem.core.Allocator;
import dev.hakmem.core.BlockArena;
import dev.hakmem.guard.Guard;
import dev.hakmem.site.SiteState;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

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
 *
 * <p>Allocation sites: {@link #site(String)} names where blocks come from; a {@link Site} allocates like this heap
 * and is profiled by sampling ({@link SiteProfile}), and the policy in force may give it a rule of its own. The
 * methods here are the anonymous site's.
 */
public final class HakMem implements SegmentAllocator, AutoCloseable {

    private static final class Global {
        /** The global heap, or null when its settings were refused. */
        static final HakMem INSTANCE;
        /**
         * Why the global heap could not be created, or null. Kept, not thrown from this initializer: a class whose
         * initializer throws answers every later use with "NoClassDefFoundError: Could not initialize class", the
         * setting named only in the text of its cause.
         */
        static final RuntimeException REFUSED;

        static {
            HakMem heap = null;
            RuntimeException refused = null;
            try {
                heap = withExitReport(new HakMem(HakMemConfig.fromSystem(), true));
            } catch (RuntimeException e) {
                refused = e;
            }
            INSTANCE = heap;
            REFUSED = refused;
        }

        private static HakMem withExitReport(HakMem heap) {
            if (heap.guarded() && heap.config().guard().leakReportAtExit()) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> System.err.println(heap.leakReport()),
                        "hakmem-leak-report"));
            }
            return heap;
        }
    }

    private static final StackWalker WALKER = StackWalker.getInstance();

    private final Allocator allocator;
    /** Guard mode's layer, or null: every method takes one well-predicted branch on it. */
    private final Guard guard;
    private final boolean global;
    /** The heap's MXBean and periodic JFR event until close, or null when its configuration turns them off. */
    private final Monitoring monitoring;
    /** The sites handed out, by name, so that a name always gives the same Site. */
    private final ConcurrentHashMap<String, Site> sites = new ConcurrentHashMap<>();

    private HakMem(HakMemConfig config, boolean global) {
        this(new Allocator(config, global ? "global" : "heap"), global);
    }

    private HakMem(Allocator allocator, boolean global) {
        this.allocator = allocator;
        this.guard = allocator.config().guard().enabled() ? new Guard(allocator, allocator.config().guard()) : null;
        this.global = global;
        this.monitoring = allocator.config().monitoring()
                ? Monitoring.register(this, allocator.id(), allocator.name()) : null;
    }

    /**
     * Whether either guard level is on (full mode's {@link #guard} or the allocator's sampled guard): both record
     * allocation sites, so both report leaks at close and, for the global heap, at exit.
     */
    private boolean guarded() {
        return guard != null || allocator.sampledGuard() != null;
    }

    /** A heap sampling one byte in {@code samplePeriod} (1: every allocation, so profiles are exact); for tests. */
    static HakMem create(HakMemConfig config, long samplePeriod) {
        return new HakMem(new Allocator(config, "heap", samplePeriod), false);
    }

    /** The engine behind this heap; for white-box tests (e.g. to put a policy with site rules in force). */
    Allocator allocator() {
        return allocator;
    }

    /**
     * The process-wide heap, configured from {@code hakmem.*} properties and {@code HAKMEM_*} variables.
     *
     * @return the global heap, created on first use; it cannot be closed
     * @throws IllegalStateException on every call when the global heap could not be created, for instance when a
     *                               setting is refused: the cause names it
     */
    public static HakMem global() {
        HakMem heap = Global.INSTANCE;
        if (heap == null) {
            throw new IllegalStateException("hakmem: the global heap could not be created: "
                    + Global.REFUSED.getMessage(), Global.REFUSED);
        }
        return heap;
    }

    /**
     * An independent heap; {@link #close()} gives all its memory back.
     *
     * @param config the heap's configuration
     * @return a new heap, independent of every other
     */
    public static HakMem create(HakMemConfig config) {
        return new HakMem(config, false);
    }

    /**
     * A heap with the default configuration.
     *
     * @return a new heap built from {@link HakMemConfig#defaults()}
     */
    public static HakMem create() {
        return create(HakMemConfig.defaults());
    }

    /**
     * Allocates {@code size} bytes, 16-byte aligned; size 0 gives a unique minimal block.
     *
     * @param size the number of bytes, at least 0
     * @return the block's address, never 0
     * @throws IllegalArgumentException when {@code size} is negative
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long malloc(long size) {
        return guard == null ? allocator.malloc(size) : guard.malloc(null, size);
    }

    /**
     * Allocates {@code count * size} zeroed bytes.
     *
     * @param count the number of elements, at least 0
     * @param size the size of an element in bytes, at least 0
     * @return the address of the zeroed block, 16-byte aligned, never 0
     * @throws IllegalArgumentException when an argument is negative or the product overflows
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long calloc(long count, long size) {
        return guard == null ? allocator.calloc(count, size) : guard.calloc(null, count, size);
    }

    /**
     * Allocates {@code size} bytes aligned to {@code alignment}.
     *
     * @param size the number of bytes, at least 0
     * @param alignment the alignment in bytes, a power of two
     * @return the block's address, a multiple of {@code alignment} (and of 16), never 0
     * @throws IllegalArgumentException when {@code size} is negative or {@code alignment} is not a power of two
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long mallocAligned(long size, long alignment) {
        return guard == null ? allocator.mallocAligned(size, alignment) : guard.mallocAligned(null, size, alignment);
    }

    // Site's allocations: through guard mode's checks when it is on, like the anonymous site's.

    long malloc(SiteState site, long size) {
        return guard == null ? allocator.malloc(site, size) : guard.malloc(site, size);
    }

    long calloc(SiteState site, long count, long size) {
        return guard == null ? allocator.calloc(site, count, size) : guard.calloc(site, count, size);
    }

    long mallocAligned(SiteState site, long size, long alignment) {
        return guard == null ? allocator.mallocAligned(site, size, alignment)
                : guard.mallocAligned(site, size, alignment);
    }

    SiteProfile profile(SiteState site) {
        return allocator.profiler().profile(site, System.nanoTime());
    }

    /** A segment over {@code byteSize} bytes at {@code address}. */
    static MemorySegment segment(long address, long byteSize) {
        return MemorySegment.ofAddress(address).reinterpret(byteSize);
    }

    /**
     * The allocation site named {@code name}, of 1 to 512 characters: the same name gives the same Site. A map
     * lookup: cheap enough to call once per class, not per allocation. {@code "(anonymous)"} names the site of the
     * methods of this class.
     *
     * @param name the site's name, 1 to 512 characters
     * @return the site of that name, created on first use
     * @throws NullPointerException when {@code name} is null
     * @throws IllegalArgumentException when {@code name} is empty or longer than 512 characters
     * @throws IllegalStateException when the heap already has {@value dev.hakmem.site.Profiler#MAX_SITES} sites
     */
    public Site site(String name) {
        Objects.requireNonNull(name, "name");
        Site s = sites.get(name);
        if (s != null) {
            return s;
        }
        // The one check of a site's name, Policy's: a Site can always be named in a policy.
        new Policy.SiteRule(name, false, false);
        return sites.computeIfAbsent(name, n -> new Site(this, allocator.site(n)));
    }

    /**
     * The allocation site of the caller, named {@code Class.method:line} after the frame that called this method.
     * One stack walk per call: call it once (into a static field, say), not per allocation.
     *
     * @return the caller's site, the same Site for every call from the same line
     */
    public Site site() {
        StackWalker.StackFrame caller = WALKER.walk(frames -> frames
                .dropWhile(f -> f.getClassName().equals(HakMem.class.getName()))
                .findFirst())
                .orElseThrow(() -> new IllegalStateException("HakMem.site() has no caller frame"));
        return site(caller.getClassName() + "." + caller.getMethodName() + ":" + caller.getLineNumber());
    }

    /**
     * Resizes a block, in place while its size class still fits, else by moving its contents. Address 0 acts as
     * {@link #malloc}. The old address is invalid afterwards unless it is the one returned.
     *
     * @param address a block of this heap, or 0
     * @param newSize the new size in bytes, at least 0; the contents are kept up to the smaller of both sizes
     * @return the block's address, the old one or a new one
     * @throws InvalidFreeException when {@code address} is not a block of this heap
     * @throws DoubleFreeException when the block is already free
     * @throws IllegalArgumentException when {@code newSize} is negative
     * @throws HakMemOutOfMemoryError when the OS refuses the memory
     */
    public long realloc(long address, long newSize) {
        return guard == null ? allocator.realloc(address, newSize) : guard.realloc(address, newSize);
    }

    /**
     * Frees a block; 0 is a no-op.
     *
     * @param address an address returned by this heap and not yet freed, or 0
     * @throws InvalidFreeException when {@code address} is not the start of a block of this heap
     * @throws DoubleFreeException when the block is already free
     */
    public void free(long address) {
        if (guard == null) {
            allocator.free(address);
        } else {
            guard.free(address);
        }
    }

    /**
     * The number of bytes the block can hold, at least what was requested.
     *
     * @param address a block of this heap
     * @return the block's usable size in bytes
     * @throws InvalidFreeException when {@code address} is not a block of this heap
     * @throws DoubleFreeException when the block is free
     */
    public long usableSize(long address) {
        return guard == null ? allocator.usableSize(address) : guard.usableSize(address);
    }

    /** A block as a segment bounded to {@code byteSize}, alive until it is freed with {@link #free(MemorySegment)}. */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        return segment(mallocAligned(byteSize, byteAlignment), byteSize);
    }

    /**
     * Frees a segment obtained from {@link #allocate}.
     *
     * @param segment a segment from {@link #allocate} of this heap, not yet freed
     * @throws NullPointerException when {@code segment} is null
     * @throws InvalidFreeException when the segment is not native memory or does not start a block of this heap
     * @throws DoubleFreeException when its block is already free
     */
    public void free(MemorySegment segment) {
        Objects.requireNonNull(segment, "segment");
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
     *
     * @return a new confined arena, usable by the thread that called this method only
     */
    public Arena newArena() {
        return new BlockArena(this::mallocAligned, this::free);
    }

    /**
     * A snapshot of the heap's counters.
     *
     * @return the counters as of this call; they are read without stopping other threads
     */
    public HakMemStats stats() {
        return guard == null ? allocator.stats() : guard.stats();
    }

    /**
     * Walks the whole heap and checks every slab's invariants (bitmaps, free stacks, counters). Meant for a
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
     * every block is reported under one "(no site)" entry. In sampled guard mode, the totals are estimated from the
     * live sampled blocks, each weighted by the sample rate; when samples were skipped (at most 16 sampled blocks
     * are live at once), the report's {@link LeakReport#note() note} says how many and that the totals are a lower
     * bound.
     *
     * @return the live blocks and bytes, in total and per site
     */
    public LeakReport leakReport() {
        if (guard != null) {
            return guard.leakReport();
        }
        if (allocator.sampledGuard() != null) {
            return allocator.sampledGuard().leakReport();
        }
        HakMemStats s = allocator.stats();
        return new LeakReport(s.liveBlocks(), s.liveBytes(), s.liveBlocks() == 0 ? java.util.List.of()
                : java.util.List.of(new LeakReport.Site("(no site: guard mode is off)", s.liveBlocks(),
                s.liveBytes())));
    }

    /**
     * Writes full guard mode's trace rings (every thread's latest heap events) to {@code file}.
     *
     * @param file the file to write, created or replaced
     * @throws NullPointerException when {@code file} is null
     * @throws IllegalStateException when full guard mode is off (sampled mode keeps no trace rings: each sampled
     *                               block carries its own stacks, in its reports and {@link #leakReport()})
     * @throws java.io.UncheckedIOException when the file cannot be written
     */
    public void dumpTrace(Path file) {
        Objects.requireNonNull(file, "file");
        if (guard == null) {
            throw new IllegalStateException(allocator.sampledGuard() != null
                    ? "full guard mode is off: sampled guard mode keeps no trace rings (each sampled block carries its"
                    + " stacks, in its reports and the leak report)"
                    : "guard mode is off: no trace is kept");
        }
        guard.dumpTrace(file);
    }

    /**
     * Heap errors guard mode detected so far (thrown or reported).
     *
     * @return the number of violations since the heap was created; 0 when guard mode is off
     */
    public long violations() {
        return guard != null ? guard.violations()
                : allocator.sampledGuard() != null ? allocator.sampledGuard().violations() : 0;
    }

    /**
     * The policy in force: the knobs every allocation reads. Changes only when a learner publishes a better one
     * (see {@link HakMemConfig.Mode#LEARNING}); save it with {@link Policy#toJson()}.
     *
     * @return the current policy, immutable
     */
    public Policy policy() {
        return allocator.policy();
    }

    /**
     * Where this heap's learner is.
     *
     * @return LEARN, FROZEN or CANARY; always FROZEN for a heap that does not learn
     */
    public LearningState learningState() {
        return allocator.learningState();
    }

    /**
     * A learning heap's last windows (256 of them, 65536 in RESEARCH mode), oldest first: the policy each ran, what
     * it tried and what it cost.
     *
     * @return the windows kept; empty for a heap that does not learn
     */
    public java.util.List<LearningWindow> learningHistory() {
        return allocator.learningHistory();
    }

    /**
     * The configuration this heap was built with.
     *
     * @return the heap's configuration
     */
    public HakMemConfig config() {
        return allocator.config();
    }

    /**
     * Gives every mapping back to the OS. Only for heaps from {@link #create}; no thread may use the heap during
     * the call. Afterwards, from any thread: every method that allocates, frees, resizes or sizes a block, and
     * {@link #check()}, throws IllegalStateException without touching the unmapped memory; {@code free(0)} and a
     * second {@code close()} do nothing; {@link #stats()} and {@link #leakReport()} report nothing mapped, committed
     * or live. An arena from {@link #newArena()} refuses to allocate, and its close makes its segments inaccessible
     * and then throws IllegalStateException; a segment from {@link #allocate} must not be accessed. {@link #site}
     * still names a site: its allocations throw IllegalStateException, its profile shows no live block.
     */
    @Override
    public void close() {
        if (global) {
            throw new UnsupportedOperationException("the global heap cannot be closed");
        }
        if (monitoring != null) {
            monitoring.unregister();
        }
        if (guarded()) {
            LeakReport leaks = leakReport();
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
