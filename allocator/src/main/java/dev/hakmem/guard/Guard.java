package dev.hakmem.guard;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.GuardOptions;
import dev.hakmem.HakMemException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.LeakReport;
import dev.hakmem.core.Allocator;
import dev.hakmem.core.Requests;
import dev.hakmem.jfr.Jfr;
import dev.hakmem.os.Mem;
import dev.hakmem.sampled.SampledGuard;
import dev.hakmem.site.SiteState;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Guard mode: a layer over the allocator that finds heap errors at or near the moment they happen and says what
 * happened and where, keeping the process alive.
 *
 * <h2>Block layout</h2>
 * <pre>
 *   inner                                  user = inner + pad                 user + size
 *   | size | pad, site | thread | checksum | (pad - 32 bytes: fence) | data ... | trailer canary |
 * </pre>
 * The 32-byte header sits at the start of the allocator's block. The pad is a power of two (the header's 32 bytes,
 * or an aligned block's alignment, which may be 2^32 or more), kept as its log2 beside the site. Its checksum mixes a
 * per-process secret with the block's address, its header fields and its state (allocated or freed), as Scudo
 * checksums its chunk headers, so a header that an underflow or a wild write touched is recognised, and the fields
 * are trusted only after the checksum matches. An 8-byte canary derived from the secret and the address follows the
 * data (and precedes it, when an alignment pad leaves room). Every address handed in is first validated by the
 * allocator's metadata ({@link Allocator#liveBlockStart}); only then is the header read.
 *
 * <p>Freeing moves the checksum from allocated to freed with a CAS (of racing frees exactly one wins), poisons the
 * data and puts the block in the freeing thread's bounded quarantine; the poison is verified whole when it leaves
 * (every byte, in one branch-free pass), so a write after free anywhere in the block is caught. Errors carry the block's size, class, allocating thread and site, and the block's
 * recent trace.
 *
 * <h2>Per-thread state</h2>
 * Each thread that uses the heap has a {@link Local}: its trace ring, its {@link Quarantine} and its share of the
 * live counts, found by one lookup per call in a cache by thread id ({@link #local()}) and written by that thread
 * alone with no lock and no shared counter (issue 12: a shared synchronized quarantine and LongAdders were most of
 * full mode's cost after the stack walks). A new thread adopts the state of every dead one (its quarantined blocks and counts), so a
 * thread pool's churn neither loses quarantined blocks nor keeps them for ever; {@link #check} drains the
 * quarantines of dead threads not yet adopted.
 */
public final class Guard {
    static final int HEADER = 32;
    private static final int CACHE = 256;
    private static final int TRAILER = 8;
    private static final byte POISON = (byte) 0xDF;
    private static final long POISON_WORD = 0xDFDF_DFDF_DFDF_DFDFL;
    /**
     * A freed block up to this size is poisoned by {@link MemorySegment#fill}, a larger one by copies from
     * {@link #POISON_SOURCE}, a span at a time (the JDK's arraycopy stub; fill takes {@code Unsafe.setMemory} above
     * 32 B). Measured in a scratch loop of full mode's free+malloc (CPU time, best window, issue 12's third round):
     * on 64 B and 256 B blocks the fill was faster (82 against 88 ns, 91 against 98), on blocks of 16 B to 1 KiB
     * copying them all took 150 ns, copying those above 512 B 155, filling them all 160.
     */
    private static final int POISON_FILL_MAX = 512;
    private static final int POISON_SPAN = 4096;
    private static final MemorySegment POISON_SOURCE = poisonSource();
    private static final long ALLOCATED = 0x5AFE_A110_C8ED_0001L;
    private static final long FREED = 0xF4EE_D0FF_DEAD_0002L;
    /** A block whose corruption was reported: out of circulation for good, no longer the program's. */
    private static final long CONDEMNED = 0xC0DE_0BAD_B10C_0003L;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();

    private final Allocator core;
    private final GuardOptions options;
    private final long secret = new SecureRandom().nextLong();
    private final Sites sites;
    private final Tracer tracer;
    private final ThreadLocal<Local> local = ThreadLocal.withInitial(this::newLocal);
    /**
     * Per thread id modulo its length, the state of the thread that last missed there: one array load and an owner
     * compare find the caller's state ({@link #local()}), as {@code HeapSet} finds a thread's heap; the ThreadLocal
     * (a hash probe and a weak reference, about a fifth of full mode's time in a profile of a 64-byte loop) only on
     * a miss. NOTE: slots are read and written plain by every thread, racing. A reader sees null, its own state or
     * another thread's, never a torn one, and {@link Local#owner} is final, so a state read through the race is seen
     * with its owner (JLS 17.5): a mismatch takes the slow way, which writes the slot again. A dead thread's state
     * stays reachable from its slot until another thread takes it: at most {@value #CACHE} states, their rings
     * emptied by adoption ({@link Quarantine#clear} gives back their arrays).
     */
    private final Local[] cache = new Local[CACHE];
    /**
     * Every thread's state, dead threads' included until a new thread adopts them. Guarded by itself.
     * Quiescent, checked by check(): the live counts summed over it == the allocator's live blocks whose header
     * reads ALLOCATED, and their sizes summed (a block freed into a quarantine or condemned is no longer the
     * program's).
     */
    private final List<Local> locals = new ArrayList<>();
    private final LongAdder violations = new LongAdder();

    public Guard(Allocator core, GuardOptions options) {
        this.core = core;
        this.options = options;
        this.sites = new Sites(options.siteDepth(), options.siteSampling());
        this.tracer = new Tracer(options.traceRingSize(), sites);
        core.setSlowPathListener(tracer);
    }

    /**
     * One thread's guard state. Written by its owner alone, with plain accesses except the live counts; read by
     * another thread only when the owner is dead (adoption, check) or the heap is quiescent (check, close).
     */
    private static final class Local {
        private static final VarHandle BLOCKS;
        private static final VarHandle BYTES;

        static {
            try {
                var lookup = java.lang.invoke.MethodHandles.lookup();
                BLOCKS = lookup.findVarHandle(Local.class, "liveBlocks", long.class);
                BYTES = lookup.findVarHandle(Local.class, "liveBytes", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Thread owner;
        final long ownerId;
        final Tracer.Ring trace;
        final Quarantine quarantine;
        /**
         * The owner's guarded allocations less its guarded frees and condemnations, in blocks and bytes: negative
         * when it frees blocks other threads allocated; only the sum over all threads means something. Written by
         * the owner (Opaque store of its own plain read), read by {@link #stats} (Opaque).
         */
        private long liveBlocks;
        private long liveBytes;

        Local(Thread owner, Tracer.Ring trace, Quarantine quarantine) {
            this.owner = owner;
            this.ownerId = owner.threadId();
            this.trace = trace;
            this.quarantine = quarantine;
        }

        /** Owner only. */
        void live(long blocks, long bytes) {
            BLOCKS.setOpaque(this, liveBlocks + blocks);
            BYTES.setOpaque(this, liveBytes + bytes);
        }

        long blocks() {
            return (long) BLOCKS.getOpaque(this);
        }

        long bytes() {
            return (long) BYTES.getOpaque(this);
        }
    }

    /**
     * The calling thread's first use: a new state, which adopts every dead thread's quarantine and counts.
     * NOTE: a dead thread's plain writes to its ring are visible here, as {@link Thread#isAlive()} returning false
     * synchronizes-with the thread's last action (JLS 17.4.4). Adoption and check's drain both hold the registry's
     * lock, so a dead thread's state is taken over once.
     */
    private Local newLocal() {
        Local mine = new Local(Thread.currentThread(), tracer.ring(),
                new Quarantine(options.quarantineBytes(), Quarantine.MAX_BLOCKS));
        synchronized (locals) {
            for (var it = locals.iterator(); it.hasNext(); ) {
                Local dead = it.next();
                if (!dead.owner.isAlive()) {
                    mine.quarantine.adopt(dead.quarantine);
                    mine.live(dead.blocks(), dead.bytes());
                    it.remove();
                }
            }
            locals.add(mine);
        }
        return mine;
    }

    /** The calling thread's state: its {@link #cache} slot when it holds it, else the ThreadLocal's. */
    private Local local() {
        Thread t = Thread.currentThread();
        Local l = cache[(int) t.threadId() & (CACHE - 1)];
        return l != null && l.owner == t ? l : localSlow(t);
    }

    private Local localSlow(Thread t) {
        Local l = local.get();
        cache[(int) t.threadId() & (CACHE - 1)] = l;
        return l;
    }

    /** A block's header, read only after the allocator validated the block; trusted only once its state is known. */
    private record Block(long inner, long size, long padSite, long thread, long sum) {
        long pad() {
            // A long shift reads the low 6 bits of its distance alone: the pad's log2, not the site above it.
            return 1L << padSite;
        }

        int site() {
            return (int) (padSite >>> 32);
        }

        long user() {
            return inner + pad();
        }
    }

    /** The header of the live allocator block at {@code inner}. */
    private static Block header(long inner) {
        return new Block(inner, Mem.getLong(inner), Mem.getLong(inner + 8), Mem.getLong(inner + 16),
                Mem.getLong(inner + 24));
    }

    /** The checksum the header would carry in {@code state}. */
    private long sumFor(Block b, long state) {
        return checksum(b.inner, b.size, b.padSite, b.thread) ^ state;
    }

    /**
     * ALLOCATED, FREED or CONDEMNED when the checksum matches one of them, else 0: the header was overwritten. One
     * mixer round whatever the state, since the state is XOR-ed onto the mixed fields.
     */
    private long state(Block b) {
        long s = b.sum ^ checksum(b.inner, b.size, b.padSite, b.thread);
        return s == ALLOCATED || s == FREED || s == CONDEMNED ? s : 0;
    }

    // ------------------------------------------------------------------ allocate

    /**
     * A guarded block for {@code site} (null: the anonymous site). The allocator profiles and places the inner
     * block, header and canary included, by the site's rule.
     */
    public long malloc(SiteState site, long size) {
        Requests.checkSize(size);
        long total = withOverhead(size, HEADER);
        // The anonymous site takes the allocator's own anonymous malloc, whose Tiny path reads no policy.
        return place(site == null ? core.malloc(total) : core.malloc(site, total), HEADER, size, Tracer.Kind.ALLOC);
    }

    public long calloc(SiteState site, long count, long size) {
        long total = Requests.callocTotal(count, size);
        return place(core.calloc(site, 1, withOverhead(total, HEADER)), HEADER, total, Tracer.Kind.ALLOC);
    }

    public long mallocAligned(SiteState site, long size, long alignment) {
        Requests.checkAlignment(alignment);
        if (alignment <= Requests.MALLOC_ALIGNMENT) {
            return malloc(site, size);
        }
        Requests.checkSize(size);
        long pad = Math.max(HEADER, alignment);
        return place(core.mallocAligned(site, withOverhead(size, pad), alignment), pad, size, Tracer.Kind.ALLOC);
    }

    private static long withOverhead(long size, long pad) {
        try {
            return Math.addExact(size, pad + TRAILER);
        } catch (ArithmeticException e) {
            throw new HakMemOutOfMemoryError(size, "too large with guard mode's header and canary");
        }
    }

    private long place(long inner, long pad, long size, Tracer.Kind kind) {
        long user = inner + pad;
        int site = sites.capture();
        Local l = local();
        long thread = l.ownerId;
        long padSite = Long.numberOfTrailingZeros(pad) | ((long) site << 32);
        Mem.putLong(inner, size);
        Mem.putLong(inner + 8, padSite);
        Mem.putLong(inner + 16, thread);
        Mem.putLong(inner + 24, checksum(inner, size, padSite, thread) ^ ALLOCATED);
        if (pad > HEADER) {
            Mem.putLong(user - 8, canary(user - 8));
        }
        Mem.putLong(user + size, canary(user + size));
        l.live(1, size);
        Tracer.record(l.trace, kind, user, size, site);
        return user;
    }

    // ------------------------------------------------------------------ free

    public void free(long user) {
        freeBlock(user, true);
    }

    /**
     * Frees a guarded block into the calling thread's quarantine. With {@code evict}, the blocks it pushes out are
     * checked and given back; all of them are, before the first violation among them is reported.
     */
    private void freeBlock(long user, boolean evict) {
        if (user == 0) {
            return;
        }
        Block b = open(user);
        if (b == null) {
            return;
        }
        if (!fencesIntact(b)) {
            return;
        }
        // open() read the state ALLOCATED, so the sum is the fields' checksum ^ ALLOCATED: no mixer round here.
        if (!LONG.compareAndSet(Mem.ALL, b.inner + 24, b.sum, b.sum ^ ALLOCATED ^ FREED)) {
            violation(new DoubleFreeException(user, "guarded block " + describe(b) + " was freed by a racing thread"
                    + tracer.history(user)));
            return;
        }
        poison(user, b.size);
        Local l = local();
        l.live(-1, -b.size);
        // Remote: freed by another thread than its allocator (the header's thread; no second registry lookup).
        Tracer.record(l.trace, b.thread == l.ownerId ? Tracer.Kind.FREE : Tracer.Kind.REMOTE_FREE, user, b.size,
                b.site());
        Quarantine q = l.quarantine;
        if (!evict) {
            q.addWithoutEviction(b.inner, user, b.size);
            return;
        }
        q.add(b.inner, user, b.size);
        HeapCorruptionException first = null;
        while (q.over()) {
            long inner = q.innerAt(0);
            long oldUser = q.userAt(0);
            long oldSize = q.sizeAt(0);
            q.dropOldest();
            if (inner != 0) {
                first = leave(inner, writeAfterFree(oldUser, oldSize, " while in quarantine"), first);
            }
        }
        if (first != null) {
            violation(first);
        }
    }

    /**
     * A block taken out of a quarantine, its poison verified ({@code problem}, null if intact): given back to the
     * allocator if intact, else condemned (kept allocated for good: whoever wrote it may still hold the pointer) and
     * its violation added to {@code first}'s.
     */
    private HeapCorruptionException leave(long inner, HeapCorruptionException problem,
                                          HeapCorruptionException first) {
        if (problem == null) {
            core.free(inner);
            return first;
        }
        condemnFreed(inner);
        return suppressed(first, problem);
    }

    /**
     * Moves a freed block found written after its free to CONDEMNED, as it leaves its quarantine: so every FREED
     * header the allocator holds is a quarantined block, which {@link #check} verifies.
     */
    private void condemnFreed(long inner) {
        Block b = header(inner);
        if (!LONG.compareAndSet(Mem.ALL, inner + 24, sumFor(b, FREED), sumFor(b, CONDEMNED))) {
            throw new HeapCorruptionException(b.user(), "quarantined block 0x" + Long.toHexString(b.user())
                    + " does not read as freed: its header changed in the quarantine" + tracer.history(b.user()));
        }
    }

    private static HeapCorruptionException suppressed(HeapCorruptionException first, HeapCorruptionException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    private static MemorySegment poisonSource() {
        byte[] poison = new byte[POISON_SPAN];
        Arrays.fill(poison, POISON);
        return MemorySegment.ofArray(poison);
    }

    /** Overwrites the {@code size} bytes at {@code user} with the poison, every byte ({@link #intact} reads them). */
    private static void poison(long user, long size) {
        if (size <= POISON_FILL_MAX) {
            Mem.fill(user, size, POISON);
            return;
        }
        for (long off = 0; off < size; off += POISON_SPAN) {
            MemorySegment.copy(POISON_SOURCE, 0, Mem.ALL, user + off, Math.min(POISON_SPAN, size - off));
        }
    }

    /** The violation if a quarantined block's poison changed, else null. */
    private HeapCorruptionException writeAfterFree(long user, long size, String when) {
        long bad = firstUnpoisoned(user, size);
        return bad < 0 ? null : new HeapCorruptionException(user, "write after free: freed block 0x"
                + Long.toHexString(user) + " (" + size + " B) was modified at offset " + bad + when
                + tracer.history(user));
    }

    /**
     * Offset of the first byte of [user, user+size) that is not poison, or -1. Every freed block leaving a
     * quarantine is verified whole, so this is on full mode's free path: an intact block, the common case, costs one
     * branch-free pass ({@link #intact}); the offset is searched for only in a block found written. (The word loop
     * that stopped at the first difference, a branch per 32 bytes, was a third of full mode's time on blocks of 16 B
     * to 1 KiB. A bulk {@link MemorySegment#mismatch} against a poisoned segment, the JDK's vectorized compare above
     * 64 B, was measured twice and lost both times: in issue 12's third round, fill and verify of blocks of 16 B to
     * 1 KiB leaving a 256 KiB ring took 59 ns a block with this pass against 90 with mismatch, and 42 against 74 at
     * 1 KiB: its segment checks and call cost more than the compare saves at these sizes. In the fourth round an
     * {@code int}-counted loop over the global segment or a slice, OR and AND reductions with no XOR in the loop and
     * four accumulators were no faster beyond the noise, and the slices lost at 64 B: none ran at a vectorized loop's
     * speed (docs/GUARD_MODE.md, "Cost").)
     */
    private static long firstUnpoisoned(long user, long size) {
        if (size >= 8 && intact(user, size)) {
            return -1;
        }
        long off = 0;
        while (off + 8 <= size && Mem.getLong(user + off) == POISON_WORD) {
            off += 8;
        }
        for (; off < size; off++) {
            if (Mem.ALL.get(ValueLayout.JAVA_BYTE, user + off) != POISON) {
                return off;
            }
        }
        return -1;
    }

    /**
     * Whether the {@code size >= 8} bytes at {@code user} are all poison: every word's difference OR-ed, with no
     * branch in the loop, and the last word read where it ends (overlapping the one before), so no byte-wise tail.
     */
    private static boolean intact(long user, long size) {
        long diff = Mem.getLong(user + size - 8) ^ POISON_WORD;
        long end = user + size - 8;
        for (long a = user; a < end; a += 8) {
            diff |= Mem.getLong(a) ^ POISON_WORD;
        }
        return diff == 0;
    }

    // ------------------------------------------------------------------ resize and queries

    public long realloc(long user, long newSize) {
        if (user == 0) {
            return malloc(null, newSize);
        }
        Requests.checkSize(newSize);
        Block b = open(user);
        if (b == null || !fencesIntact(b)) {
            return 0;
        }
        // Always moves: a stale copy of the old pointer then lands in quarantined, poisoned memory.
        long fresh = place(core.malloc(withOverhead(newSize, HEADER)), HEADER, newSize, Tracer.Kind.REALLOC);
        Mem.copy(user, fresh, Math.min(b.size, newSize));
        // No eviction here: a violation found in another block would escape and lose the new block.
        freeBlock(user, false);
        return fresh;
    }

    public long usableSize(long user) {
        Block b = open(user);
        return b == null ? 0 : b.size;
    }

    // ------------------------------------------------------------------ validation

    /**
     * The block whose data starts at {@code user}, or null after a reported violation. The allocator validates the
     * address first; the header is read only then, and trusted only if its checksum matches.
     */
    private Block open(long user) {
        long inner;
        try {
            inner = core.liveBlockStart(user);
        } catch (InvalidFreeException e) {
            violation(withHistory(e, user));
            return null;
        }
        Block b = header(inner);
        long state = state(b);
        if (state == ALLOCATED) {
            if (user != b.user()) {
                violation(new InvalidFreeException(user, "interior pointer: " + (user - b.user()) + " bytes into "
                        + "guarded block " + describe(b) + tracer.history(b.user())));
                return null;
            }
            return b;
        }
        if (state == CONDEMNED) {
            violation(new HeapCorruptionException(user, "guarded block " + describe(b) + " was condemned after a "
                    + "detected corruption; it stays out of circulation" + tracer.history(b.user())));
            return null;
        }
        if (state == FREED) {
            violation(user == b.user()
                    ? new DoubleFreeException(user, "guarded block " + describe(b) + " is already freed (in "
                    + "quarantine)" + tracer.history(user))
                    : new InvalidFreeException(user, "interior pointer into freed guarded block "
                    + describe(b) + tracer.history(b.user())));
            return null;
        }
        violation(new HeapCorruptionException(user, "guard header of block 0x" + Long.toHexString(inner)
                + " is overwritten (an underflow before 0x" + Long.toHexString(inner + HEADER)
                + ", or a wild write): its size, class and owner are unknown" + tracer.history(user)));
        return null;
    }

    /**
     * Checks the canaries around the data. On an overflow or underflow the block is condemned (kept allocated for
     * good: whoever overran it may still write there) before the violation is reported.
     */
    private boolean fencesIntact(Block b) {
        String problem = null;
        long expected = canary(b.user() + b.size);
        long trailer = Mem.getLong(b.user() + b.size);
        if (trailer != expected) {
            int offset = Long.numberOfTrailingZeros(trailer ^ expected) / 8;
            problem = "buffer overflow: " + (offset + 1) + " or more bytes written past the end of";
        } else if (b.pad() > HEADER && Mem.getLong(b.user() - 8) != canary(b.user() - 8)) {
            problem = "buffer underflow: bytes written before the start of";
        }
        if (problem == null) {
            return true;
        }
        condemn(b);
        violation(new HeapCorruptionException(b.user(), problem + " guarded block " + describe(b)
                + tracer.history(b.user())));
        return false;
    }

    /** Moves an allocated block to CONDEMNED (once, by CAS), so it is neither reported again nor counted live. */
    private void condemn(Block b) {
        if (LONG.compareAndSet(Mem.ALL, b.inner + 24, b.sum, sumFor(b, CONDEMNED))) {
            local().live(-1, -b.size);
        }
    }

    private String describe(Block b) {
        return "0x" + Long.toHexString(b.user()) + " (" + b.size + " B requested, " + core.usableSize(b.inner)
                + " B block) allocated by thread #" + b.thread + " at " + sites.name(b.site());
    }

    /**
     * The mixed fields, onto which the header's state is XOR-ed. One round of the mixer (a bijection) over the
     * secret, the address spread by an odd multiplier, and the fields rotated apart so that the bytes an underflow or
     * a wild write overwrites in one field are not cancelled by the same bytes of another: any change to one field
     * changes the sum. The state outside the round makes the move to freed a XOR of two constants (no round in the
     * CAS) and reading the state one round whatever it is; to pass as another state an overwritten sum would have to
     * change by exactly the XOR of two of them. (Before issue 12 a round per field, four in all, computed three
     * times per malloc+free, cost about a tenth of full mode's time; then two rounds, twice or more.)
     */
    private long checksum(long inner, long size, long padSite, long thread) {
        return SampledGuard.mix(secret ^ inner * 0x9E37_79B9_7F4A_7C15L ^ size ^ Long.rotateLeft(padSite, 23)
                ^ Long.rotateLeft(thread, 47));
    }

    /**
     * The canary at {@code address}: the secret keyed by the address, an odd multiple so that canaries of different
     * places differ. No mixer round: a stray write passes only by writing exactly this secret-dependent word, which
     * a mixed value would not make less likely.
     */
    private long canary(long address) {
        return Long.rotateLeft(secret, 32) ^ address * 0xC2B2_AE3D_27D4_EB4FL;
    }

    private InvalidFreeException withHistory(InvalidFreeException e, long user) {
        InvalidFreeException out = e instanceof DoubleFreeException
                ? new DoubleFreeException(user, e.reason() + tracer.history(user))
                : new InvalidFreeException(user, e.reason() + tracer.history(user));
        out.initCause(e);
        return out;
    }

    /** A free refused before it reached the heap (a segment that is not native memory): a violation too. */
    public void refuse(InvalidFreeException e) {
        violation(e);
    }

    /** Throws (the default) or reports and goes on; the trace file is written first when configured. */
    private void violation(HakMemException e) {
        violations.increment();
        Jfr.guardViolation(core.id(), e);
        if (e instanceof InvalidFreeException refused) {
            core.counted(refused);
        }
        Path file = options.traceFile();
        if (file != null) {
            tracer.dump(file);
        }
        if (options.throwOnViolation()) {
            throw e;
        }
        System.getLogger("dev.hakmem").log(System.Logger.Level.ERROR, "hakmem guard: " + e.getMessage());
    }

    // ------------------------------------------------------------------ whole-heap views

    /** Heap errors detected so far (thrown or reported). */
    public long violations() {
        return violations.sum();
    }

    /**
     * Checks every live block's header and canaries and every quarantined block's poison, and guard mode's own
     * bookkeeping: each quarantine's bounds and byte count, the trace rings' indices and order. The quarantines of
     * dead threads are drained on the way (their intact blocks given back). Every write after free found is reported
     * in one violation (the first, the others suppressed into it), so none hides behind another. Then, on a
     * quiescent heap, the counters: live blocks and bytes against the ALLOCATED headers, and the quarantined blocks
     * against the FREED headers: each quarantined block is a FREED block the allocator still holds, each such block
     * is held by exactly one quarantine slot (none lost, none twice). The live counts are reconciled only when every header could
     * be read: an overwritten one (already reported) hides whose the block was.
     */
    public void check() {
        core.check();
        String bookkeeping = tracer.check();
        HeapCorruptionException poisoned = null;
        Set<Long> quarantined = new HashSet<>();
        long held = 0;
        synchronized (locals) {
            for (Local l : locals) {
                Quarantine q = l.quarantine;
                String problem = q.check();
                bookkeeping = bookkeeping == null ? problem : bookkeeping;
                boolean dead = !l.owner.isAlive();
                for (int k = 0; k < q.count(); k++) {
                    long inner = q.innerAt(k);
                    if (inner == 0) {
                        continue;
                    }
                    HeapCorruptionException p = writeAfterFree(q.userAt(k), q.sizeAt(k), "");
                    if (p == null && !dead) {
                        quarantined.add(inner);
                        held++;
                        continue;
                    }
                    if (p != null) {
                        q.forget(k);
                    }
                    poisoned = leave(inner, p, poisoned);
                }
                if (dead) {
                    q.clear();
                }
            }
        }
        if (poisoned != null) {
            violation(poisoned);
        }
        if (bookkeeping != null) {
            violation(new HeapCorruptionException(0, "guard mode's bookkeeping: " + bookkeeping));
        }
        long[] allocated = new long[2];
        boolean[] unreadable = new boolean[1];
        Set<Long> freed = new HashSet<>();
        core.forEachLiveBlock(inner -> {
            Block b = header(inner);
            long state = state(b);
            if (state == ALLOCATED && fencesIntact(b)) {
                allocated[0]++;
                allocated[1] += b.size;
            } else if (state == FREED) {
                freed.add(inner);
            } else if (state == 0) {
                unreadable[0] = true;
            }
        });
        String drift = null;
        if (held != quarantined.size()) {
            drift = (held - quarantined.size()) + " quarantined blocks are held twice";
        }
        for (long inner : quarantined) {
            if (drift == null && !freed.contains(inner)) {
                drift = "quarantined block 0x" + Long.toHexString(inner + HEADER) + " is not a freed block of the heap";
            }
        }
        for (long inner : freed) {
            if (drift == null && !quarantined.contains(inner)) {
                drift = "freed block 0x" + Long.toHexString(inner + HEADER) + " is in no quarantine: it will never be "
                        + "verified nor reused";
            }
        }
        long[] live = live();
        if (drift == null && !unreadable[0] && (live[0] != allocated[0] || live[1] != allocated[1])) {
            drift = "guard mode counts " + live[0] + " live blocks of " + live[1] + " bytes, but "
                    + allocated[0] + " allocated headers of " + allocated[1] + " bytes are intact";
        }
        if (drift != null) {
            throw new HeapCorruptionException(0, drift);
        }
    }

    /** The live guarded blocks and bytes, summed over every thread's share (racy; exact when quiescent). */
    private long[] live() {
        long[] sum = new long[2];
        synchronized (locals) {
            for (Local l : locals) {
                sum[0] += l.blocks();
                sum[1] += l.bytes();
            }
        }
        return sum;
    }

    /** The live guarded blocks grouped by allocation site. */
    public LeakReport leakReport() {
        Map<Integer, long[]> bySite = new HashMap<>();
        long[] unreadable = new long[2];
        core.forEachLiveBlock(inner -> {
            Block b = header(inner);
            long state = state(b);
            if (state == ALLOCATED) {
                long[] t = bySite.computeIfAbsent(b.site(), k -> new long[2]);
                t[0]++;
                t[1] += b.size;
            } else if (state == 0) {
                // Still the program's, but an underflow destroyed its header: size and site are unknown.
                unreadable[0]++;
                unreadable[1] += core.usableSize(inner) - HEADER - TRAILER;
            }
        });
        List<LeakReport.Site> list = new ArrayList<>();
        if (unreadable[0] > 0) {
            list.add(new LeakReport.Site("(guard header overwritten: site unknown; bytes are the block's capacity)",
                    unreadable[0], unreadable[1]));
        }
        long blocks = unreadable[0];
        long bytes = unreadable[1];
        for (var e : bySite.entrySet()) {
            list.add(new LeakReport.Site(sites.name(e.getKey()), e.getValue()[0], e.getValue()[1]));
            blocks += e.getValue()[0];
            bytes += e.getValue()[1];
        }
        list.sort(Comparator.comparingLong(LeakReport.Site::bytes).reversed());
        return new LeakReport(blocks, bytes, list);
    }

    public void dumpTrace(Path file) {
        tracer.dump(file);
    }

    /**
     * The heap is being closed: its blocks, live or quarantined, go with its mappings. The quarantines forget them
     * (nothing may read their poison once unmapped) and the live counts drop to zero. No thread uses the heap
     * meanwhile, so the closing thread may write every thread's state.
     */
    public void closed() {
        synchronized (locals) {
            for (Local l : locals) {
                l.quarantine.clear();
                l.live(-l.blocks(), -l.bytes());
            }
        }
    }

    /** The allocator's stats with live counts as the program sees them (quarantined blocks are not live). */
    public HakMemStats stats() {
        HakMemStats s = core.stats();
        long[] live = live();
        return new HakMemStats(live[1], live[0], s.mappedBytes(), s.committedBytes(), s.tiers(),
                s.classes(), s.events(), s.sites());
    }
}
