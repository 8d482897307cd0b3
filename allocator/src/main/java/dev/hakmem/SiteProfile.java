package dev.hakmem;

import java.util.Arrays;
import java.util.Objects;

/**
 * What sampling learned of one allocation site's blocks: how many, how large, how long they lived, and which threads
 * freed them. A snapshot; {@link Site#profile()} and {@link HakMemStats#sites()} take a new one each call.
 *
 * <h2>Sampling and the estimates</h2>
 * Each thread's heap samples bytes, not calls: every byte it hands out is a sampled byte with probability
 * {@code q = 1 / period} (period 2 MiB in mode BALANCED, 512 KiB in the learning modes), independently, as tcmalloc's
 * heap profiler does; an allocation is sampled when it holds a sampled byte, so one of {@code s} bytes is sampled with
 * probability {@code p(s) = 1 - (1 - q)^s} (a 64 KiB request at 512 KiB: 0.12; 1 MiB: 0.86; at 2 MiB: 0.03, 0.39). The cost is a
 * countdown of the bytes left before the next sampled byte, decremented by each malloc; the gaps are drawn from the
 * geometric distribution, so the sampled bytes form a Bernoulli process whichever sizes are requested.
 * {@link #allocations()} and {@link #bytes()} are then the Horvitz-Thompson estimates {@code sum of 1 / p(s)} and
 * {@code sum of s / p(s)} over the samples: unbiased, and exact with a period of one byte (every request of at least
 * one byte is sampled with weight 1). A request of 0 bytes holds no byte and is never sampled.
 *
 * <h2>Lifetimes</h2>
 * A sampled block is remembered (address, site, thread, time) until it is freed, up to a bound on the blocks
 * remembered at once; its lifetime is the time from its malloc to its free (in guard mode, to its leaving the
 * quarantine). The mean covers every lifetime measured; the quantiles the most recent {@value #RECENT} ones.
 * {@link #liveAges()} are the ages of sampled blocks still live when the snapshot was taken (at most
 * {@value #RECENT} of them): lower bounds of lifetimes not yet over, without which a site whose blocks live for
 * good would look as if it had no lifetimes at all.
 *
 * @see dev.hakmem.site.SiteRules the rule a profile implies
 */
public final class SiteProfile {
    /** How many recent lifetimes, and at most how many live ages, a snapshot carries. */
    public static final int RECENT = 1024;

    private final String name;
    private final long samples;
    private final long allocations;
    private final long bytes;
    private final long largeBytes;
    private final long[] sizeHistogram;
    private final long lifetimes;
    private final long meanLifetimeNanos;
    private final long[] recentLifetimes;
    private final long liveSamples;
    private final long[] liveAges;
    private final long remoteFrees;

    /**
     * A profile of the given counts; the arrays are copied and sorted. For the profiler and for tests: a heap makes
     * its own with {@link Site#profile()}.
     *
     * @param name            the site's name
     * @param samples         allocations sampled
     * @param allocations     estimated allocations
     * @param bytes           estimated bytes requested
     * @param largeBytes      estimated bytes requested in blocks above {@link Policy#MIN_BIG_THRESHOLD} (64 KiB)
     * @param sizeHistogram   samples per {@link dev.hakmem.stats.SizeGrid} bucket of the requested size
     * @param lifetimes       sampled blocks freed, whose lifetime was measured
     * @param meanLifetimeNanos their mean lifetime
     * @param recentLifetimes the most recent lifetimes, at most {@value #RECENT}, in any order
     * @param liveSamples     sampled blocks remembered and still live
     * @param liveAges        ages of some of those (at most {@value #RECENT}), in any order
     * @param remoteFrees     sampled blocks freed by a thread other than the one that allocated them
     * @throws NullPointerException when {@code name} or an array is null
     * @throws IllegalArgumentException when the counts contradict each other (more recent lifetimes than
     *                                  {@value #RECENT} or than {@code lifetimes}, more live ages than
     *                                  {@value #RECENT} or than {@code liveSamples}, more remote frees than lifetimes)
     */
    public SiteProfile(String name, long samples, long allocations, long bytes, long largeBytes,
                       long[] sizeHistogram, long lifetimes, long meanLifetimeNanos, long[] recentLifetimes,
                       long liveSamples, long[] liveAges, long remoteFrees) {
        this.name = Objects.requireNonNull(name, "name");
        if (recentLifetimes.length > RECENT || liveAges.length > RECENT || liveAges.length > liveSamples
                || recentLifetimes.length > lifetimes || remoteFrees > lifetimes) {
            throw new IllegalArgumentException("inconsistent profile of site " + name + ": " + lifetimes
                    + " lifetimes (" + recentLifetimes.length + " recent, " + remoteFrees + " remote), " + liveSamples
                    + " live (" + liveAges.length + " ages)");
        }
        this.samples = samples;
        this.allocations = allocations;
        this.bytes = bytes;
        this.largeBytes = largeBytes;
        this.sizeHistogram = sizeHistogram.clone();
        this.lifetimes = lifetimes;
        this.meanLifetimeNanos = meanLifetimeNanos;
        this.recentLifetimes = recentLifetimes.clone();
        Arrays.sort(this.recentLifetimes);
        this.liveSamples = liveSamples;
        this.liveAges = liveAges.clone();
        Arrays.sort(this.liveAges);
        this.remoteFrees = remoteFrees;
    }

    /** {@return the site's name, as {@link Site#name()} gives it} */
    public String name() {
        return name;
    }

    /** {@return the number of allocations sampled} */
    public long samples() {
        return samples;
    }

    /** {@return the estimated number of allocations} Unbiased; exact with a sampling period of one byte. */
    public long allocations() {
        return allocations;
    }

    /** {@return the estimated bytes requested} Unbiased; exact with a sampling period of one byte. */
    public long bytes() {
        return bytes;
    }

    /** {@return the estimated bytes requested in blocks above 64 KiB, the ones a {@code direct} rule maps directly} */
    public long largeBytes() {
        return largeBytes;
    }

    /**
     * {@return a copy of the samples per {@link dev.hakmem.stats.SizeGrid} bucket of the requested size (index = the
     * bucket)}
     */
    public long[] sizeHistogram() {
        return sizeHistogram.clone();
    }

    /** {@return the number of sampled blocks freed, whose lifetime was measured} */
    public long lifetimes() {
        return lifetimes;
    }

    /** {@return the mean of every lifetime measured, in nanoseconds; 0 when none was} */
    public long meanLifetimeNanos() {
        return meanLifetimeNanos;
    }

    /** {@return the median of the recent lifetimes, in nanoseconds; 0 when none was measured} */
    public long medianLifetimeNanos() {
        return quantile(recentLifetimes, 0.5);
    }

    /** {@return the 90th percentile of the recent lifetimes, in nanoseconds; 0 when none was measured} */
    public long p90LifetimeNanos() {
        return quantile(recentLifetimes, 0.9);
    }

    /** {@return a copy of the most recent lifetimes (at most {@value #RECENT}), in nanoseconds, ascending} */
    public long[] recentLifetimes() {
        return recentLifetimes.clone();
    }

    /** {@return the number of sampled blocks remembered and still live at the snapshot} */
    public long liveSamples() {
        return liveSamples;
    }

    /**
     * {@return a copy of the ages of sampled blocks live at the snapshot (all of them, or {@value #RECENT}), in
     * nanoseconds, ascending}
     */
    public long[] liveAges() {
        return liveAges.clone();
    }

    /** {@return the number of sampled blocks freed by a thread other than the one that allocated them} */
    public long remoteFrees() {
        return remoteFrees;
    }

    /** {@return the share of the freed sampled blocks that another thread freed, in [0, 1]; 0 when none was freed} */
    public double remoteFreeShare() {
        return lifetimes == 0 ? 0 : (double) remoteFrees / lifetimes;
    }

    /**
     * The share of the observed sampled blocks (the recent lifetimes and the live ages) that lived at least
     * {@code nanos}: a live block counts by its age so far.
     *
     * @param nanos a lifetime in nanoseconds
     * @return the share, in [0, 1]; 0 when nothing was observed
     */
    public double survivalShare(long nanos) {
        long observed = recentLifetimes.length + liveAges.length;
        return observed == 0 ? 0 : (double) (atLeast(recentLifetimes, nanos) + atLeast(liveAges, nanos)) / observed;
    }

    /**
     * The median of the observed sampled blocks (the recent lifetimes and the live ages together; a live block by
     * its age so far, a lower bound).
     *
     * @return the median in nanoseconds; 0 when nothing was observed
     */
    public long observedMedianNanos() {
        long[] all = Arrays.copyOf(recentLifetimes, recentLifetimes.length + liveAges.length);
        System.arraycopy(liveAges, 0, all, recentLifetimes.length, liveAges.length);
        Arrays.sort(all);
        return quantile(all, 0.5);
    }

    /** How many entries of the ascending {@code sorted} are at least {@code value}. */
    private static int atLeast(long[] sorted, long value) {
        int i = Arrays.binarySearch(sorted, value);
        if (i < 0) {
            return sorted.length - (-i - 1);
        }
        while (i > 0 && sorted[i - 1] == value) {
            i--;
        }
        return sorted.length - i;
    }

    /** The nearest-rank quantile of the ascending {@code sorted}, or 0 if it is empty. */
    private static long quantile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(rank, 1) - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SiteProfile p && name.equals(p.name) && samples == p.samples
                && allocations == p.allocations && bytes == p.bytes && largeBytes == p.largeBytes
                && Arrays.equals(sizeHistogram, p.sizeHistogram) && lifetimes == p.lifetimes
                && meanLifetimeNanos == p.meanLifetimeNanos && Arrays.equals(recentLifetimes, p.recentLifetimes)
                && liveSamples == p.liveSamples && Arrays.equals(liveAges, p.liveAges) && remoteFrees == p.remoteFrees;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, samples, allocations, bytes, lifetimes, liveSamples, remoteFrees);
    }

    @Override
    public String toString() {
        return "SiteProfile[" + name + ": " + samples + " samples, ~" + allocations + " allocations, ~" + bytes
                + " bytes, " + lifetimes + " lifetimes (median " + medianLifetimeNanos() + " ns, p90 "
                + p90LifetimeNanos() + " ns), " + liveSamples + " live, remote share " + remoteFreeShare() + "]";
    }
}
