package dev.hakmem.site;

/**
 * The samples of one window: what {@link Profiler#drainWindow()} hands the learner. Every sample lands in exactly
 * one window.
 *
 * @param sampledMallocs mallocs sampled since the previous drain
 * @param sampledNanos   the time those mallocs took, summed
 * @param sizeHistogram  those mallocs per {@link dev.hakmem.stats.SizeGrid} bucket of the requested size
 */
public record WindowSample(long sampledMallocs, long sampledNanos, long[] sizeHistogram) {
    public WindowSample {
        sizeHistogram = sizeHistogram.clone();
    }

    @Override
    public long[] sizeHistogram() {
        return sizeHistogram.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WindowSample w && sampledMallocs == w.sampledMallocs && sampledNanos == w.sampledNanos
                && java.util.Arrays.equals(sizeHistogram, w.sizeHistogram);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sampledMallocs) * 31 + Long.hashCode(sampledNanos) * 17
                + java.util.Arrays.hashCode(sizeHistogram);
    }

    @Override
    public String toString() {
        return "WindowSample[" + sampledMallocs + " sampled mallocs, " + sampledNanos + " ns]";
    }
}
