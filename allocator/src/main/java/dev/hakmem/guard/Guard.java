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

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
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
 * The 32-byte header sits at the start of the allocator's block. Its checksum mixes a per-process secret with the
 * block's address, its header fields and its state (allocated or freed), as Scudo checksums its chunk headers, so a
 * header that an underflow or a wild write touched is recognised, and the fields are trusted only after the
 * checksum matches. An 8-byte canary derived from the secret and the address follows the data (and precedes it,
 * when an alignment pad leaves room). Every address handed in is first validated by the allocator's metadata
 * ({@link Allocator#liveBlockStart}); only then is the header read.
 *
 * <p>Freeing moves the checksum from allocated to freed with a CAS (of racing frees exactly one wins), poisons the
 * data and puts the block in a bounded quarantine; the poison is verified when it leaves, so a write after free is
 * caught. Errors carry the block's size, class, allocating thread and site, and the block's recent trace.
 */
public final class Guard {
    static final int HEADER = 32;
    private static final int TRAILER = 8;
    private static final byte POISON = (byte) 0xDF;
    /** 64 KiB of poison, the reference a freed block's bytes are compared with. */
    private static final MemorySegment POISONED = Arena.global().allocate(1 << 16).fill(POISON);
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
    private final Quarantine quarantine;
    // Quiescent, checked by check(): liveBlocks == the allocator's live blocks whose header reads ALLOCATED, and
    // liveBytes == their sizes summed (a block freed into the quarantine or condemned is no longer the program's).
    private final LongAdder liveBlocks = new LongAdder();
    private final LongAdder liveBytes = new LongAdder();
    private final LongAdder violations = new LongAdder();

    public Guard(Allocator core, GuardOptions options) {
        this.core = core;
        this.options = options;
        this.sites = new Sites(options.siteDepth(), options.siteSampling());
        this.tracer = new Tracer(options.traceRingSize(), sites);
        this.quarantine = new Quarantine(options.quarantineBytes(), Quarantine.MAX_BLOCKS);
        core.setSlowPathListener(tracer);
    }

    /** A block's header, read only after the allocator validated the block; trusted only once its state is known. */
    private record Block(long inner, long size, long padSite, long thread, long sum) {
        long pad() {
            return padSite & 0xFFFF_FFFFL;
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
        return checksum(b.inner, b.size, b.padSite, b.thread, state);
    }

    /** ALLOCATED, FREED or CONDEMNED when the checksum matches one of them, else 0: the header was overwritten. */
    private long state(Block b) {
        for (long state : new long[]{ALLOCATED, FREED, CONDEMNED}) {
            if (b.sum == sumFor(b, state)) {
                return state;
            }
        }
        return 0;
    }

    // ------------------------------------------------------------------ allocate

    /**
     * A guarded block for {@code site} (null: the anonymous site). The allocator profiles and places the inner
     * block, header and canary included, by the site's rule.
     */
    public long malloc(SiteState site, long size) {
        Requests.checkSize(size);
        return place(core.malloc(site, withOverhead(size, HEADER)), HEADER, size, Tracer.Kind.ALLOC);
    }

    public long calloc(SiteState site, long count, long size) {
        long total = Requests.callocTotal(count, size);
        return place(core.calloc(site, 1, withOverhead(total, HEADER)), HEADER, total, Tracer.Kind.ALLOC);
    }

    public long mallocAligned(SiteState site, long size, long alignment) {
        Requests.checkAlignment(alignment);
        if (alignment <= 16) {
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
        long thread = Thread.currentThread().threadId();
        long padSite = pad | ((long) site << 32);
        Mem.putLong(inner, size);
        Mem.putLong(inner + 8, padSite);
        Mem.putLong(inner + 16, thread);
        Mem.putLong(inner + 24, checksum(inner, size, padSite, thread, ALLOCATED));
        if (pad > HEADER) {
            Mem.putLong(user - 8, canary(user - 8));
        }
        Mem.putLong(user + size, canary(user + size));
        liveBlocks.increment();
        liveBytes.add(size);
        tracer.record(kind, user, size, site);
        return user;
    }

    // ------------------------------------------------------------------ free

    public void free(long user) {
        freeBlock(user, true);
    }

    /**
     * Frees a guarded block into the quarantine. With {@code evict}, the blocks it pushes out are checked and given
     * back; all of them are, before the first violation among them is reported.
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
        if (!LONG.compareAndSet(Mem.ALL, b.inner + 24, b.sum, sumFor(b, FREED))) {
            violation(new DoubleFreeException(user, "guarded block " + describe(b) + " was freed by a racing thread"
                    + tracer.history(user)));
            return;
        }
        Mem.fill(user, b.size, POISON);
        liveBlocks.decrement();
        liveBytes.add(-b.size);
        tracer.record(core.ownedByCaller(b.inner) ? Tracer.Kind.FREE : Tracer.Kind.REMOTE_FREE, user, b.size, b.site());
        Quarantine.Entry entry = new Quarantine.Entry(b.inner, user, b.size);
        if (!evict) {
            quarantine.addWithoutEviction(entry);
            return;
        }
        HeapCorruptionException first = null;
        for (Quarantine.Entry e : quarantine.add(entry)) {
            HeapCorruptionException problem = writeAfterFree(e, " while in quarantine");
            if (problem == null) {
                core.free(e.inner());
            } else if (first == null) {
                first = problem;
            } else {
                first.addSuppressed(problem);
            }
        }
        if (first != null) {
            violation(first);
        }
    }

    /**
     * The violation if a quarantined block's poison changed, else null. Such a block stays allocated for good
     * (whoever wrote it may still hold the pointer); the caller has taken it out of the quarantine.
     */
    private HeapCorruptionException writeAfterFree(Quarantine.Entry e, String when) {
        long bad = firstUnpoisoned(e.user(), e.size());
        return bad < 0 ? null : new HeapCorruptionException(e.user(), "write after free: freed block 0x"
                + Long.toHexString(e.user()) + " (" + e.size() + " B) was modified at offset " + bad + when
                + tracer.history(e.user()));
    }

    /**
     * Offset of the first byte of [user, user+size) that is not poison, or -1. Compared against {@link #POISONED}
     * with {@link MemorySegment#mismatch}, which the JIT vectorises: every freed block leaving the quarantine is
     * verified whole, so this is on full mode's free path (a word-by-word loop cost about 1 ns per 8 bytes).
     */
    private static long firstUnpoisoned(long user, long size) {
        for (long off = 0; off < size; off += POISONED.byteSize()) {
            long n = Math.min(POISONED.byteSize(), size - off);
            long bad = MemorySegment.mismatch(Mem.ALL, user + off, user + off + n, POISONED, 0, n);
            if (bad >= 0) {
                return off + bad;
            }
        }
        return -1;
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
            liveBlocks.decrement();
            liveBytes.add(-b.size);
        }
    }

    private String describe(Block b) {
        return "0x" + Long.toHexString(b.user()) + " (" + b.size + " B requested, " + core.usableSize(b.inner)
                + " B block) allocated by thread #" + b.thread + " at " + sites.name(b.site());
    }

    private long checksum(long inner, long size, long padSite, long thread, long state) {
        long h = SampledGuard.mix(secret ^ inner ^ state);
        h = SampledGuard.mix(h ^ size);
        h = SampledGuard.mix(h ^ padSite);
        return SampledGuard.mix(h ^ thread);
    }

    private long canary(long address) {
        return SampledGuard.mix(secret + address * 0x9E37_79B9_7F4A_7C15L);
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
     * bookkeeping: the quarantine's bounds and byte count, the trace rings' indices and order. Then, on a quiescent
     * heap, the counters: live blocks and bytes against the ALLOCATED headers, and each quarantined block must be a
     * FREED block the allocator still holds. The live counts are reconciled only when every header could be read: an
     * overwritten one (already reported) hides whose the block was.
     */
    public void check() {
        core.check();
        for (String problem : new String[]{quarantine.check(), tracer.check()}) {
            if (problem != null) {
                violation(new HeapCorruptionException(0, "guard mode's bookkeeping: " + problem));
            }
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
        for (Quarantine.Entry e : quarantine.snapshot()) {
            HeapCorruptionException problem = writeAfterFree(e, "");
            if (problem != null && quarantine.remove(e)) {
                violation(problem);
            }
        }
        String drift = null;
        for (Quarantine.Entry e : quarantine.snapshot()) {
            if (!freed.contains(e.inner())) {
                drift = "quarantined block 0x" + Long.toHexString(e.user()) + " is not a freed block of the heap";
                break;
            }
        }
        if (drift == null && !unreadable[0]
                && (liveBlocks.sum() != allocated[0] || liveBytes.sum() != allocated[1])) {
            drift = "guard mode counts " + liveBlocks.sum() + " live blocks of " + liveBytes.sum() + " bytes, but "
                    + allocated[0] + " allocated headers of " + allocated[1] + " bytes are intact";
        }
        if (drift != null) {
            throw new HeapCorruptionException(0, drift);
        }
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
     * The heap is being closed: its blocks, live or quarantined, go with its mappings. The quarantine forgets them
     * (nothing may read their poison once unmapped) and the live counts drop to zero.
     */
    public void closed() {
        quarantine.clear();
        liveBlocks.reset();
        liveBytes.reset();
    }

    /** The allocator's stats with live counts as the program sees them (quarantined blocks are not live). */
    public HakMemStats stats() {
        HakMemStats s = core.stats();
        return new HakMemStats(liveBytes.sum(), liveBlocks.sum(), s.mappedBytes(), s.committedBytes(), s.tiers(),
                s.classes(), s.events(), s.sites());
    }
}
