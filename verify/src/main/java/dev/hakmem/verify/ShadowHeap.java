package dev.hakmem.verify;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.Site;
import dev.hakmem.SiteProfile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An oracle for one {@link HakMem}: it goes through the heap's API, keeps its own record of every live block, and
 * throws {@link AssertionError} as soon as the heap breaks a promise.
 *
 * <p>Each new block is checked (non-zero, aligned, {@code usableSize >= requested}, overlapping no live block), then
 * filled over its whole usable size with a {@link Pattern} of its own seed; the pattern is checked again before the
 * block is freed or reallocated, and by {@link #verifyAll()}.
 *
 * <p>It also keeps a ledger per allocation site ({@link Site}; {@code HakMem}'s own methods are the anonymous site) of
 * the blocks of at least one byte handed out and freed, which a heap that samples every byte must report exactly
 * ({@link #assertSitesAgree()}).
 *
 * <p>Thread-safe, as long as each block is used by one thread at a time (as the heap requires anyway).
 * {@link #verifyAll()} and {@link #assertStatsAgree()} need a quiescent heap: a block that another thread is filling
 * or freeing at that moment would be reported.
 */
public final class ShadowHeap {

    /**
     * A live block as the shadow knows it; the pattern covers {@code [address, address + usable)}. {@code site} is
     * the name of the site that allocated it, or null when the request was of 0 bytes (no byte to sample).
     */
    public record Block(long address, long requested, long usable, long seed, String site) {
        public long end() {
            return address + usable;
        }

        @Override
        public String toString() {
            return "block 0x" + Long.toHexString(address) + " (requested " + requested + ", usable " + usable + ")";
        }
    }

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    private static final long MIN_ALIGNMENT = 16;
    private static final long TINY_MAX = 1L << 10;
    private static final long MID_MAX = 64L << 10;
    private static final long LARGE_MAX = 1L << 20;
    /** The anonymous site's name, {@code HakMem}'s methods'. */
    private static final String ANONYMOUS = "(anonymous)";

    private final HakMem heap;
    private final AtomicLong nextSeed;
    private final Object lock = new Object();
    /** Live blocks by address; guarded by {@link #lock}. */
    private final TreeMap<Long, Block> live = new TreeMap<>();
    /**
     * The shadow's own ledger of what the heap handed out and took back through it, by usable size (a class's block
     * size, or a big mapping's span): {mallocs, frees}. A realloc in place is neither; one that moves is both.
     * Guarded by {@link #lock}.
     */
    private final TreeMap<Long, long[]> ledger = new TreeMap<>();
    /**
     * Per site name, of the blocks of at least one byte handed out through the shadow: {mallocs, bytes requested,
     * frees}. Guarded by {@link #lock}.
     */
    private final Map<String, long[]> siteLedger = new HashMap<>();
    /** The heap's counters when the shadow began: the ledger accounts for what came after. */
    private final HakMemStats baseline;

    /** A shadow over {@code heap}, which must have no live blocks yet (else stats cannot agree). */
    public ShadowHeap(HakMem heap) {
        this(heap, 0x5EED_5EEDL);
    }

    /** As {@link #ShadowHeap(HakMem)}, with the block seeds derived from {@code seed} so runs are reproducible. */
    public ShadowHeap(HakMem heap, long seed) {
        this.heap = heap;
        this.nextSeed = new AtomicLong(seed);
        this.baseline = heap.stats();
    }

    public HakMem heap() {
        return heap;
    }

    public long malloc(long size) {
        return malloc(null, size);
    }

    /** A malloc through {@code site} (null: the heap's own, the anonymous site). */
    public long malloc(Site site, long size) {
        long address = site == null ? heap.malloc(size) : site.malloc(size);
        return fill(register(address, size, MIN_ALIGNMENT, nameOf(site), "malloc(" + size + ")", true));
    }

    /** Also checks that the block reads as zero over {@code count * size} bytes. */
    public long calloc(long count, long size) {
        return calloc(null, count, size);
    }

    /** A calloc through {@code site} (null: the anonymous site), checked as {@link #calloc(long, long)}. */
    public long calloc(Site site, long count, long size) {
        long address = site == null ? heap.calloc(count, size) : site.calloc(count, size);
        String op = "calloc(" + count + ", " + size + ")";
        long requested;
        try {
            requested = Math.multiplyExact(count, size);
        } catch (ArithmeticException e) {
            throw new AssertionError(op + " overflows but returned 0x" + Long.toHexString(address));
        }
        Block b = register(address, requested, MIN_ALIGNMENT, nameOf(site), op, true);
        long nonZero = firstNonZero(address, requested);
        if (nonZero >= 0) {
            throw new AssertionError(op + " returned " + b + " that is not zeroed: byte at offset " + nonZero
                    + " is 0x" + hex(Pattern.read(address + nonZero)));
        }
        return fill(b);
    }

    public long mallocAligned(long size, long alignment) {
        long address = heap.mallocAligned(size, alignment);
        return fill(register(address, size, Math.max(MIN_ALIGNMENT, alignment), ANONYMOUS,
                "mallocAligned(" + size + ", " + alignment + ")", true));
    }

    /**
     * Reallocates a live block (or allocates, for address 0): checks the whole old block first, then that the first
     * {@code min(old requested, newSize)} bytes arrived intact, then refills. If the heap throws, the old block stays
     * live in the shadow, as the heap promises it stays live too.
     */
    public long realloc(long address, long newSize) {
        String op = "realloc(0x" + Long.toHexString(address) + ", " + newSize + ")";
        if (address == 0) {
            return fill(register(heap.realloc(0, newSize), newSize, MIN_ALIGNMENT, ANONYMOUS, op, true));
        }
        Block old = take(address, op);
        verify(old, "before " + op);
        long moved;
        try {
            moved = heap.realloc(address, newSize);
        } catch (RuntimeException | Error e) {
            putBack(old);
            throw e;
        }
        // In place the block stays its site's; moved, the new one is the anonymous site's (realloc mallocs it).
        Block b = moved == address
                ? register(moved, newSize, MIN_ALIGNMENT, old.site(), op, false)
                : register(moved, newSize, MIN_ALIGNMENT, ANONYMOUS, op, true);
        if (moved != address) {
            countFree(old);
        }
        long kept = Math.min(old.requested(), newSize);
        long bad = Pattern.check(moved, kept, old.seed(), old.address());
        if (bad >= 0) {
            throw new AssertionError(op + " moved " + old + " to " + b + " but lost its contents at offset " + bad
                    + ": expected 0x" + hex(Pattern.expected(old.address(), old.seed(), bad))
                    + ", found 0x" + hex(Pattern.read(moved + bad)) + " (" + kept + " bytes must survive)");
        }
        return fill(b);
    }

    /** Checks the block's contents, then frees it. */
    public void free(long address) {
        String op = "free(0x" + Long.toHexString(address) + ")";
        Block b = take(address, op);
        verify(b, "before " + op);
        try {
            heap.free(address);
        } catch (RuntimeException e) {
            throw new AssertionError("the heap refused to free live " + b + ": " + e, e);
        }
        countFree(b);
    }

    /** Allocates through {@link HakMem#allocate(long, long)}, checking the segment's size as well. */
    public MemorySegment allocateSegment(long size, long alignment) {
        return allocateSegment(null, size, alignment);
    }

    /** Allocates through {@code site}'s {@link Site#allocate} (null: the anonymous site's), checked likewise. */
    public MemorySegment allocateSegment(Site site, long size, long alignment) {
        MemorySegment segment = site == null ? heap.allocate(size, alignment) : site.allocate(size, alignment);
        String op = "allocate(" + size + ", " + alignment + ")";
        if (segment.byteSize() != size || !segment.isNative()) {
            throw new AssertionError(op + " returned " + segment);
        }
        fill(register(segment.address(), size, Math.max(MIN_ALIGNMENT, alignment), nameOf(site), op, true));
        return segment;
    }

    private static String nameOf(Site site) {
        return site == null ? ANONYMOUS : site.name();
    }

    /** Checks the segment's block, then frees it through {@link HakMem#free(MemorySegment)}. */
    public void freeSegment(MemorySegment segment) {
        String op = "free(" + segment + ")";
        Block b = take(segment.address(), op);
        verify(b, "before " + op);
        try {
            heap.free(segment);
        } catch (RuntimeException e) {
            throw new AssertionError("the heap refused to free live " + b + ": " + e, e);
        }
        countFree(b);
    }

    /** Checks the contents of every live block. Quiescent heap only. */
    public void verifyAll() {
        for (Block b : blocks()) {
            verify(b, "verifyAll");
        }
    }

    /**
     * Checks that the heap's counters match the shadow's: live blocks and the sum of their usable sizes, in total and
     * per tier (a block's tier follows from its usable size, which is its class's block size or its mapping's span);
     * and, against the shadow's ledger, the mallocs, frees and live blocks of every tier and size class since the
     * shadow began. In full guard mode the tiers and classes count the allocator's inner blocks (headers, canaries and
     * quarantine included), which the shadow does not see, and in sampled mode the sampled blocks are in no tier or
     * class; so with either level on only the totals are compared.
     */
    public void assertStatsAgree() {
        HakMemStats stats = heap.stats();
        long count = 0;
        long bytes = 0;
        // By usable size: {mallocs, frees, live blocks} the heap must have added since the baseline.
        TreeMap<Long, long[]> expected = new TreeMap<>();
        synchronized (lock) {
            for (Block b : live.values()) {
                expected.computeIfAbsent(b.usable(), k -> new long[3])[2]++;
                count++;
                bytes += b.usable();
            }
            ledger.forEach((usable, mf) -> {
                long[] e = expected.computeIfAbsent(usable, k -> new long[3]);
                e[0] = mf[0];
                e[1] = mf[1];
            });
        }
        if (stats.liveBlocks() != count || stats.liveBytes() != bytes) {
            throw new AssertionError("heap stats disagree with the shadow: heap has " + stats.liveBlocks()
                    + " live blocks of " + stats.liveBytes() + " bytes, shadow has " + count + " blocks of "
                    + bytes + " bytes");
        }
        if (heap.config().guard().enabled() || heap.config().guard().sampling()) {
            return;
        }
        EnumMap<HakMemStats.Tier, long[]> tiers = new EnumMap<>(HakMemStats.Tier.class);
        for (HakMemStats.Tier t : HakMemStats.Tier.values()) {
            tiers.put(t, new long[4]);
        }
        TreeMap<Long, long[]> classes = new TreeMap<>();
        expected.forEach((usable, e) -> {
            long[] t = tiers.get(tierOf(usable));
            t[0] += e[0];
            t[1] += e[1];
            t[2] += e[2];
            t[3] += e[2] * usable;
            if (usable <= LARGE_MAX) {
                classes.put(usable, e);
            }
        });
        for (HakMemStats.Tier t : HakMemStats.Tier.values()) {
            HakMemStats.TierStats ts = stats.tier(t);
            HakMemStats.TierStats base = baseline.tier(t);
            long[] e = tiers.get(t);
            if (ts == null || ts.mallocs() - base.mallocs() != e[0] || ts.frees() - base.frees() != e[1]
                    || ts.liveBlocks() != e[2] || ts.liveBytes() != e[3]) {
                throw new AssertionError("heap stats of tier " + t + " disagree with the shadow: heap has " + ts
                        + " (" + base + " when the shadow began), shadow has " + e[0] + " mallocs, " + e[1]
                        + " frees, " + e[2] + " blocks of " + e[3] + " bytes");
            }
        }
        assertClassesAgree(stats, classes);
    }

    /** Each size class's mallocs, frees and live blocks since the baseline, against the shadow's, by block size. */
    private void assertClassesAgree(HakMemStats stats, TreeMap<Long, long[]> expected) {
        TreeMap<Long, long[]> counted = new TreeMap<>();
        for (HakMemStats.ClassStats c : stats.classes()) {
            HakMemStats.ClassStats base = baseline.classes().get(c.index());
            long[] t = counted.computeIfAbsent(c.blockSize(), k -> new long[3]);
            t[0] += c.mallocs() - base.mallocs();
            t[1] += c.frees() - base.frees();
            t[2] += c.liveBlocks();
        }
        counted.keySet().forEach(size -> expected.putIfAbsent(size, new long[3]));
        expected.forEach((size, e) -> {
            long[] c = counted.getOrDefault(size, new long[3]);
            if (!Arrays.equals(c, e)) {
                throw new AssertionError("heap stats of the " + size + "-byte class disagree with the shadow: heap"
                        + " counts " + c[0] + " mallocs and " + c[1] + " frees since the shadow began, " + c[2]
                        + " blocks live; shadow has " + e[0] + ", " + e[1] + ", " + e[2]);
            }
        });
    }

    /**
     * For a heap that samples every byte (so its profiles are exact): each site's profile must count, since the
     * shadow began, exactly the blocks of at least one byte the shadow saw it hand out (allocations, bytes
     * requested), those freed (lifetimes), and those live. Not for guard mode, whose blocks the allocator sees with
     * their headers, and frees late from the quarantine.
     */
    public void assertSitesAgree() {
        Map<String, long[]> expected = new HashMap<>();
        synchronized (lock) {
            siteLedger.forEach((site, l) -> expected.put(site, new long[]{l[0], l[1], l[2], 0}));
            for (Block b : live.values()) {
                if (b.site() != null) {
                    expected.get(b.site())[3]++;
                }
            }
        }
        Map<String, SiteProfile> before = new HashMap<>();
        baseline.sites().forEach(p -> before.put(p.name(), p));
        for (SiteProfile p : heap.stats().sites()) {
            long[] e = expected.getOrDefault(p.name(), new long[4]);
            SiteProfile b = before.get(p.name());
            long[] counted = {p.allocations() - (b == null ? 0 : b.allocations()),
                    p.bytes() - (b == null ? 0 : b.bytes()), p.lifetimes() - (b == null ? 0 : b.lifetimes()),
                    p.liveSamples()};
            if (!Arrays.equals(e, counted)) {
                throw new AssertionError("the profile of site " + p.name() + " disagrees with the shadow: it counts "
                        + counted[0] + " allocations of " + counted[1] + " bytes, " + counted[2] + " freed and "
                        + counted[3] + " live since the shadow began; the shadow saw " + e[0] + " of " + e[1]
                        + " bytes, " + e[2] + " freed, " + e[3] + " live");
            }
            expected.remove(p.name());
        }
        if (!expected.isEmpty()) {
            throw new AssertionError("the heap reports no profile for sites " + expected.keySet());
        }
    }

    /** The tier that hands out blocks of this usable size, by the bounds documented on {@link HakMemStats.Tier}. */
    public static HakMemStats.Tier tierOf(long usable) {
        if (usable <= TINY_MAX) {
            return HakMemStats.Tier.TINY;
        }
        if (usable <= MID_MAX) {
            return HakMemStats.Tier.MID;
        }
        return usable <= LARGE_MAX ? HakMemStats.Tier.LARGE : HakMemStats.Tier.BIG;
    }

    /** Blocks the heap handed out through the shadow since it began (a realloc that moved counts one). */
    public long handedOut() {
        synchronized (lock) {
            return ledger.values().stream().mapToLong(mf -> mf[0]).sum();
        }
    }

    /** Frees every live block, checking each first. */
    public void freeAll() {
        for (Block b : blocks()) {
            free(b.address());
        }
    }

    /** Whether {@code address} is the start of a live block. */
    public boolean isLive(long address) {
        synchronized (lock) {
            return live.containsKey(address);
        }
    }

    /** The live block that starts at {@code address}, or null. */
    public Block block(long address) {
        synchronized (lock) {
            return live.get(address);
        }
    }

    /** A snapshot of the live blocks in address order. */
    public List<Block> blocks() {
        synchronized (lock) {
            return new ArrayList<>(live.values());
        }
    }

    public int liveCount() {
        synchronized (lock) {
            return live.size();
        }
    }

    /** Checks the block's pattern over its whole usable size. */
    private static void verify(Block b, String when) {
        long bad = Pattern.check(b.address(), b.usable(), b.seed());
        if (bad >= 0) {
            throw new AssertionError(b + " corrupted at offset " + bad + " (address 0x"
                    + Long.toHexString(b.address() + bad) + "), found " + when + ": expected 0x"
                    + hex(Pattern.expected(b.address(), b.seed(), bad)) + ", found 0x"
                    + hex(Pattern.read(b.address() + bad)));
        }
    }

    /**
     * Checks a block the heap just returned and records it ({@code handedOut}: in the ledger too, as the heap counts
     * it); the caller fills it.
     */
    private Block register(long address, long requested, long alignment, String site, String op,
                           boolean handedOut) {
        if (address == 0) {
            throw new AssertionError(op + " returned 0");
        }
        if ((address & (alignment - 1)) != 0) {
            throw new AssertionError(op + " returned 0x" + Long.toHexString(address) + ", not aligned to " + alignment);
        }
        long usable = heap.usableSize(address);
        if (usable < requested) {
            throw new AssertionError(op + " returned 0x" + Long.toHexString(address) + " with usableSize " + usable
                    + " < requested " + requested);
        }
        // A zero-size block is still unique: give it one byte of extent so that a duplicate address overlaps.
        String profiled = handedOut ? (requested > 0 ? site : null) : site;
        Block b = new Block(address, requested, usable, nextSeed.getAndIncrement(), profiled);
        long end = address + Math.max(usable, 1);
        synchronized (lock) {
            Map.Entry<Long, Block> below = live.floorEntry(address);
            if (below != null && Math.max(below.getValue().end(), below.getKey() + 1) > address) {
                throw new AssertionError(op + " returned " + b + ", which overlaps live " + below.getValue());
            }
            Map.Entry<Long, Block> above = live.ceilingEntry(address);
            if (above != null && above.getKey() < end) {
                throw new AssertionError(op + " returned " + b + ", which overlaps live " + above.getValue());
            }
            live.put(address, b);
            if (handedOut) {
                ledger.computeIfAbsent(usable, k -> new long[2])[0]++;
                if (profiled != null) {
                    long[] l = siteLedger.computeIfAbsent(profiled, k -> new long[3]);
                    l[0]++;
                    l[1] += requested;
                }
            }
        }
        return b;
    }

    /** Counts in the ledgers the free of block {@code b}, once the heap took it back. */
    private void countFree(Block b) {
        synchronized (lock) {
            ledger.computeIfAbsent(b.usable(), k -> new long[2])[1]++;
            if (b.site() != null) {
                siteLedger.get(b.site())[2]++;
            }
        }
    }

    private long fill(Block b) {
        Pattern.fill(b.address(), b.usable(), b.seed());
        return b.address();
    }

    private Block take(long address, String op) {
        synchronized (lock) {
            Block b = live.remove(address);
            if (b == null) {
                throw new IllegalArgumentException(op + ": 0x" + Long.toHexString(address)
                        + " is not a live block of this shadow heap");
            }
            return b;
        }
    }

    private void putBack(Block b) {
        synchronized (lock) {
            live.put(b.address(), b);
        }
    }

    private static long firstNonZero(long address, long size) {
        long i = 0;
        for (; i + 8 <= size; i += 8) {
            if (ALL.get(ValueLayout.JAVA_LONG_UNALIGNED, address + i) != 0) {
                break;
            }
        }
        for (; i < size; i++) {
            if (ALL.get(ValueLayout.JAVA_BYTE, address + i) != 0) {
                return i;
            }
        }
        return -1;
    }

    private static String hex(byte b) {
        return String.format("%02x", b & 0xff);
    }
}
