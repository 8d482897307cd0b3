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
 */
public final class BugHunt {
    /** One block in this many is overflowed (resp. written after free) at each site. */
    public static final int ONE_IN = 100_000;
    /** Iterations between two looks at the violation count. */
    private static final int POLL = 1 << 16;

    /**
     * One seed's outcome: nanoseconds from the start to each first report (-1: not within the run), and the
     * allocations made.
     */
    public record Result(long seed, long overflowNanos, long writeAfterFreeNanos, long allocations) {
        public boolean found() {
            return overflowNanos >= 0 && writeAfterFreeNanos >= 0;
        }
    }

    private final HakMem heap;
    private final SplittableRandom random;
    private long overflowAt = -1;
    private long writeAfterFreeAt = -1;
    private long start;

    private BugHunt(HakMem heap, long seed) {
        this.heap = heap;
        this.random = new SplittableRandom(seed);
    }

    /** Hunts with sampled guard mode at {@code rate} for at most {@code maxNanos}. */
    public static Result run(long seed, int rate, long maxNanos) {
        HakMemConfig config = HakMemConfig.builder().guard(GuardOptions.sampled(rate)).build();
        try (HakMem heap = HakMem.create(config)) {
            return new BugHunt(heap, seed).hunt(seed, maxNanos);
        }
    }

    private Result hunt(long seed, long maxNanos) {
        start = System.nanoTime();
        long allocations = 0;
        long seen = 0;
        while (overflowAt < 0 || writeAfterFreeAt < 0) {
            for (int i = 0; i < POLL; i++) {
                try {
                    parseRequest();
                } catch (HakMemException e) {
                    seen++;
                    classify(e);
                }
                cacheEntry();
            }
            allocations += 2L * POLL;
            if (heap.violations() > seen) {
                seen = collect();
            }
            if (System.nanoTime() - start > maxNanos) {
                break;
            }
        }
        return new Result(seed, overflowAt < 0 ? -1 : overflowAt - start,
                writeAfterFreeAt < 0 ? -1 : writeAfterFreeAt - start, allocations);
    }

    /** Site 1: a request buffer, one in {@value #ONE_IN} overrun by one byte. */
    private void parseRequest() {
        long size = 16L * (1 + random.nextInt(31)) + 8;
        long a = heap.malloc(size);
        long written = random.nextInt(ONE_IN) == 0 ? size + 1 : size;
        for (long off = 0; off < written; off += 8) {
            Mem.ALL.set(ValueLayout.JAVA_BYTE, Math.min(a + off, a + written - 1), (byte) off);
        }
        heap.free(a);
    }

    /** Site 2: a cache entry, one in {@value #ONE_IN} written once more after its free. */
    private void cacheEntry() {
        long size = 16L * (1 + random.nextInt(15)) + 8;
        long a = heap.malloc(size);
        Mem.putLong(a, size);
        heap.free(a);
        if (random.nextInt(ONE_IN) == 0) {
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
            classify(e);
            for (Throwable more : e.getSuppressed()) {
                classify(more);
            }
        }
        return heap.violations();
    }

    /** Records the first report of each bug that names the site and both stacks. */
    private void classify(Throwable e) {
        String m = e.getMessage();
        boolean bothStacks = m.contains("allocated by thread") && m.contains("freed by thread");
        long now = System.nanoTime();
        if (m.startsWith("buffer overflow") && m.contains("BugHunt.parseRequest") && bothStacks && overflowAt < 0) {
            overflowAt = now;
        } else if (m.startsWith("write after free") && m.contains("BugHunt.cacheEntry") && bothStacks
                && writeAfterFreeAt < 0) {
            writeAfterFreeAt = now;
        }
    }
}
