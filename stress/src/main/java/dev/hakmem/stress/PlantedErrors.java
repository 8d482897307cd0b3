package dev.hakmem.stress;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.verify.Pattern;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * Heap errors the workload commits on purpose in guard mode, and guard mode's detections of them, matched by address.
 *
 * <p>Each error is planted on a fresh victim block while the {@link #gate} is held exclusively, so no worker runs
 * meanwhile: a double free cannot free a block that another thread was handed in between, and a write after free
 * lands in the victim while it is certainly still in the quarantine. Every error but the write after free is
 * detected by the very call that commits it; a write after free is detected later, by {@link HakMem#check()} or by
 * whichever free pushes the victim out of the quarantine, so those detections are matched through the victim's
 * address. A victim is never touched again after its error.
 */
final class PlantedErrors {

    /** What is planted, in turn. */
    enum Kind {
        OVERFLOW("overflow past the end"),
        UNDERFLOW("underflow into the header"),
        DOUBLE_FREE_SAME_THREAD("double free, same thread"),
        DOUBLE_FREE_OTHER_THREAD("double free, other thread"),
        INTERIOR_FREE("free of an interior pointer"),
        WRITE_AFTER_FREE("write after free");

        final String label;

        Kind(String label) {
            this.label = label;
        }
    }

    /** Victims are small, so they are a tiny part of the quarantine and stay in it while the error is planted. */
    private static final long MAX_VICTIM = 1024;
    /** The quarantine must hold many victims' worth, else a victim could leave it before its error is planted. */
    static final long MIN_QUARANTINE = 64 * MAX_VICTIM;
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final Kind[] KINDS = Kind.values();

    /** A planted error; {@code detections} counts the reports of it, which must end at exactly one. */
    private record Planted(Kind kind, long address, long size, AtomicInteger detections) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s at 0x%x (%d-byte block)", kind.label, address, size);
        }
    }

    private final HakMem heap;
    /** Held shared by workers while they use the heap; exclusively to plant and to check the heap. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock();
    private final Consumer<String> error;
    /**
     * Planted errors whose victims never return to the allocator (condemned, header destroyed, still allocated, or
     * kept out of circulation after a write after free), by the address a detection names. A double-free victim goes
     * back to the allocator and its address is reused, so it is not kept: its detection is checked on the spot.
     */
    private final Map<Long, Planted> byAddress = new ConcurrentHashMap<>();
    private final EnumMap<Kind, LongAdder> planted = counters();
    private final EnumMap<Kind, LongAdder> detected = counters();
    private final EnumMap<Kind, LongAdder> missed = counters();
    private final EnumMap<Kind, LongAdder> repeated = counters();
    private final LongAdder heldBlocks = new LongAdder();
    private final LongAdder heldBytes = new LongAdder();
    private final LongAdder lostBlocks = new LongAdder();
    private final LongAdder lostBytes = new LongAdder();
    private final LongAdder wafByCheck = new LongAdder();
    private final LongAdder wafOnLeave = new LongAdder();
    private final LongAdder checks = new LongAdder();
    /**
     * Victims whose allocator block stays allocated for good: condemned, headerless, refused, or kept after a write
     * after free.
     */
    private final LongAdder outOfCirculation = new LongAdder();
    /** Blocks the final flush left in the quarantine. */
    private long fillersInQuarantine;
    /** Plants made or attempted; guarded by the gate's write lock. */
    private int turn;

    /** @param error records an error of the run (a missed or misattributed detection, an unplanted one) */
    PlantedErrors(HakMem heap, Consumer<String> error) {
        var guard = heap.config().guard();
        if (!guard.enabled() || !guard.throwOnViolation()) {
            throw new IllegalArgumentException("planting heap errors needs guard mode, throwing on violations");
        }
        if (guard.quarantineBytes() < MIN_QUARANTINE) {
            throw new IllegalArgumentException("planting heap errors needs a quarantine of at least "
                    + MIN_QUARANTINE + " bytes: " + guard.quarantineBytes());
        }
        this.heap = heap;
        this.error = error;
    }

    private static EnumMap<Kind, LongAdder> counters() {
        EnumMap<Kind, LongAdder> m = new EnumMap<>(Kind.class);
        for (Kind k : Kind.values()) {
            m.put(k, new LongAdder());
        }
        return m;
    }

    void enterShared() {
        gate.readLock().lock();
    }

    void exitShared() {
        gate.readLock().unlock();
    }

    /**
     * Plants the next kind of error on a new victim: the kinds take turns, so every kind is planted once in every six
     * plants. Called by a worker that does not hold the gate.
     */
    void plant(SplittableRandom random) {
        gate.writeLock().lock();
        try {
            Kind kind = KINDS[turn++ % KINDS.length];
            long size = random.nextLong(kind == Kind.INTERIOR_FREE ? 2 : 1, MAX_VICTIM + 1);
            long victim;
            try {
                victim = heap.malloc(size);
            } catch (HakMemOutOfMemoryError e) {
                // An injected fault: nothing is planted, and the kind's turn passes.
                return;
            }
            Pattern.fill(victim, size, random.nextLong());
            planted.get(kind).increment();
            switch (kind) {
                case OVERFLOW -> {
                    int n = random.nextInt(1, 9);
                    for (int i = 0; i < n; i++) {
                        flip(victim + size + i);
                    }
                    // A detected overflow condemns the block: it stays allocated underneath guard mode.
                    keepOutOfCirculation(keep(expect(kind, victim, size, HeapCorruptionException.class,
                            () -> heap.free(victim))));
                }
                case UNDERFLOW -> {
                    int n = random.nextInt(1, 9);
                    for (int i = 1; i <= n; i++) {
                        flip(victim - i);
                    }
                    // With its header destroyed the block's size is unknown, so it cannot be condemned: it stays live.
                    hold(keepOutOfCirculation(keep(expect(kind, victim, size, HeapCorruptionException.class,
                            () -> heap.free(victim)))));
                }
                case DOUBLE_FREE_SAME_THREAD -> {
                    free(victim, "the first free of a double-free victim");
                    expect(kind, victim, size, DoubleFreeException.class, () -> heap.free(victim));
                }
                case DOUBLE_FREE_OTHER_THREAD -> {
                    free(victim, "the first free of a double-free victim");
                    expect(kind, victim, size, DoubleFreeException.class, () -> onAnotherThread(victim));
                }
                case INTERIOR_FREE -> {
                    long interior = victim + random.nextLong(1, size);
                    // A refused free leaves the block allocated, and the workload never frees it.
                    hold(keepOutOfCirculation(keep(expect(kind, interior, size, InvalidFreeException.class,
                            () -> heap.free(interior)))));
                }
                case WRITE_AFTER_FREE -> {
                    free(victim, "the free of a write-after-free victim");
                    flip(victim + random.nextLong(size));
                    keep(new Planted(kind, victim, size, new AtomicInteger()));
                }
            }
        } finally {
            gate.writeLock().unlock();
        }
    }

    /** Runs {@link HakMem#check()} with every worker held off, and attributes what it reports. */
    void check() {
        gate.writeLock().lock();
        try {
            checks.increment();
            heap.check();
        } catch (HeapCorruptionException e) {
            detectedLater(e, true, "heap.check()");
        } finally {
            gate.writeLock().unlock();
        }
    }

    /**
     * Frees blocks worth more than a thread's quarantine, so every block this thread's quarantine held before (its
     * own frees, and those of the dead workers it adopted) leaves it and the write-after-free victims among them are
     * detected; the quarantines of dead workers not adopted are verified and drained by the final
     * {@link HakMem#check()}. Single-threaded, at the end of the run, after the workers ended.
     */
    void flushQuarantine() {
        long quarantine = heap.config().guard().quarantineBytes();
        long filler = quarantine / 64;
        for (int i = 0; i <= 64; i++) {
            free(heap.malloc(filler), "a quarantine-flushing free");
        }
        // The quarantine keeps the most recent frees whose sizes add up to at most its bound.
        fillersInQuarantine = Math.min(65, quarantine / filler);
    }

    /**
     * Frees {@code address}, which the caller owns. A HeapCorruptionException naming another block comes from a block
     * that this free pushed out of the quarantine, after this block was freed: it is attributed, and the free counts
     * as done. Any other exception propagates.
     */
    void free(long address, String during) {
        try {
            heap.free(address);
        } catch (HeapCorruptionException e) {
            if (e.address() == address) {
                throw e;
            }
            detectedLater(e, false, during);
        }
    }

    /**
     * A realloc of {@code address} threw a HeapCorruptionException naming another block. Guard mode frees the old
     * block last, after allocating the new one, so the exception came from a block the old one pushed out of the
     * quarantine: the old block is freed, and the new one is allocated but its address is lost. That is a leak the
     * allocator caused; it is an error, and the block is accounted as lost so the live bytes stay explained.
     */
    void reallocThrewOnLeave(HeapCorruptionException e, long address, long newSize) {
        detectedLater(e, false, "realloc");
        lostBlocks.increment();
        lostBytes.add(newSize);
        error.accept(String.format(Locale.ROOT, "realloc(0x%x, %d) threw for block 0x%x leaving the quarantine: the "
                + "old block is freed and the new one it allocated is lost (an allocator bug)", address, newSize,
                e.address()));
    }

    /** Marks write-after-free victims never reported as missed; call once, after the last check. */
    void finish() {
        for (Planted p : byAddress.values()) {
            if (p.kind == Kind.WRITE_AFTER_FREE && p.detections.get() == 0) {
                missed(p, "never reported, by heap.check() nor on leaving the quarantine");
            }
        }
    }

    /**
     * @param allocatorBlocks the blocks allocated underneath guard mode at the end (the stats' per-tier live blocks),
     *                        to be explained by the quarantine, the victims out of circulation and the lost blocks
     */
    StressResult.Planted result(long allocatorBlocks) {
        List<StressResult.KindCount> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            kinds.add(new StressResult.KindCount(k.label, planted.get(k).sum(), detected.get(k).sum(),
                    missed.get(k).sum(), repeated.get(k).sum()));
        }
        return new StressResult.Planted(kinds, heldBlocks.sum(), heldBytes.sum(), lostBlocks.sum(), lostBytes.sum(),
                wafByCheck.sum(), wafOnLeave.sum(), checks.sum(), allocatorBlocks, fillersInQuarantine,
                outOfCirculation.sum());
    }

    // ------------------------------------------------------------------ matching

    /**
     * Runs the erroneous call, which must throw {@code type} naming {@code address}, and nothing else.
     *
     * @return the planted error, with its detection counted
     */
    private Planted expect(Kind kind, long address, long size, Class<? extends HakMemException> type,
                           Runnable call) {
        Planted p = new Planted(kind, address, size, new AtomicInteger());
        try {
            call.run();
        } catch (HakMemException e) {
            // A double free must not pass as an interior pointer, nor the other way round.
            boolean rightType = type.isInstance(e)
                    && !(kind == Kind.INTERIOR_FREE && e instanceof DoubleFreeException);
            if (rightType && addressOf(e) == address) {
                p.detections.incrementAndGet();
                detected.get(kind).increment();
            } else {
                missed(p, "reported as " + e.getClass().getSimpleName() + " naming 0x"
                        + Long.toHexString(addressOf(e)) + ": " + firstLine(e));
            }
            return p;
        }
        missed(p, "no exception");
        return p;
    }

    /** A detected victim's block stays allocated underneath guard mode for good. */
    private Planted keepOutOfCirculation(Planted p) {
        if (p.detections.get() > 0) {
            outOfCirculation.increment();
        }
        return p;
    }

    /** Remembers a planted error by address, for later reports of it; its address is never handed out again. */
    private Planted keep(Planted p) {
        Planted old = byAddress.put(p.address, p);
        if (old != null) {
            error.accept(old + " was handed out again for " + p + ": a block kept out of circulation was reused");
            if (old.kind == Kind.WRITE_AFTER_FREE && old.detections.get() == 0) {
                missed(old, "its block left the quarantine unreported and was reused");
            }
        }
        return p;
    }

    /** A report that came after the erroneous call: from heap.check() or a block leaving the quarantine. */
    private void detectedLater(HeapCorruptionException e, boolean byCheck, String during) {
        // Guard mode reports every corrupted block a check or an eviction found in one exception, the rest suppressed.
        for (Throwable more : e.getSuppressed()) {
            if (more instanceof HeapCorruptionException next) {
                detectedLater(next, byCheck, during);
            } else {
                error.accept("unexpected exception beside a heap error reported by " + during + ": " + more);
            }
        }
        Planted p = byAddress.get(e.address());
        if (p == null) {
            error.accept("unplanted heap error reported by " + during + ": " + firstLine(e));
            return;
        }
        if (p.kind != Kind.WRITE_AFTER_FREE) {
            repeated.get(p.kind).increment();
            error.accept(p + " reported again by " + during + ": " + firstLine(e));
            return;
        }
        if (p.detections.incrementAndGet() == 1) {
            detected.get(p.kind).increment();
            // Found corrupted, it is never given back to the allocator (once it leaves the quarantine).
            outOfCirculation.increment();
            (byCheck ? wafByCheck : wafOnLeave).increment();
        } else {
            repeated.get(p.kind).increment();
            error.accept(p + " reported again by " + during + " (it was reported before): " + firstLine(e));
        }
    }

    private void missed(Planted p, String how) {
        missed.get(p.kind).increment();
        error.accept("planted " + p + " was not detected as planted: " + how);
    }

    /** A detected victim that stays live for the program too: guard mode counts it in the live bytes. */
    private void hold(Planted p) {
        if (p.detections.get() > 0) {
            heldBlocks.increment();
            heldBytes.add(p.size);
        }
    }

    /** Frees the victim a second time on a new thread, while the planting thread waits. */
    private void onAnotherThread(long victim) {
        AtomicReference<RuntimeException> thrown = new AtomicReference<>();
        Thread t = Thread.ofPlatform().name("hakmem-stress-double-free").start(() -> {
            try {
                heap.free(victim);
            } catch (RuntimeException e) {
                thrown.set(e);
            }
        });
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                // The victim's outcome must be known before the gate opens; the interrupt is kept for the caller.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (thrown.get() != null) {
            throw thrown.get();
        }
    }

    /** Changes every bit of the byte, so the write is never a no-op. */
    private static void flip(long address) {
        ALL.set(ValueLayout.JAVA_BYTE, address, (byte) ~ALL.get(ValueLayout.JAVA_BYTE, address));
    }

    private static long addressOf(HakMemException e) {
        return switch (e) {
            case HeapCorruptionException h -> h.address();
            case InvalidFreeException i -> i.address();
            default -> 0;
        };
    }

    /** The message without the trace guard mode appends, which is many lines long. */
    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }
}
