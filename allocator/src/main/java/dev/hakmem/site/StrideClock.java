package dev.hakmem.site;

import java.util.function.LongSupplier;

/**
 * The clock of one stripe of sampled blocks' births and deaths ({@link SampledBlocks}), without a thread: it reads
 * its source ({@link System#nanoTime()}) only every {@code stride}-th event of its stripe, and the events between two
 * reads take the last one. The stride adapts so that reads stay about {@value #FAST_NANOS} ns to
 * {@value #SLOW_NANOS} ns apart:
 * <pre>
 *   events:  x  x  x  x  x  x  x  x  x  x  x  x  x  x  x  x  ...     (stride 4)
 *   reads:   ^           ^           ^           ^
 *            FAST_READS reads in a row each less than 0.25 ms after the last? stride * 2 (at most MAX_STRIDE)
 *            read more than 1 ms after the last?    stride rescaled to what the interval says gives 0.5 ms (at least 1)
 * </pre>
 * A program sampling rarely reads the clock at every event (stride 1: exact, and it costs nothing there); one
 * sampling a million times a second reads it once per 0.25 to 1 ms of its stripe's events, not twice per sample.
 * The stride grows by doubling, and only on a rate that lasted {@value #FAST_READS} reads (a sampled block's malloc and
 * its free microseconds later are two events in one stripe: a single fast read is no rate), and shrinks at once,
 * since a stride too long is what makes readings old.
 *
 * <p><b>Resolution.</b> A reading never exceeds the source's time (it is an earlier reading), and lags it by at most
 * the time the stripe took for its last {@code stride} events: under 1 ms while the stripe's event rate holds (a read
 * more than 1 ms after the last rescales the stride at once, so only the stride in which the rate fell lags more). A
 * lifetime, the difference of two readings of one stripe (a block's birth and death share its address, hence its
 * stripe), is then off by less than 1 ms either way, a tenth of {@link SiteRules}' 10 ms edge between short- and
 * long-lived blocks. When a stripe's rate falls (a pause), up to one stride of events after it take the reading from
 * before it: a block born before the pause and freed just after it may be measured short-lived, one born just after
 * it older than it is. The heap's maintenance thread, which wakes every 20 ms anyway, bounds that: each of its ticks
 * moves the profiler's epoch ({@code SampledBlocks.tick}), and a stripe's first event after the epoch moved reads the
 * clock. So a pause that spans a tick is seen by the first event after it, and no reading is older than the last
 * tick: at most 20 ms and the tick's own lateness, in the rare stride that straddles a pause shorter than a tick.
 * Readings of one stripe never go backwards, so no lifetime is negative.
 *
 * <p>Guarded by the stripe's lock (no field here is read or written without it).
 */
final class StrideClock {
    /** Reads closer than this double the stride: 0.25 ms. */
    static final long FAST_NANOS = 250_000;
    /** Reads further apart than this rescale it: 1 ms. */
    static final long SLOW_NANOS = 1_000_000;
    /** The longest stride: a bound on the events one reading serves, whatever their rate. */
    static final int MAX_STRIDE = 1 << 12;
    /** Reads in a row closer than {@link #FAST_NANOS} that double the stride. */
    static final int FAST_READS = 4;

    private final LongSupplier source;
    // Always: 1 <= stride <= MAX_STRIDE, 0 <= left < stride, 0 <= fast < FAST_READS (check()); last is the source's
    // last reading.
    private long last;
    private int stride = 1;
    /** Reads in a row, up to the last, closer than {@link #FAST_NANOS} to the one before. */
    private int fast;
    /** Events left that take {@link #last} before the next read. */
    private int left;
    /** The profiler's epoch at the last read. */
    private int seen;

    StrideClock(LongSupplier source) {
        this.source = source;
        this.last = source.getAsLong();
    }

    /**
     * The time of an event: the last reading, or a fresh one every {@code stride} events and at the first event after
     * the profiler's epoch moved past {@link #seen} (a maintenance tick, see the class comment).
     */
    long now(int epoch) {
        if (left > 0 && epoch == seen) {
            left--;
            return last;
        }
        seen = epoch;
        long t = Math.max(last, source.getAsLong());
        long interval = t - last;
        if (interval >= FAST_NANOS) {
            fast = 0;
        } else if (++fast == FAST_READS) {
            fast = 0;
            stride = Math.min(MAX_STRIDE, 2 * stride);
        }
        if (interval > SLOW_NANOS) {
            stride = (int) Math.max(1, stride * (SLOW_NANOS / 2) / interval);
        }
        left = stride - 1;
        last = t;
        return t;
    }

    /** For {@code check()}: the invariant beside the fields. Returns null or the problem. */
    String check() {
        return 1 <= stride && stride <= MAX_STRIDE && 0 <= left && left < stride && 0 <= fast && fast < FAST_READS
                ? null : "stripe clock's stride " + stride + " with " + left + " events left before its next read and "
                + fast + " fast reads";
    }
}
