package dev.hakmem.ace;

import dev.hakmem.stats.SizeGrid;

import java.util.Arrays;

/**
 * What the allocator measured over one window, under the policy that was in force during it. Windows are the
 * learner's only clock: every duration of the learner (cooldown, freezing, canary periods) counts them.
 *
 * @param index          0, 1, 2, ... (virtual time); strictly increasing from one window to the next
 * @param ops            mallocs + frees in the window
 * @param sampledOps     mallocs that were timed (sampled)
 * @param sampledNanos   their summed duration
 * @param pageFaults     minor + major faults in the window, or -1 if unknown
 * @param mapCalls       SuperSlabs and big mappings mapped in the window
 * @param purgeCalls     madvise purges in the window
 * @param committedBytes at the window's end
 * @param liveBytes      what the live blocks' requests asked for, at the window's end (a heap estimates it from its
 *                       live blocks and the window's sampled sizes: {@code core.Learning})
 * @param sizeHistogram  sampled malloc sizes per {@link SizeGrid} bucket, in the window ({@link SizeGrid#BUCKETS}
 *                       counts; the record keeps its own copy)
 */
public record Window(long index, long ops, long sampledOps, long sampledNanos, long pageFaults, long mapCalls,
                     long purgeCalls, long committedBytes, long liveBytes, long[] sizeHistogram) {

    public Window {
        nonNegative("index", index);
        nonNegative("ops", ops);
        nonNegative("sampledOps", sampledOps);
        nonNegative("sampledNanos", sampledNanos);
        if (pageFaults < -1) {
            throw new IllegalArgumentException("window.pageFaults must be -1 (unknown) or at least 0: " + pageFaults);
        }
        nonNegative("mapCalls", mapCalls);
        nonNegative("purgeCalls", purgeCalls);
        nonNegative("committedBytes", committedBytes);
        nonNegative("liveBytes", liveBytes);
        if (sizeHistogram == null || sizeHistogram.length != SizeGrid.BUCKETS) {
            throw new IllegalArgumentException("window.sizeHistogram must have " + SizeGrid.BUCKETS + " buckets: "
                    + (sizeHistogram == null ? "null" : sizeHistogram.length));
        }
        sizeHistogram = sizeHistogram.clone();
        for (int b = 0; b < sizeHistogram.length; b++) {
            if (sizeHistogram[b] < 0) {
                throw new IllegalArgumentException("window.sizeHistogram[" + b + "] is negative: " + sizeHistogram[b]);
            }
        }
    }

    private static void nonNegative(String field, long value) {
        if (value < 0) {
            throw new IllegalArgumentException("window." + field + " must be at least 0: " + value);
        }
    }

    /** A copy: the window stays immutable. */
    @Override
    public long[] sizeHistogram() {
        return sizeHistogram.clone();
    }

    /** The sampled size count of bucket {@code b}, without copying the histogram. */
    public long sizeCount(int b) {
        return sizeHistogram[b];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Window w && index == w.index && ops == w.ops && sampledOps == w.sampledOps
                && sampledNanos == w.sampledNanos && pageFaults == w.pageFaults && mapCalls == w.mapCalls
                && purgeCalls == w.purgeCalls && committedBytes == w.committedBytes && liveBytes == w.liveBytes
                && Arrays.equals(sizeHistogram, w.sizeHistogram);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Arrays.hashCode(sizeHistogram);
    }

    @Override
    public String toString() {
        return "Window[index=" + index + ", ops=" + ops + ", sampledOps=" + sampledOps + ", sampledNanos="
                + sampledNanos + ", pageFaults=" + pageFaults + ", mapCalls=" + mapCalls + ", purgeCalls="
                + purgeCalls + ", committedBytes=" + committedBytes + ", liveBytes=" + liveBytes + "]";
    }
}
