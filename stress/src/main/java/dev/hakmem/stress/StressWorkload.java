package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.verify.FaultInjectingPageSource;
import dev.hakmem.verify.Pattern;
import dev.hakmem.verify.Rss;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * A mixed multi-threaded workload on a {@link HakMem} heap that checks the contents of every block it frees.
 *
 * <p>Each worker slot runs a platform thread that allocates blocks of every tier (mostly tiny, sometimes up to
 * 8 MiB) through malloc, calloc, mallocAligned and realloc, fills each with a {@link Pattern}, keeps a bounded set
 * of them live, and frees some itself while handing others to the inbox of another slot, whose thread frees them.
 * A worker ends after a random lifetime, handing its live blocks to others or freeing them, and a new thread takes
 * over its slot: that churn exercises heap abandonment and adoption. At the end every remaining block is checked
 * and freed, the heap walked with {@link HakMem#check()}, and the heap must report no live bytes (in guard mode,
 * none that the planted errors below do not explain).
 *
 * <p>With {@link StressOptions#faults()}, out-of-memory errors are expected: a worker counts them and goes on. With
 * {@link StressOptions#plantErrors()}, workers also commit heap errors on purpose now and then (see
 * {@link PlantedErrors}), and the heap is checked every second; every planted error must be detected exactly once.
 *
 * <p>A run is single-use: build a new workload for each {@link #run()}.
 */
public final class StressWorkload {

    /** Blocks each worker holds at most; with the size mix below that is some 10 to 20 MiB a worker. */
    private static final int LIVE_BLOCKS = 1024;

    private static final long TINY_MAX = 1024;
    private static final long MID_MAX = 64 << 10;
    private static final long LARGE_MAX = 1 << 20;
    private static final long BIG_MAX = 8 << 20;
    private static final int MAX_ALIGNMENT_SHIFT = 16;

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long MIN_LIFETIME = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long MAX_LIFETIME = TimeUnit.SECONDS.toNanos(2);
    /** How long after the deadline a worker may take to end before it is reported as hung. */
    private static final Duration JOIN_GRACE = Duration.ofSeconds(60);
    /** Workers publish their counters in batches: a shared increment per operation would be the bottleneck. */
    private static final int FLUSH_EVERY = 1024;
    /** Steps a worker takes between deadline checks, and while holding the planting gate shared. */
    private static final int BATCH = 64;
    /** A worker plants a heap error after one batch in this many, on average: about one step in 2048. */
    private static final int PLANT_ONE_IN_BATCHES = 32;
    private static final int MAX_ERROR_SAMPLES = 20;

    /** calloc'ed blocks are compared against this; no calloc is larger. */
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[(int) BIG_MAX]);

    private final StressOptions options;
    private final HakMem heap;
    /** Null unless heap errors are planted. */
    private final PlantedErrors planted;
    private final Consumer<String> out;
    private final AtomicBoolean started = new AtomicBoolean();

    /**
     * One inbox per slot: a block handed to a slot is freed by that slot's thread, so not by the thread that queued
     * it (with a single slot, by the next thread of the slot). The run's end drains what is left.
     */
    private final List<Queue<Block>> inboxes;
    private final AtomicInteger handedOffCount = new AtomicInteger();
    private final int handOffLimit;
    private final AtomicReferenceArray<Thread> slots;

    private final LongAdder operations = new LongAdder();
    private final LongAdder bytesAllocated = new LongAdder();
    private final LongAdder remoteFrees = new LongAdder();
    private final LongAdder threadsStarted = new LongAdder();
    private final LongAdder outOfMemory = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final List<String> errorSamples = new ArrayList<>();

    private volatile boolean stopping;
    /** Written before the first worker starts, so every worker sees it. */
    private long deadline;

    /**
     * @param out receives the progress lines and the first errors as they happen; called from several threads
     */
    public StressWorkload(StressOptions options, Consumer<String> out) {
        this.options = options;
        this.heap = options.heap();
        this.out = out;
        this.planted = options.plantErrors() ? new PlantedErrors(heap, this::error) : null;
        this.handOffLimit = options.threads() * LIVE_BLOCKS;
        this.slots = new AtomicReferenceArray<>(options.threads());
        this.inboxes = new ArrayList<>(options.threads());
        for (int slot = 0; slot < options.threads(); slot++) {
            inboxes.add(new ConcurrentLinkedQueue<>());
        }
    }

    /** Runs the workload for the configured duration, then frees everything and reports. */
    public StressResult run() {
        if (!started.compareAndSet(false, true)) {
            throw new IllegalStateException("a StressWorkload runs once");
        }
        long baselineRss = Rss.currentBytes();
        long start = System.nanoTime();
        deadline = start + options.duration().toNanos();
        for (int slot = 0; slot < options.threads(); slot++) {
            startWorker(slot, 0);
        }
        boolean interrupted = !reportProgress(start);
        stopping = true;
        interrupted |= !joinWorkers();
        FaultInjectingPageSource faults = options.faults();
        if (faults != null) {
            // The end is the check of what the run left, not part of the run: it must not fail for want of memory.
            faults.setEnabled(false);
        }

        Worker drainer = new Worker(-1, 0);
        drainer.bindToCurrentThread();
        for (Queue<Block> inbox : inboxes) {
            drainer.drain(inbox);
        }
        drainer.flush();
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

        if (planted != null) {
            try {
                planted.flushQuarantine();
            } catch (RuntimeException e) {
                unexpectedAtEnd("flushing the quarantine", e);
            }
        }
        checkHeap("after the run");
        if (faults != null) {
            String drift = faults.reconcile(heap);
            if (drift != null) {
                error("the heap's mapped bytes against its page source after the run: " + drift);
            }
        }
        if (planted != null) {
            planted.finish();
        }
        interrupted |= !sleep(settleTime());
        HakMemStats stats = heap.stats();
        // The JVM's own garbage from the run would otherwise hide whether the native memory came back.
        System.gc();
        long finalRss = Rss.currentBytes();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        List<String> samples;
        synchronized (errorSamples) {
            samples = List.copyOf(errorSamples);
        }
        return new StressResult(operations.sum(), elapsed, bytesAllocated.sum(), remoteFrees.sum(),
                threadsStarted.sum(), outOfMemory.sum(), errors.sum(), samples, baselineRss, Rss.peakBytes(),
                finalRss, stats.liveBytes(), stats.liveBlocks(), stats.mappedBytes(), stats.committedBytes(),
                planted == null ? null : planted.result(allocatorBlocks(stats)),
                faults == null ? null : faultCounts(faults));
    }

    /** In guard mode the tiers count the allocator's own blocks, whatever guard mode makes of them. */
    private static long allocatorBlocks(HakMemStats stats) {
        return stats.tiers().values().stream().mapToLong(HakMemStats.TierStats::liveBlocks).sum();
    }

    private static StressResult.Faults faultCounts(FaultInjectingPageSource faults) {
        EnumMap<FaultInjectingPageSource.Op, Long> calls = new EnumMap<>(FaultInjectingPageSource.Op.class);
        EnumMap<FaultInjectingPageSource.Op, Long> injected = new EnumMap<>(FaultInjectingPageSource.Op.class);
        for (FaultInjectingPageSource.Op op : FaultInjectingPageSource.Op.values()) {
            calls.put(op, faults.calls(op));
            injected.put(op, faults.injected(op));
        }
        return new StressResult.Faults(calls, injected);
    }

    /** Walks the heap; with planted errors, what it reports is matched against them. */
    private void checkHeap(String when) {
        try {
            if (planted != null) {
                planted.check();
            } else {
                heap.check();
            }
        } catch (RuntimeException e) {
            error("heap.check() failed " + when + ": " + e);
        }
    }

    private void unexpectedAtEnd(String what, Throwable t) {
        error("unexpected " + t + " while " + what + " at " + frames(t.getStackTrace()));
    }

    /** The slot is set before the thread starts, so a successor the new thread starts can never be overwritten. */
    private void startWorker(int slot, int generation) {
        Thread thread = Thread.ofPlatform()
                .name("hakmem-stress-" + slot + "." + generation)
                .daemon(true)
                .unstarted(new Worker(slot, generation));
        slots.set(slot, thread);
        thread.start();
        threadsStarted.increment();
    }

    /** Prints a progress line every second until the deadline; false if interrupted. */
    private boolean reportProgress(long start) {
        long lastOps = 0;
        long lastTime = start;
        for (long next = start + SECOND; next <= deadline; next += SECOND) {
            if (!sleep(Duration.ofNanos(next - System.nanoTime()))) {
                return false;
            }
            long now = System.nanoTime();
            long ops = operations.sum();
            HakMemStats stats = heap.stats();
            out.accept(String.format(Locale.ROOT, "[%4ds] ops %,15d  %6.2f Mops/s  live %10s  mapped %10s  rss %10s",
                    Math.round((now - start) / 1e9), ops, (ops - lastOps) * 1e3 / (now - lastTime),
                    Units.bytes(stats.liveBytes()), Units.bytes(stats.mappedBytes()), Units.bytes(Rss.currentBytes())));
            lastOps = ops;
            lastTime = now;
            if (planted != null) {
                checkHeap("while the workers ran");
            }
        }
        return sleep(Duration.ofNanos(deadline - System.nanoTime()));
    }

    /** Joins every slot's chain of threads; false if interrupted while waiting. */
    private boolean joinWorkers() {
        boolean interrupted = false;
        long giveUp = System.nanoTime() + JOIN_GRACE.toNanos();
        for (int slot = 0; slot < options.threads(); slot++) {
            Thread thread = slots.get(slot);
            while (true) {
                try {
                    thread.join(Duration.ofNanos(Math.max(1, giveUp - System.nanoTime())));
                } catch (InterruptedException e) {
                    interrupted = true;
                    continue;
                }
                if (thread.isAlive()) {
                    error(thread.getName() + " did not end within " + JOIN_GRACE.toSeconds()
                            + " s of the deadline; it is at " + frames(thread.getStackTrace()));
                    break;
                }
                Thread successor = slots.get(slot);
                if (successor == thread) {
                    break;
                }
                thread = successor;
            }
        }
        return !interrupted;
    }

    /** Gives the heap time to purge the memory freed at the end before the final RSS is read. */
    private Duration settleTime() {
        long millis = 2 * heap.config().purgeDelayMillis() + 100;
        return Duration.ofMillis(Math.clamp(millis, 500, 1000));
    }

    private static boolean sleep(Duration duration) {
        if (duration.isNegative() || duration.isZero()) {
            return true;
        }
        try {
            Thread.sleep(duration);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    private void error(String message) {
        errors.increment();
        synchronized (errorSamples) {
            if (errorSamples.size() < MAX_ERROR_SAMPLES) {
                errorSamples.add(message);
                out.accept("ERROR " + message);
            }
        }
    }

    /** The top of a stack, from its first frame outside the JDK: that is where the allocator went wrong. */
    private static String frames(StackTraceElement[] stack) {
        int first = 0;
        while (first < stack.length - 1 && stack[first].getClassName().matches("(java|javax|jdk|sun)\\..*")) {
            first++;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = first; i < Math.min(stack.length, first + 8); i++) {
            sb.append(i == first ? "" : " <- ").append(stack[i]);
        }
        return sb.toString();
    }

    private static HakMemStats.Tier tier(long size) {
        if (size <= TINY_MAX) {
            return HakMemStats.Tier.TINY;
        }
        if (size <= MID_MAX) {
            return HakMemStats.Tier.MID;
        }
        return size <= LARGE_MAX ? HakMemStats.Tier.LARGE : HakMemStats.Tier.BIG;
    }

    /** The allocator calls that make a block, described only when one goes wrong (no string per operation). */
    private enum Call {
        MALLOC, CALLOC, MALLOC_ALIGNED, REALLOC_NULL, REALLOC;

        /** New blocks: 60% malloc, 15% calloc, 15% mallocAligned, 10% realloc of address 0. */
        static Call forNewBlock(int percent) {
            if (percent < 60) {
                return MALLOC;
            }
            if (percent < 75) {
                return CALLOC;
            }
            return percent < 90 ? MALLOC_ALIGNED : REALLOC_NULL;
        }

        /** {@code arg} is the element size of a calloc, the alignment of a mallocAligned, the old address of a realloc. */
        String describe(long size, long arg) {
            return switch (this) {
                case MALLOC -> "malloc(" + size + ")";
                case CALLOC -> "calloc(" + size / arg + ", " + arg + ")";
                case MALLOC_ALIGNED -> "mallocAligned(" + size + ", " + arg + ")";
                case REALLOC_NULL -> "realloc(0, " + size + ")";
                case REALLOC -> String.format(Locale.ROOT, "realloc(0x%x, %d)", arg, size);
            };
        }
    }

    /** A live block: its contents are {@code Pattern} bytes of {@code seed}; {@code owner} allocated it. */
    private record Block(long address, long size, long seed, long owner) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "block 0x%x (%,d bytes, %s, seed %d)", address, size, tier(size), seed);
        }
    }

    private final class Worker implements Runnable {
        private final int slot;
        private final int generation;
        private final SplittableRandom random;
        private final Block[] live = new Block[LIVE_BLOCKS];
        private long threadId;
        private long ops;
        private long bytes;
        private long remote;
        private long ooms;

        Worker(int slot, int generation) {
            this.slot = slot;
            this.generation = generation;
            this.random = new SplittableRandom(options.seed() + ((long) slot << 32) + generation);
        }

        void bindToCurrentThread() {
            threadId = Thread.currentThread().threadId();
        }

        @Override
        public void run() {
            bindToCurrentThread();
            long end = Math.min(deadline, System.nanoTime() + random.nextLong(MIN_LIFETIME, MAX_LIFETIME));
            try {
                for (long step = 0; !stopping && System.nanoTime() < end; ) {
                    enterShared();
                    try {
                        for (int k = 0; k < BATCH; k++) {
                            step(++step);
                        }
                    } finally {
                        exitShared();
                    }
                    if (planted != null && random.nextInt(PLANT_ONE_IN_BATCHES) == 0) {
                        planted.plant(random);
                    }
                    if (step % FLUSH_EVERY == 0) {
                        flush();
                    }
                }
            } catch (Throwable t) {
                unexpected(t);
            } finally {
                enterShared();
                try {
                    retire();
                } finally {
                    exitShared();
                }
                flush();
                if (!stopping && System.nanoTime() < deadline) {
                    try {
                        startWorker(slot, generation + 1);
                    } catch (Throwable t) {
                        unexpected(t);
                    }
                }
            }
        }

        /** While a worker uses the heap, no heap error is planted and no heap check runs. */
        private void enterShared() {
            if (planted != null) {
                planted.enterShared();
            }
        }

        private void exitShared() {
            if (planted != null) {
                planted.exitShared();
            }
        }

        private void step(long step) {
            int i = random.nextInt(LIVE_BLOCKS);
            Block block = live[i];
            if (block == null) {
                live[i] = allocate();
            } else {
                int r = random.nextInt(100);
                if (r < 20) {
                    live[i] = reallocate(block);
                } else if (r < 60) {
                    live[i] = null;
                    release(block);
                } else {
                    live[i] = null;
                    handOff(block, false);
                }
            }
            if ((step & 7) == 0) {
                Queue<Block> inbox = inboxes.get(slot);
                for (int k = 0; k < 4; k++) {
                    if (!takeHandedOff(inbox)) {
                        break;
                    }
                }
            }
        }

        /** Ends the worker's life: its blocks go to other threads (it dies holding them) or it frees them. */
        private void retire() {
            boolean handAll = random.nextBoolean();
            for (int i = 0; i < live.length; i++) {
                Block block = live[i];
                if (block == null) {
                    continue;
                }
                live[i] = null;
                try {
                    if (handAll) {
                        handOff(block, true);
                    } else {
                        release(block);
                    }
                } catch (Throwable t) {
                    unexpected(t);
                }
            }
        }

        void drain(Queue<Block> inbox) {
            while (true) {
                try {
                    if (!takeHandedOff(inbox)) {
                        return;
                    }
                } catch (Throwable t) {
                    unexpected(t);
                }
            }
        }

        /**
         * 90% tiny, 8% mid, 1.9% large, 0.1% big. Large and big blocks dominate the bytes filled and checked, so they
         * stay rare enough for the allocator, not the pattern, to set the pace.
         */
        private long drawSize() {
            int tierDraw = random.nextInt(1000);
            if (tierDraw < 900) {
                return random.nextLong(0, TINY_MAX + 1);
            }
            if (tierDraw < 980) {
                return random.nextLong(TINY_MAX + 1, MID_MAX + 1);
            }
            if (tierDraw < 999) {
                return random.nextLong(MID_MAX + 1, LARGE_MAX + 1);
            }
            return random.nextLong(LARGE_MAX + 1, BIG_MAX + 1);
        }

        /**
         * A new filled block, or null if the allocator returned an unusable address or, under fault injection, ran
         * out of memory.
         */
        private Block allocate() {
            Call call = Call.forNewBlock(random.nextInt(100));
            long size = drawSize();
            long arg = 0;
            long address;
            try {
                address = switch (call) {
                    case MALLOC -> heap.malloc(size);
                    case CALLOC -> {
                        arg = 1L << random.nextInt(4);
                        size = size / arg * arg;
                        yield heap.calloc(size / arg, arg);
                    }
                    case MALLOC_ALIGNED -> {
                        arg = 1L << random.nextInt(MAX_ALIGNMENT_SHIFT + 1);
                        yield heap.mallocAligned(size, arg);
                    }
                    case REALLOC_NULL -> heap.realloc(0, size);
                    case REALLOC -> throw new IllegalStateException("a new block never comes from resizing a live one");
                };
            } catch (HakMemOutOfMemoryError e) {
                outOfMemory(e);
                return null;
            }
            ops++;
            bytes += size;
            if (address == 0) {
                return filled(call, arg, address, size);
            }
            if (call == Call.CALLOC) {
                long at = MemorySegment.ofAddress(address).reinterpret(size).mismatch(ZEROS.asSlice(0, size));
                if (at >= 0) {
                    error(String.format(Locale.ROOT, "%s returned 0x%x, not zero at offset %d",
                            call.describe(size, arg), address, at));
                }
            } else if (call == Call.MALLOC_ALIGNED && (address & (arg - 1)) != 0) {
                error(String.format(Locale.ROOT, "%s returned misaligned 0x%x", call.describe(size, arg), address));
            }
            return filled(call, arg, address, size);
        }

        /**
         * The block after a realloc to a new size; its old contents must survive up to the smaller size. Out of
         * memory, the old block stays as it was; null if the allocator lost the new block.
         */
        private Block reallocate(Block block) {
            verify(block, "before realloc");
            long newSize = drawSize();
            long address;
            try {
                address = heap.realloc(block.address, newSize);
            } catch (HakMemOutOfMemoryError e) {
                outOfMemory(e);
                return block;
            } catch (HeapCorruptionException e) {
                if (planted == null || e.address() == block.address) {
                    throw e;
                }
                ops++;
                planted.reallocThrewOnLeave(e, block.address, newSize);
                return null;
            }
            ops++;
            bytes += newSize;
            if (address != 0) {
                long bad = Pattern.check(address, Math.min(block.size, newSize), block.seed, block.address);
                if (bad >= 0) {
                    error(String.format(Locale.ROOT, "%s of %s returned 0x%x, which lost the contents at offset %d",
                            Call.REALLOC.describe(newSize, block.address), block, address, bad));
                }
            }
            return filled(Call.REALLOC, block.address, address, newSize);
        }

        private Block filled(Call call, long arg, long address, long size) {
            if (address == 0 || (address & 15) != 0) {
                // Writing through a null or wild address would crash the JVM instead of reporting the bug.
                error(String.format(Locale.ROOT, "%s returned 0x%x, not a 16-byte aligned block",
                        call.describe(size, arg), address));
                return null;
            }
            long seed = random.nextLong();
            Pattern.fill(address, size, seed);
            return new Block(address, size, seed, threadId);
        }

        private void verify(Block block, String when) {
            long bad = Pattern.check(block.address, block.size, block.seed);
            if (bad >= 0) {
                error(block + " corrupted at offset " + bad + ", found " + when);
            }
        }

        private void release(Block block) {
            verify(block, "before free");
            if (random.nextInt(16) == 0) {
                long usable = heap.usableSize(block.address);
                if (usable < block.size) {
                    error(block + " has usableSize " + usable);
                }
            }
            if (planted != null) {
                planted.free(block.address, "a worker's free");
            } else {
                heap.free(block.address);
            }
            ops++;
            if (block.owner != threadId) {
                remote++;
            }
        }

        /**
         * Queues a block for another slot's thread to free; when the inboxes are full it frees the block itself,
         * unless forced. With a single slot the block waits for this slot's next thread.
         */
        private void handOff(Block block, boolean force) {
            if (!force && handedOffCount.get() >= handOffLimit) {
                release(block);
                return;
            }
            int slots = inboxes.size();
            int target = slots == 1 ? slot : (slot + 1 + random.nextInt(slots - 1)) % slots;
            handedOffCount.incrementAndGet();
            inboxes.get(target).add(block);
        }

        private boolean takeHandedOff(Queue<Block> inbox) {
            Block block = inbox.poll();
            if (block == null) {
                return false;
            }
            handedOffCount.decrementAndGet();
            release(block);
            return true;
        }

        /** Expected only when faults are injected; otherwise an error, as the heap was asked for nothing unusual. */
        private void outOfMemory(HakMemOutOfMemoryError e) {
            if (options.faults() == null) {
                throw e;
            }
            ooms++;
        }

        private void unexpected(Throwable t) {
            error(Thread.currentThread().getName() + ": unexpected " + t + " at " + frames(t.getStackTrace()));
        }

        void flush() {
            operations.add(ops);
            bytesAllocated.add(bytes);
            remoteFrees.add(remote);
            outOfMemory.add(ooms);
            ops = 0;
            bytes = 0;
            remote = 0;
            ooms = 0;
        }
    }
}
