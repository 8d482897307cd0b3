package dev.hakmem.stress;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemException;
import dev.hakmem.os.Mem;

import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Sampled guard mode's bug hunt (issue 12): a program with two rare heap bugs, run on a heap in sampled guard mode
 * until the guard has reported both, each with the allocating and the freeing stack. {@link #parseRequest} writes
 * one byte past the end of 1 block in {@value #ONE_IN}; {@link #cacheEntry} writes one byte into 1 block in
 * {@value #ONE_IN} after freeing it. Both sizes are 8 more than a multiple of 16, so the stray byte stays inside the
 * allocator's block when the block is not sampled (the slab's metadata is on the Java heap: nothing breaks).
 *
 * <p>The overflow is reported by the sampled block's free (thrown); the write after free by the background scan or
 * by the reuse of its slot (logged, counted and kept), collected by {@link HakMem#check()} once the violation count
 * moves. A report counts only if it names both stacks at the right site.
 *
 * <p>The time to a report is counted in allocations as well as in seconds: the allocations do not depend on the
 * machine's load, and a run's expected length scales with the rate (a bug once in {@value #ONE_IN} calls of a site
 * that makes half the allocations is reported after about 2 x {@value #ONE_IN} x rate allocations). Each iteration
 * is kept cheap so that the hunt affords the default rate: one random draw decides both sizes, the request buffer is
 * written with one bulk fill, and the rare bugs come from a countdown drawn geometrically, which gives every call the
 * same independent 1 in {@value #ONE_IN} chance as a draw per call would. The sampler sees the buggy blocks as any
 * others: they are ordinary mallocs of the two sites.
 */
public final class BugHunt {
    /** One block in this many is overflowed (resp. written after free) at each site. */
    public static final int ONE_IN = 100_000;
    /** Iterations between two looks at the violation count. */
    private static final int POLL = 1 << 16;

    /**
     * One seed's outcome: nanoseconds and allocations from the start to each first report (-1: not within the run),
     * and the allocations made in all.
     */
    public record Result(long seed, long overflowNanos, long writeAfterFreeNanos, long overflowAllocations,
                         long writeAfterFreeAllocations, long allocations) {
        public boolean found() {
            return overflowNanos >= 0 && writeAfterFreeNanos >= 0;
        }
    }

    private final HakMem heap;
    private final SplittableRandom random;
    private long overflowAt = -1;
    private long writeAfterFreeAt = -1;
    private long overflowAllocations = -1;
    private long writeAfterFreeAllocations = -1;
    private long start;
    /** Allocations made by the completed iterations. */
    private long allocations;
    /** Calls of each site left before its next bug (0: this call has it). */
    private long untilOverflow;
    private long untilWriteAfterFree;

    private BugHunt(HakMem heap, long seed) {
        this.heap = heap;
        this.random = new SplittableRandom(seed);
        this.untilOverflow = callsBeforeBug();
        this.untilWriteAfterFree = callsBeforeBug();
    }

    /**
     * Hunts with sampled guard mode at {@code rate} for at most {@code maxNanos} and {@code maxAllocations}: a run
     * bounded by allocations has the same length whatever the machine's load.
     */
    public static Result run(long seed, int rate, long maxNanos, long maxAllocations) {
        HakMemConfig config = HakMemConfig.builder().guard(GuardOptions.sampled(rate)).build();
        try (HakMem heap = HakMem.create(config)) {
            return new BugHunt(heap, seed).hunt(seed, maxNanos, maxAllocations);
        }
    }

    private Result hunt(long seed, long maxNanos, long maxAllocations) {
        start = System.nanoTime();
        long seen = 0;
        while (overflowAt < 0 || writeAfterFreeAt < 0) {
            for (int i = 0; i < POLL; i++) {
                long r = random.nextLong();
                try {
                    parseRequest(16L * (1 + (int) ((r & 0xFFFF_FFFFL) * 31 >>> 32)) + 8);
                } catch (HakMemException e) {
                    seen++;
                    classify(e, allocations + 1);
                }
                cacheEntry(16L * (1 + (int) ((r >>> 32) * 15 >>> 32)) + 8);
                allocations += 2;
            }
            if (heap.violations() > seen) {
                seen = collect();
            }
            if (System.nanoTime() - start > maxNanos || allocations >= maxAllocations) {
                break;
            }
        }
        return new Result(seed, overflowAt < 0 ? -1 : overflowAt - start,
                writeAfterFreeAt < 0 ? -1 : writeAfterFreeAt - start, overflowAllocations, writeAfterFreeAllocations,
                allocations);
    }

    /**
     * Calls of a site before its next bug: geometric with success probability 1 / {@value #ONE_IN}, by inversion,
     * so each call has its bug with that probability independently of the others.
     */
    private long callsBeforeBug() {
        return (long) (Math.log(1 - random.nextDouble()) / Math.log1p(-1.0 / ONE_IN));
    }

    /** Site 1: a request buffer of {@code size} bytes, written whole; one in {@value #ONE_IN} overrun by one byte. */
    private void parseRequest(long size) {
        long a = heap.malloc(size);
        boolean bug = untilOverflow-- == 0;
        if (bug) {
            untilOverflow = callsBeforeBug();
        }
        Mem.fill(a, bug ? size + 1 : size, (byte) size);
        heap.free(a);
    }

    /** Site 2: a cache entry of {@code size} bytes, one in {@value #ONE_IN} written once more after its free. */
    private void cacheEntry(long size) {
        long a = heap.malloc(size);
        Mem.putLong(a, size);
        heap.free(a);
        if (untilWriteAfterFree-- == 0) {
            untilWriteAfterFree = callsBeforeBug();
            // Inverted, so the byte changes whatever the poison (a fixed value would match it once in 256).
            long at = a + size - 1;
            Mem.ALL.set(ValueLayout.JAVA_BYTE, at, (byte) ~Mem.ALL.get(ValueLayout.JAVA_BYTE, at));
        }
    }

    /** The reports kept off the call that found them (the scan's, a reuse's): thrown by check(), classified. */
    private long collect() {
        try {
            heap.check();
        } catch (HakMemException e) {
            classify(e, allocations);
            for (Throwable more : e.getSuppressed()) {
                classify(more, allocations);
            }
        }
        return heap.violations();
    }

    /** Records the first report of each bug that names the site and both stacks, made after {@code madeAllocations}. */
    private void classify(Throwable e, long madeAllocations) {
        String m = e.getMessage();
        long now = System.nanoTime();
        if (m.startsWith("buffer overflow") && namesBothStacks(m, "BugHunt.parseRequest") && overflowAt < 0) {
            overflowAt = now;
            overflowAllocations = madeAllocations;
        } else if (m.startsWith("write after free") && namesBothStacks(m, "BugHunt.cacheEntry")
                && writeAfterFreeAt < 0) {
            writeAfterFreeAt = now;
            writeAfterFreeAllocations = madeAllocations;
        }
    }

    /**
     * Whether a sampled block's report names {@code site} in its allocating stack and again in its freeing stack:
     * each buggy site allocates and frees its block itself, so a freeing stack without the site's frame (empty, or
     * not the freeing code's) does not count.
     */
    static boolean namesBothStacks(String report, String site) {
        int allocated = report.indexOf("allocated by thread");
        int freed = report.indexOf("freed by thread");
        return allocated >= 0 && freed > allocated && report.substring(allocated, freed).contains(site)
                && report.indexOf(site, freed) >= 0;
    }
}
