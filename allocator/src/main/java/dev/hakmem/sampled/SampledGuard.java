package dev.hakmem.sampled;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.GuardOptions;
import dev.hakmem.HakMemException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.LeakReport;
import dev.hakmem.PageSource;
import dev.hakmem.heap.ThreadHeap;
import dev.hakmem.jfr.Jfr;
import dev.hakmem.os.Mem;
import dev.hakmem.registry.Mappings;
import dev.hakmem.registry.Region;
import dev.hakmem.registry.Registry;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Sampled guard mode: one allocation in {@code rate} on average gets a guarded slot of its own, checked thoroughly
 * and carrying its whole history; the others cost a countdown. This is GWP-ASan's design (LLVM, Android, Chrome:
 * "GWP-ASan: Sampling-Based Detection of Memory-Safety Bugs in Production", Serebryany et al., 2023) with canaries
 * in place of guard pages, as mimalloc's guarded mode and tcmalloc's sampled guarded allocations do the same trade.
 *
 * <h2>Sampling</h2>
 * Each thread heap counts down its mallocs (the guard half of {@code ThreadHeap.countdown}); the malloc that takes
 * it below zero asks {@link #due}, which refills it uniformly in [1, 2N], so the sampled allocations cannot alias
 * with a program's allocation pattern (a fixed period would sample the same call of a loop for ever).
 *
 * <h2>Slots</h2>
 * Two kinds of slot in one 2 MiB chunk, registered in the {@link Registry} as a region of the heap, so a free finds
 * it with the lookup every free already does (the fast free path is unchanged: a sampled address is in no slab):
 * {@value #SLOTS} page slots of {@value #SLOT} bytes, one page apart, then {@value #SMALL_SLOTS} small slots of
 * {@value #SMALL_SLOT} bytes packed four to a page, for the blocks that fit one with their margins (most sampled
 * blocks: a program's allocations are mostly small):
 * <pre>
 *   chunk: | gap | page slot 0 | gap | ... | page slot 127 | gap | 4 small slots | ... (32 pages) | unused .. |
 *                 slot i = 0..127                                  slot i = 128..255
 * </pre>
 * The gaps are never used (address space only): with the optional {@link GuardPages} they are inaccessible.
 * A sampled block sits against the start or the end of its slot at random, with canary bytes everywhere else in the
 * slot:
 * <pre>
 *   start: | 16 B canary | data ... | canary ..................................... |
 *   end:   | canary ..................................... | data ... | 16 B canary |
 * </pre>
 * The canary byte at offset {@code j} of a slot is byte {@code j & 7} of the guard's secret word, so any write into a
 * margin, of any value, changes a checked byte, and the first changed byte gives the offset and the direction of the
 * bad write. Freed data is poisoned with another secret word. Both are written and checked a word at a time by
 * small loops through {@link Mem} ({@link #fill}, {@link #firstChanged}), not by {@code MemorySegment.copy} or
 * {@code mismatch}: see "Compiled size" below.
 *
 * <h2>Quarantine</h2>
 * At most {@value #MAX_LIVE} sampled blocks are live at once (a sample beyond that is skipped and counted); a freed
 * slot joins its kind's FIFO and is reused only when no slot of its kind was ever used is left and it is the oldest,
 * so it stays watched for at least {@code SLOTS - MAX_LIVE} sampled frees of its kind: a write after free lands in a
 * slot that is still checked.
 *
 * <h2>Small slots keep their pages; page slots give theirs back</h2>
 * A freed small slot's data is poisoned and its page kept: the small slots' 32 pages, 128 KiB, are all they ever
 * hold, and a small sample then costs no system call and no page fault (issue 12: a page slot's sample cost about
 * 8 us, of which the madvise at its free 1.7 us, the page fault at its reuse 2.5 us and the mincore before it 1.5 us).
 * A freed page slot's page is given back to the OS (madvise DONTNEED), so that only the live sampled blocks' page
 * slots are resident: a quarantine of 128 page slots that kept its pages made the guard's resident set grow by
 * 512 KiB as it cycled, more than plain hakmem's whole growth on small workloads (issue 12's target is 10%). A
 * dropped page is watched by its residency instead of a poison (mincore, {@link PageSource#residency}):
 * <pre>
 *   free:   margins checked --> DONTNEED: not resident, reads as zero
 *   later:  not resident ............................ untouched: the slot may be reused (its canaries rewritten)
 *           resident, a non-zero byte ............... write after free, at that byte's offset
 *           resident, all zero ...................... touched after free: a read, or a write of zeros
 * </pre>
 * A read maps the kernel's shared zero page, which makes the page resident but not the process's memory; a write,
 * of any value, gives it a page of its own. Either is a use after free, and the guard never reads a dropped page
 * before its residency says it was touched. Where the page source cannot tell residency (not Linux), or refuses to
 * give a page back, the freed block's data is poisoned in place instead and checked against the poison. This trades
 * memory for time: a syscall at the free and a page fault when the slot is reused (GWP-ASan pays the same, an
 * mprotect or mmap at each free and allocation of a slot).
 *
 * <h2>Checks</h2>
 * A free checks the slot's margins (overflow, underflow) and its state (double free, interior pointer); the
 * background scan ({@link #scan}, on the maintenance thread every {@code scanMillis}) and {@link #check} verify the
 * margins of every live sampled block and the margins and poison of every freed one. Every report names the kind,
 * the block, the offset and direction, the requested size, the allocating thread and stack and, after a free, the
 * freeing thread and stack. A violation found by the free that commits it is thrown (or logged in report mode); one
 * the scan finds is logged, counted, and thrown by the next {@link #check} in throwing mode.
 *
 * <h2>Compiled size</h2>
 * The guard runs one malloc in N, so the JIT compiles its methods late, inside a program's measured run; at two
 * threads on two cores the compiler thread then takes CPU from the program, and a compilation's arena is peak RSS
 * that plain hakmem never pays. {@code MemorySegment.mismatch} and {@code copy} inline the JDK's bulk-operation
 * trees: with them {@code firstChanged} compiled with 5.3 MiB of C2 arena, {@code mismatch} apart with 7.5,
 * {@code fill} twice with 2.5 and 2.7 and {@code copy} apart with 4.1; as one masked word loop each, 1.1 to 1.9 MiB
 * ({@code -XX:CompileCommand=MemStat}, 2 threads at 1 in 64; issue 12). The loops cost about a microsecond a 4 KiB
 * slot, nothing at 1 in N.
 *
 * <p>Invariants (guarded by this, checked by {@link #check}): page slot {@code i} is UNUSED exactly when
 * {@code i >= freshPages}, small slot {@code SLOTS + j} exactly when {@code j >= freshSmall}; {@link #quarantine}
 * holds each FREED page slot once, {@link #smallQuarantine} each FREED small slot once, and nothing else;
 * {@code live} counts the LIVE slots and is at most {@value #MAX_LIVE}; a LIVE or FREED slot's block lies inside it
 * with at least {@value #MARGIN} canary bytes on each side; only FREED or CONDEMNED page slots have their page
 * given back, {@code droppedSlots} of them, and only where the page source watches residency (the memory account
 * counts the chunk committed but for those pages); only UNUSED or FREED page slots are closed, and only with guard
 * pages on; and of at least 64 placements both ends were chosen (the coin is not stuck).
 */
public final class SampledGuard {
    public static final int SLOT = 4096;
    /**
     * Page slots: a quarter of the chunk. Freed page slots' pages are given back, so the count no longer costs
     * memory where residency can be watched (Linux); elsewhere they stay poisoned and resident, 512 KiB at most.
     */
    static final int SLOTS = 128;
    /**
     * Small slots: a block that {@link #fits} one (up to 992 bytes at an alignment of 16, 944 at 64) takes one. As
     * many as page slots, so that the quarantine watches a freed small block as long; their pages, 128 KiB, stay
     * resident. 1 KiB, not 256 B: with 256 B slots the blocks of 16 B to 1 KiB of random_mixed_256 went four samples
     * in five to page slots, and at two threads sampled guard kept 0.87x plain's throughput there where tiny_hot's
     * 64 B blocks, all in small slots, kept 0.95x to 0.96x (session 11, docs/GUARD_MODE.md): a page slot's
     * madvise in a process whose other thread runs on the other core also interrupts that core (a TLB shootdown).
     */
    static final int SMALL_SLOT = 1024;
    static final int SMALL_SLOTS = 128;
    static final int ALL_SLOTS = SLOTS + SMALL_SLOTS;
    /** Where the small slots start in the chunk: after the page slots and their gaps. */
    private static final long SMALL_BASE = (2L * SLOTS + 1) * SLOT;
    static final int MAX_LIVE = SLOTS / 8;
    static final int MARGIN = 16;
    /** Frames of a stack kept in a report and in a leak report's site. */
    private static final int DEPTH = 12;
    private static final int MAX_PENDING = 16;

    private static final byte UNUSED = 0;
    private static final byte LIVE = 1;
    private static final byte FREED = 2;
    /** Its corruption was reported: out of circulation for good. */
    private static final byte CONDEMNED = 3;

    /**
     * The slots' chunk, a region of the heap so that the registry finds it, mapped and unmapped through the heap's
     * {@link Mappings} like every other region: counted in the memory account, in stats and in JFR's mapping events.
     */
    private static final class Slots extends Region {
        /** Set by {@link Mappings} when it unmaps the chunk; {@link #bookkeeping} checks the guard's chunk is not. */
        private volatile boolean released;

        Slots(int heapId, long base) {
            super(heapId, base, Registry.CHUNK);
        }

        @Override
        protected void markReleased() {
            released = true;
        }
    }

    /**
     * A sampled block's history: one per slot, rewritten by each sample the slot takes (the stacks are the only
     * objects a sample creates). Written under the guard's lock.
     */
    private static final class Sample {
        long user;
        long size;
        boolean atEnd;
        Thread allocThread;
        Stack allocStack;
        Thread freeThread;
        Stack freeStack;
        /** A live block whose corruption the scan reported: its free is not reported again. */
        boolean reported;

        void allocated(long user, long size, boolean atEnd, Thread thread, Stack stack) {
            this.user = user;
            this.size = size;
            this.atEnd = atEnd;
            this.allocThread = thread;
            this.allocStack = stack;
            this.freeThread = null;
            this.freeStack = null;
            this.reported = false;
        }
    }

    private final int heapId;
    private final PageSource pages;
    private final Mappings<Slots> mappings;
    private final int rate;
    private final long scanNanos;
    private final boolean throwOnViolation;
    /**
     * What a slot's margins hold (canary) and a freed block's bytes (poison): two secret words, so that no program
     * writes them by chance, the byte at address {@code a} being byte {@code a & 7} of the word, little-endian.
     */
    private final long canary;
    private final long poison;
    /** What a dropped page reads as. */
    private static final long ZERO = 0;
    /** Where samples, skips and violations are counted (the heap's stats). */
    private final Events events;
    private final Consumer<InvalidFreeException> refusedFrees;
    /**
     * {@link #place} and {@link #release}, the bodies of {@link #malloc} and {@link #free}.
     * NOTE: C2 inlines a method handle's target only where the handle is a constant, which a final instance field of
     * an ordinary class is not; so the guard's trees (slot, residency, canaries, stack) compile once, on their own,
     * and not again into each caller. {@code ThreadHeap.allocateGuardExpired}, called once per sample, inlined the
     * whole malloc tree (11.8 to 12.2 MiB of C2 arena in one compilation, in the bench's measured windows at two
     * threads, where the samples reach C2's threshold within the run; issue 12), and {@code Allocator.freeMissed}
     * the free's (4.7 to 8.6 MiB). The price is an indirect call, once per sample.
     */
    private final MethodHandle place;
    private final MethodHandle release;

    // Guarded by this.
    /** The optional guard pages, or null (the default: canaries only; also once they could not be armed). */
    private GuardPages guardPages;
    private Slots slots;
    private boolean unmappable;
    private final byte[] state = new byte[ALL_SLOTS];
    private final Sample[] samples = new Sample[ALL_SLOTS];
    /** Set with the slots: whether the page source can tell residency, so that freed slots' pages are given back. */
    private boolean dropping;
    /**
     * Slot {@code i}'s page was given back at its free, and is counted decommitted in the memory account until the
     * slot is reused: only FREED or CONDEMNED page slots, {@code droppedSlots} of them.
     */
    private final boolean[] dropped = new boolean[ALL_SLOTS];
    private int droppedSlots;
    /**
     * Slot {@code i}'s page is inaccessible (guard pages on): an UNUSED or FREED page slot, never read, since the
     * program cannot have touched it without faulting.
     */
    private final boolean[] closed = new boolean[ALL_SLOTS];
    /** Whether page slot {@code i}'s page was resident when last asked: refreshed before a dropped slot is verified. */
    private final byte[] resident = new byte[SLOTS];
    /** mincore's answer for the page slots and the gaps between them. */
    private final byte[] residentScratch = new byte[2 * SLOTS];
    /** The FREED page slots, oldest first. */
    private final ArrayDeque<Integer> quarantine = new ArrayDeque<>();
    /** The FREED small slots, oldest first. */
    private final ArrayDeque<Integer> smallQuarantine = new ArrayDeque<>();
    /** Page slots handed out so far: slots [0, freshPages) were used. */
    private int freshPages;
    /** Small slots handed out so far: slots [SLOTS, SLOTS + freshSmall) were used. */
    private int freshSmall;
    private int live;
    /** The sizes of the LIVE slots' blocks summed. */
    private long liveBytes;
    private long placedAtEnd;
    private long placedAtStart;
    private long lastScan = System.nanoTime();
    /** Set by {@link #close}: no block of the heap is live any more, so the leak report leaves nothing out. */
    private boolean heapClosed;
    private final List<HakMemException> pending = new ArrayList<>();

    /**
     * @param refusedFrees counts a refused free in the heap's events (invalid and double frees), as a refused free
     *                     of an unsampled block is counted
     */
    public SampledGuard(int heapId, PageSource pages, MemoryAccount account, GuardOptions options, Events events,
                        Consumer<InvalidFreeException> refusedFrees) {
        this.events = events;
        this.heapId = heapId;
        this.pages = pages;
        for (int i = 0; i < ALL_SLOTS; i++) {
            samples[i] = new Sample();
        }
        this.mappings = new Mappings<>(heapId, "sampled", pages, account, events);
        this.rate = options.sampleRate();
        // Saturating: a period past 292 years (Long.MAX_VALUE ms, "never") overflowed to a negative one, every tick.
        this.scanNanos = TimeUnit.MILLISECONDS.toNanos(options.scanMillis());
        this.throwOnViolation = options.throwOnViolation();
        this.refusedFrees = refusedFrees;
        this.guardPages = options.guardPages() == null ? null : new GuardPages(pages, options.guardPages());
        long secret = new SecureRandom().nextLong();
        this.canary = mix(secret);
        this.poison = mix(~secret);
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            this.place = lookup.findVirtual(SampledGuard.class, "place",
                    MethodType.methodType(long.class, long.class, boolean.class, long.class));
            this.release = lookup.findVirtual(SampledGuard.class, "release",
                    MethodType.methodType(void.class, long.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ sampling

    /**
     * Slow path: the malloc that took {@code h}'s countdown below zero. Refills the countdown (the next sampled
     * malloc is uniform in [1, 2N] mallocs away; every one at rate 1) and says whether this malloc is guarded. A
     * heap's first expiry starts its stream: that malloc is guarded with probability 1/N, so a thread's first
     * malloc is not always sampled. The gap is drawn as a long: at the largest rate, 2^30, 2N is past an int's
     * range, and the draw, below 2^31, still fits the guard half.
     */
    public boolean due(ThreadHeap h) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        boolean due = h.guardCounting || random.nextInt(rate) == 0;
        h.guardCounting = true;
        h.refillGuard(rate == 1 ? 0 : (int) random.nextLong(2L * rate));
        return due;
    }

    /**
     * A guarded block of {@code size} bytes aligned to {@code alignment}, or 0 when this sample is skipped (too
     * large for a slot, {@value #MAX_LIVE} sampled blocks live, no slot left, or the slots could not be mapped):
     * the caller then allocates as usual.
     */
    public long malloc(long size, boolean zeroed, long alignment) {
        try {
            return (long) place.invokeExact(this, size, zeroed, alignment);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    /** {@link #malloc}'s body, called through {@link #place}. */
    private long place(long size, boolean zeroed, long alignment) {
        if (!fits(size, alignment, SLOT)) {
            events.guardSkipped.increment();
            return 0;
        }
        boolean atEnd = ThreadLocalRandom.current().nextBoolean();
        synchronized (this) {
            int i = takeSlot(fits(size, alignment, SMALL_SLOT));
            if (i < 0) {
                events.guardSkipped.increment();
                return 0;
            }
            // Under the lock, and only for a sample that got a slot: one in N mallocs, and none when all are taken.
            Stack stack = new Stack();
            long slot = slotAddress(i);
            long end = slot + slotSize(i);
            long user = atEnd ? (end - MARGIN - size) & -alignment : (slot + MARGIN + alignment - 1) & -alignment;
            fill(slot, user, canary);
            fill(user + size, end, canary);
            if (zeroed) {
                fill(user, user + size, ZERO);
            }
            samples[i].allocated(user, size, atEnd, Thread.currentThread(), stack);
            state[i] = LIVE;
            live++;
            liveBytes += size;
            if (atEnd) {
                placedAtEnd++;
            } else {
                placedAtStart++;
            }
            events.guardSamples.increment();
            if (guardPages != null) {
                guardPages.record("ALLOC " + history(i));
            }
            return user;
        }
    }

    /**
     * A small slot (if the block {@code fitsSmall} and guard pages are off) or a page slot for a new sample, or -1: a
     * never-used one first, else the oldest freed one found untouched (its page, if given back, committed again, and
     * opened if closed). A freed slot whose residency cannot be asked, or whose page cannot be committed or opened,
     * stays first in its quarantine and this sample is skipped.
     */
    private int takeSlot(boolean fitsSmall) {
        if (live >= MAX_LIVE || !mapped()) {
            return -1;
        }
        // Guard pages surround page slots only.
        boolean small = fitsSmall && guardPages == null;
        if (small ? freshSmall < SMALL_SLOTS : freshPages < SLOTS) {
            int i = small ? SLOTS + freshSmall : freshPages;
            if (!opened(i)) {
                return -1;
            }
            if (small) {
                freshSmall++;
            } else {
                freshPages++;
            }
            return i;
        }
        ArrayDeque<Integer> queue = small ? smallQuarantine : quarantine;
        Integer i;
        while ((i = queue.pollFirst()) != null) {
            if (dropped[i] && !refreshResidency(i, 1)) {
                queue.addFirst(i);
                return -1;
            }
            HakMemException problem = verify(i);
            if (problem != null) {
                state[i] = CONDEMNED;
                reportLater(problem);
            } else if (reclaim(i)) {
                return i;
            } else {
                queue.addFirst(i);
                return -1;
            }
        }
        return -1;
    }

    /**
     * Whether a block of {@code size} bytes aligned to {@code alignment} fits a slot of {@code slotSize} bytes with
     * {@value #MARGIN} canary bytes on each side, at both ends (slots are aligned to their size).
     */
    private static boolean fits(long size, long alignment, long slotSize) {
        return size <= slotSize - MARGIN - ((MARGIN + alignment - 1) & -alignment);
    }

    /** The quarantine of slot {@code i}'s kind. */
    private ArrayDeque<Integer> queueOf(int i) {
        return i < SLOTS ? quarantine : smallQuarantine;
    }

    /**
     * Counts slot {@code i}'s page committed again if it was given back, and opens it if it is closed; false if the
     * page source refused either.
     */
    private boolean reclaim(int i) {
        if (dropped[i]) {
            try {
                mappings.commit(slotAddress(i), SLOT, SLOT, "a sampled guard slot");
            } catch (HakMemOutOfMemoryError e) {
                return false;
            }
            dropped[i] = false;
            droppedSlots--;
        }
        return opened(i);
    }

    /** Opens slot {@code i} if it is closed; false if the page source refused (it stays closed). */
    private boolean opened(int i) {
        if (closed[i] && !guardPages.open(slotAddress(i), SLOT)) {
            return false;
        }
        closed[i] = false;
        return true;
    }

    /**
     * Asks the page source which of {@code count} page slots from {@code from} are resident, into {@link #resident};
     * false (logged) if it could not answer: those slots' residency is then unknown.
     */
    private boolean refreshResidency(int from, int count) {
        try {
            pages.residency(slotAddress(from), (2L * count - 1) * SLOT, residentScratch);
        } catch (RuntimeException e) {
            System.getLogger("dev.hakmem").log(System.Logger.Level.WARNING,
                    "hakmem sampled guard: the residency of its freed slots could not be read", e);
            return false;
        }
        for (int k = 0; k < count; k++) {
            resident[from + k] = residentScratch[2 * k];
        }
        return true;
    }

    private long slotAddress(int i) {
        return i < SLOTS ? slots.base + (2L * i + 1) * SLOT
                : slots.base + SMALL_BASE + (long) (i - SLOTS) * SMALL_SLOT;
    }

    private static long slotSize(int i) {
        return i < SLOTS ? SLOT : SMALL_SLOT;
    }

    /** Maps the slots on the first sample; a failure is logged once and sampling stops (nothing is lost). */
    private boolean mapped() {
        if (slots != null || unmappable) {
            return slots != null;
        }
        try {
            long base = mappings.reserve(Registry.CHUNK, Registry.CHUNK, SLOT, "the sampled guard's slots");
            slots = mappings.register(new Slots(heapId, base));
        } catch (RuntimeException | OutOfMemoryError e) {
            unmappable = true;
            System.getLogger("dev.hakmem").log(System.Logger.Level.WARNING,
                    "hakmem sampled guard: its slots could not be mapped; no allocation will be guarded", e);
            return false;
        }
        try {
            dropping = pages.trackResidency(slots.base, slots.span);
        } catch (RuntimeException e) {
            System.getLogger("dev.hakmem").log(System.Logger.Level.INFO, "hakmem sampled guard: freed slots keep"
                    + " their pages, poisoned, since the page source cannot watch them: " + e);
        }
        if (guardPages != null) {
            armGuardPages();
        }
        return true;
    }

    /**
     * Closes the page slots and their gaps, once: a slot opens when taken. If the page source refuses, guard pages
     * are off for this heap (logged) and the canaries go on alone.
     */
    private void armGuardPages() {
        guardPages.record("# hakmem sampled guard pages, heap " + heapId + ", pid " + ProcessHandle.current().pid()
                + ": chunk 0x" + Long.toHexString(slots.base) + ", page slot i at 0x" + Long.toHexString(slots.base)
                + " + (2i + 1) * " + SLOT + "; every page from 0x" + Long.toHexString(slots.base) + " to 0x"
                + Long.toHexString(slots.base + SMALL_BASE) + " is inaccessible but the live blocks' slots");
        if (guardPages.close(slots.base, SMALL_BASE)) {
            Arrays.fill(closed, 0, SLOTS, true);
        } else {
            guardPages.closeReport();
            guardPages = null;
        }
    }

    /** Whether {@code r} is this guard's region of slots: a free, resize or size query there is the guard's. */
    public boolean owns(Region r) {
        return r instanceof Slots && r.heapId == heapId;
    }

    // ------------------------------------------------------------------ free and queries

    /** Frees a sampled block (the address is in {@link #owns this guard's region}). */
    public void free(long address) {
        try {
            release.invokeExact(this, address);
        } catch (Throwable t) {
            throw unchecked(t);
        }
    }

    /** {@link #free}'s body, called through {@link #release}. */
    private void release(long address) {
        Stack stack = new Stack();
        HakMemException problem;
        synchronized (this) {
            int i = slotOf(address);
            problem = refusal(i, address, "free");
            if (problem == null) {
                Sample s = samples[i];
                s.freeThread = Thread.currentThread();
                s.freeStack = stack;
                HakMemException smashed = margins(i);
                live--;
                liveBytes -= s.size;
                if (smashed != null || s.reported) {
                    state[i] = CONDEMNED;
                    problem = s.reported ? null : smashed;
                } else {
                    quarantine(i, s);
                }
            }
        }
        if (problem != null) {
            violation(problem);
        }
    }

    /**
     * Slot {@code i}'s block was freed with its margins intact: a page slot's page is given back, or where it cannot
     * be, and in a small slot, its data poisoned; either way it joins its quarantine. With guard pages, a page slot
     * is then closed, its record written first.
     */
    private void quarantine(int i, Sample s) {
        if (i < SLOTS && dropping && mappings.decommit(slotAddress(i), SLOT, SLOT)) {
            dropped[i] = true;
            droppedSlots++;
        } else {
            fill(s.user, s.user + s.size, poison);
        }
        state[i] = FREED;
        queueOf(i).addLast(i);
        if (guardPages != null && i < SLOTS) {
            guardPages.record("FREE " + history(i));
            closed[i] = guardPages.close(slotAddress(i), SLOT);
        }
    }

    /** The requested size of the live sampled block at {@code address}. */
    public long usableSize(long address) {
        HakMemException problem;
        synchronized (this) {
            int i = slotOf(address);
            problem = refusal(i, address, "usableSize");
            if (problem == null) {
                return samples[i].size;
            }
        }
        violation(problem);
        return 0;
    }

    /** The slot covering {@code address} (in this guard's chunk), or -1 in a gap or past the last slot. */
    private int slotOf(long address) {
        long offset = address - slots.base;
        if (offset < SMALL_BASE) {
            long page = offset / SLOT;
            return page % 2 == 1 ? (int) (page / 2) : -1;
        }
        long i = SLOTS + (offset - SMALL_BASE) / SMALL_SLOT;
        return i < ALL_SLOTS ? (int) i : -1;
    }

    /** Null if {@code address} is the start of the live block of slot {@code i}, else what is wrong with it. */
    private HakMemException refusal(int i, long address, String call) {
        String what = call.equals("free") ? "" : "(" + call + ") ";
        if (i < 0) {
            return new InvalidFreeException(address, what + "in the sampled guard's chunk, outside its slots");
        }
        Sample s = samples[i];
        if (state[i] == LIVE && address == s.user) {
            return null;
        }
        if (state[i] == UNUSED) {
            return new InvalidFreeException(address, what + "a sampled guard slot that never held a block");
        }
        if (address == s.user) {
            return new DoubleFreeException(address, what + "double free of sampled block " + history(i));
        }
        long offset = address - s.user;
        return new InvalidFreeException(address, what + (offset >= 0 && offset < s.size ? "interior pointer, "
                + offset + " bytes into " : "not a block start: " + offset + " bytes from the start of ")
                + (state[i] == LIVE ? "live " : "freed ") + "sampled block " + history(i));
    }

    // ------------------------------------------------------------------ verification

    /**
     * Null when slot {@code i} (LIVE or FREED) is intact: its margins hold the canary and, once freed, its data the
     * poison, or its page (if given back) was not touched since, as {@link #resident} last said, or it is closed (the
     * program cannot have touched it without faulting); else the violation,
     * naming the first changed byte.
     */
    private HakMemException verify(int i) {
        if (closed[i]) {
            return null;
        }
        if (dropped[i]) {
            return touched(i);
        }
        HakMemException problem = margins(i);
        if (problem != null || state[i] != FREED) {
            return problem;
        }
        Sample s = samples[i];
        long bad = firstChanged(s.user, s.user + s.size, poison);
        return bad < 0 ? null : writeAfterFree(i, bad);
    }

    /**
     * Null when the given-back page of slot {@code i} is not resident; else it was touched after the free, and its
     * first non-zero byte, if any, is where it was written (its contents are read only then).
     */
    private HakMemException touched(int i) {
        if (resident[i] == 0) {
            return null;
        }
        long slot = slotAddress(i);
        long bad = firstChanged(slot, slot + SLOT, ZERO);
        return bad >= 0 ? writeAfterFree(i, bad) : new HeapCorruptionException(samples[i].user, "use after free"
                + " (a read, or a write of zeros: its slot's page, given back at the free, is in memory again) of"
                + " freed sampled block " + history(i));
    }

    private HeapCorruptionException writeAfterFree(int i, long bad) {
        Sample s = samples[i];
        return new HeapCorruptionException(s.user, "write after free: byte at offset " + (bad - s.user)
                + " of freed sampled block " + history(i));
    }

    /** Null when slot {@code i}'s margins hold the canary, else the overflow or underflow at the nearest change. */
    private HakMemException margins(int i) {
        Sample s = samples[i];
        long slot = slotAddress(i);
        long after = firstChanged(s.user + s.size, slot + slotSize(i), canary);
        if (after >= 0) {
            long past = after - s.user - s.size;
            return new HeapCorruptionException(s.user, "buffer overflow: byte at offset " + (after - s.user) + " ("
                    + (past + 1) + " past the end) of sampled block " + history(i));
        }
        long before = lastChanged(slot, s.user, canary);
        return before < 0 ? null : new HeapCorruptionException(s.user, "buffer underflow: byte at offset "
                + (before - s.user) + " (" + (s.user - before) + " before the start) of sampled block " + history(i));
    }

    /**
     * The background scan, from the maintenance thread: every {@code scanMillis}, verifies every LIVE and FREED
     * slot. What it finds is condemned, logged, counted, and thrown by the next {@link #check} in throwing mode.
     */
    public void scan(long now) {
        List<HakMemException> found = new ArrayList<>();
        synchronized (this) {
            if (scanNanos == 0 || now - lastScan < scanNanos || slots == null) {
                return;
            }
            lastScan = now;
            verifyAll(found);
        }
        found.forEach(this::logAndCount);
    }

    /**
     * Verifies every LIVE and FREED slot; a corrupted FREED slot leaves the quarantine condemned, a corrupted LIVE
     * one stays the program's, marked reported.
     */
    private void verifyAll(List<HakMemException> found) {
        boolean residencyKnown = droppedSlots == 0 || refreshResidency(0, freshPages);
        for (int i = 0; i < ALL_SLOTS; i++) {
            if (state[i] != LIVE && state[i] != FREED || dropped[i] && !residencyKnown) {
                continue;
            }
            HakMemException problem = verify(i);
            if (problem == null || samples[i].reported) {
                continue;
            }
            if (state[i] == FREED) {
                queueOf(i).remove(i);
                state[i] = CONDEMNED;
            } else {
                samples[i].reported = true;
            }
            found.add(problem);
            if (pending.size() < MAX_PENDING) {
                pending.add(problem);
            }
        }
    }

    /**
     * Verifies every sampled slot (as the scan does) and the bookkeeping's invariants (see the class comment); then,
     * in throwing mode, throws the first violation found by this check or by an earlier scan.
     */
    public void check() {
        List<HakMemException> found = new ArrayList<>();
        List<HakMemException> toThrow;
        String drift;
        synchronized (this) {
            verifyAll(found);
            drift = bookkeeping();
            toThrow = List.copyOf(pending);
            pending.clear();
        }
        if (drift != null) {
            throw new HeapCorruptionException(0, "sampled guard's bookkeeping: " + drift);
        }
        found.forEach(this::logAndCount);
        if (throwOnViolation && !toThrow.isEmpty()) {
            HakMemException first = toThrow.getFirst();
            toThrow.stream().skip(1).forEach(first::addSuppressed);
            throw first;
        }
    }

    /** Whether {@code queue} holds a slot twice, a slot of the other kind ({@link #queueOf}) or one not FREED. */
    private boolean malformed(ArrayDeque<Integer> queue) {
        return queue.stream().distinct().count() != queue.size()
                || queue.stream().anyMatch(i -> queueOf(i) != queue || state[i] != FREED);
    }

    /** The invariants of the class comment; null or the first broken one. */
    private String bookkeeping() {
        if (slots == null ? freshPages + freshSmall != 0 : slots.released || !mappings.contains(slots)
                || Registry.lookup(slots.base) != slots) {
            return "its chunk " + slots + " is not mapped and registered as the guard's while "
                    + (freshPages + freshSmall) + " slots were handed out";
        }
        int liveSlots = 0;
        int freedSlots = 0;
        int droppedCount = 0;
        long liveSlotBytes = 0;
        for (int i = 0; i < ALL_SLOTS; i++) {
            if (closed[i] && (guardPages == null || i >= SLOTS || state[i] != UNUSED && state[i] != FREED)) {
                return "slot " + i + " is inaccessible, but in state " + state[i]
                        + (guardPages == null ? " with guard pages off" : "");
            }
            if (dropped[i]) {
                if (!dropping || i >= SLOTS || state[i] != FREED && state[i] != CONDEMNED) {
                    return "slot " + i + "'s page was given back, but the slot is in state " + state[i]
                            + (dropping ? "" : " and the page source cannot watch it");
                }
                droppedCount++;
            }
            int handedOut = i < SLOTS ? freshPages : SLOTS + freshSmall;
            if ((state[i] == UNUSED) != (i >= handedOut)) {
                return "slot " + i + " is " + (state[i] == UNUSED ? "unused" : "used") + " but the slots before "
                        + handedOut + " of its kind were handed out";
            }
            if (state[i] == LIVE || state[i] == FREED) {
                Sample s = samples[i];
                long slot = slotAddress(i);
                if (s.user - slot < MARGIN || slot + slotSize(i) - (s.user + s.size) < MARGIN) {
                    return "sampled block 0x" + Long.toHexString(s.user) + " of " + s.size + " B leaves less than "
                            + MARGIN + " canary bytes in its slot";
                }
                liveSlots += state[i] == LIVE ? 1 : 0;
                liveSlotBytes += state[i] == LIVE ? s.size : 0;
                freedSlots += state[i] == FREED ? 1 : 0;
            }
        }
        if (droppedCount != droppedSlots) {
            return "it counts " + droppedSlots + " slots given back, but " + droppedCount + " are";
        }
        if (liveSlots != live || live > MAX_LIVE || liveSlotBytes != liveBytes) {
            return "it counts " + live + " live sampled blocks (at most " + MAX_LIVE + ") of " + liveBytes
                    + " bytes, but " + liveSlots + " slots are live, holding " + liveSlotBytes + " bytes";
        }
        if (quarantine.size() + smallQuarantine.size() != freedSlots || malformed(quarantine)
                || malformed(smallQuarantine)) {
            return "its quarantines hold " + quarantine + " and " + smallQuarantine + " but " + freedSlots
                    + " slots are freed";
        }
        if (placedAtEnd + placedAtStart >= 64 && (placedAtEnd == 0 || placedAtStart == 0)) {
            return "of " + (placedAtEnd + placedAtStart) + " sampled blocks, " + placedAtEnd
                    + " were placed at the end of their slot: the placement is not random";
        }
        return null;
    }

    // ------------------------------------------------------------------ reports

    /** Throws (the default) or logs; counted either way, a refused free also in the heap's events. */
    private void violation(HakMemException e) {
        if (e instanceof InvalidFreeException refused) {
            refusedFrees.accept(refused);
        }
        events.guardViolations.increment();
        Jfr.guardViolation(heapId, e);
        if (throwOnViolation) {
            throw e;
        }
        System.getLogger("dev.hakmem").log(System.Logger.Level.ERROR, "hakmem sampled guard: " + e.getMessage());
    }

    /** A violation found off the call that committed it (the scan, a slot's reuse): logged, counted, kept. */
    private void reportLater(HakMemException e) {
        if (pending.size() < MAX_PENDING) {
            pending.add(e);
        }
        logAndCount(e);
    }

    private void logAndCount(HakMemException e) {
        events.guardViolations.increment();
        Jfr.guardViolation(heapId, e);
        System.getLogger("dev.hakmem").log(System.Logger.Level.ERROR, "hakmem sampled guard: " + e.getMessage());
    }

    /** The block of slot {@code i}, its size and placement, its allocation and (if freed) its free. */
    private String history(int i) {
        Sample s = samples[i];
        StringBuilder sb = new StringBuilder("0x").append(Long.toHexString(s.user)).append(" (").append(s.size)
                .append(" B requested, placed at the ").append(s.atEnd ? "end" : "start").append(" of slot 0x")
                .append(Long.toHexString(slotAddress(i))).append(")\n  allocated by thread ")
                .append(describe(s.allocThread)).append(s.allocStack.frames("\n    at ", DEPTH));
        if (s.freeStack != null) {
            sb.append("\n  freed by thread ").append(describe(s.freeThread))
                    .append(s.freeStack.frames("\n    at ", DEPTH));
        }
        return sb.toString();
    }

    /** What a body called through a handle threw, unchecked as it was (the bodies throw no checked exception). */
    private static RuntimeException unchecked(Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }

    private static String describe(Thread t) {
        return "\"" + t.getName() + "\" #" + t.threadId();
    }

    // ------------------------------------------------------------------ whole-heap views

    /**
     * The live sampled blocks grouped by allocation stack, each weighted by the rate (a sample stands for
     * {@code rate} allocations on average, as sampling heap profilers weight theirs): estimated totals by site.
     * A skipped sample (too large for a slot, {@value #MAX_LIVE} sampled blocks already live, or no slot free) is
     * allocated unguarded and is in no total, so once one was skipped the totals are a lower bound (while
     * {@value #MAX_LIVE} samples are live every later one is skipped: the totals stop at {@value #MAX_LIVE} x the
     * rate), and the report's note says so with the number skipped since the heap started. Since the start, not
     * since the live samples were taken: a skipped allocation may still be live whatever became of the samples
     * around it, and nothing tells which were freed. A closed heap's report has no note: nothing is live.
     */
    public synchronized LeakReport leakReport() {
        Map<String, long[]> bySite = new LinkedHashMap<>();
        for (int i = 0; slots != null && i < ALL_SLOTS; i++) {
            if (state[i] == LIVE) {
                String chain = samples[i].allocStack.frames(" <- ", DEPTH);
                long[] t = bySite.computeIfAbsent(chain.isEmpty() ? "(no frame outside the allocator)"
                        : chain.substring(" <- ".length()), k -> new long[2]);
                t[0]++;
                t[1] += samples[i].size;
            }
        }
        List<LeakReport.Site> sites = new ArrayList<>();
        long blocks = 0;
        long bytes = 0;
        for (var e : bySite.entrySet()) {
            long[] t = e.getValue();
            sites.add(new LeakReport.Site(e.getKey() + " [estimated from " + t[0] + " sampled block"
                    + (t[0] == 1 ? "" : "s") + ", 1 in " + rate + "]", t[0] * rate, t[1] * rate));
            blocks += t[0] * rate;
            bytes += t[1] * rate;
        }
        sites.sort(Comparator.comparingLong(LeakReport.Site::bytes).reversed());
        long skipped = heapClosed ? 0 : events.guardSkipped.sum();
        return new LeakReport(blocks, bytes, sites, skipped == 0 ? "" : skipped + " sampled allocation"
                + (skipped == 1 ? " was" : "s were") + " skipped since the heap started (too large for a slot, "
                + MAX_LIVE + " sampled blocks already live, or no slot free): the live ones among them are in no"
                + " total, so these totals are a lower bound");
    }

    /** Violations found so far (thrown, logged, or found by the scan). */
    public long violations() {
        return events.guardViolations.sum();
    }

    /**
     * The heap is closing: the slots go back to the OS (blocks still live in them go with them); the failures of
     * the page source, collected as {@link Mappings#releaseAll} does.
     */
    public synchronized List<Throwable> close() {
        List<Throwable> failures = mappings.releaseAll(r -> r.span - (long) droppedSlots * SLOT, r -> { });
        slots = null;
        droppedSlots = 0;
        Arrays.fill(dropped, false);
        Arrays.fill(closed, false);
        if (guardPages != null) {
            guardPages.closeReport();
            guardPages = null;
        }
        unmappable = true;
        heapClosed = true;
        live = 0;
        liveBytes = 0;
        return failures;
    }

    /**
     * For the heap's {@code check()}: adds what the guard holds to {@code held}, from its own state (its chunk,
     * mapped while it has one, and committed but for the pages of freed slots given back), so that the memory
     * account's reconciliation catches a chunk, or a slot's page, mapped, given back or committed past the account.
     */
    public synchronized void held(MemoryAccount.Held held) {
        if (slots != null) {
            held.mapped += slots.span;
            held.committed += slots.span - (long) droppedSlots * SLOT;
        }
    }

    /** The live sampled blocks, which no tier counts: for the heap's live figures in stats. */
    public synchronized long liveBlocks() {
        return live;
    }

    /** The bytes requested by the live sampled blocks (their usable size). */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    // ------------------------------------------------------------------ bytes

    /** The splitmix64 finaliser: every input bit affects every output bit (full guard mode's patterns use it too). */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /** Whether a stack frame is the allocator's own, left out of the stacks that reports and leak sites show. */
    public static boolean isAllocatorFrame(String cls) {
        return cls.equals("dev.hakmem.HakMem") || cls.equals("dev.hakmem.Site") || cls.startsWith("dev.hakmem.guard.")
                || cls.startsWith("dev.hakmem.core.") || cls.startsWith("dev.hakmem.heap.")
                || cls.startsWith("dev.hakmem.sampled.");
    }

    /** Byte order of the patterns in memory, whatever the platform's: the first byte of a word is its lowest. */
    private static final ValueLayout.OfLong WORD = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * The bytes of the 8-aligned word at {@code a} whose address lies in [from, to), as a mask (byte {@code k} of
     * the word is address {@code a + k}): one loop over whole words then handles a range's unaligned ends too, so
     * that each of the methods below compiles to one small loop. Every word it reads or writes lies in the slot,
     * whose bounds are 8-aligned.
     */
    private static long inRange(long a, long from, long to) {
        long mask = -1L << (Math.max(0, from - a) << 3);
        return to - a < Long.BYTES ? mask & ((1L << ((to - a) << 3)) - 1) : mask;
    }

    /**
     * Writes the pattern {@code word} over [from, to). The other bytes of its end words are kept: they are the
     * slot's, a margin's canary or the block's data.
     */
    private static void fill(long from, long to, long word) {
        for (long a = from & -Long.BYTES; a < to; a += Long.BYTES) {
            long in = inRange(a, from, to);
            Mem.ALL.set(WORD, a, in == -1L ? word : Mem.ALL.get(WORD, a) & ~in | word & in);
        }
    }

    /** The lowest address in [from, to) whose byte is not the pattern {@code word}'s, or -1. */
    private static long firstChanged(long from, long to, long word) {
        for (long a = from & -Long.BYTES; a < to; a += Long.BYTES) {
            long diff = (Mem.ALL.get(WORD, a) ^ word) & inRange(a, from, to);
            if (diff != 0) {
                return a + (Long.numberOfTrailingZeros(diff) >>> 3);
            }
        }
        return -1;
    }

    /** The highest address in [from, to) whose byte is not the pattern {@code word}'s, or -1: the nearest to to. */
    private static long lastChanged(long from, long to, long word) {
        for (long a = (to - 1) & -Long.BYTES; a >= (from & -Long.BYTES); a -= Long.BYTES) {
            long diff = (Mem.ALL.get(WORD, a) ^ word) & inRange(a, from, to);
            if (diff != 0) {
                return a + Long.BYTES - 1 - (Long.numberOfLeadingZeros(diff) >>> 3);
            }
        }
        return -1;
    }
}
