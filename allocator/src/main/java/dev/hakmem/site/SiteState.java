package dev.hakmem.site;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import dev.hakmem.stats.SizeGrid;

/**
 * One allocation site of a heap: the samples of its allocations, the lifetimes of its sampled blocks, and the rule
 * the policy in force gives it. {@link dev.hakmem.Site} is its public face; the anonymous site behind
 * {@code HakMem.malloc} is one too.
 *
 * <h2>Threads</h2>
 * Samples are recorded, and snapshots taken, under this object's lock: the table's stripes log samples, births and
 * deaths and fold them in here in runs ({@link SampledBlocks}), and a snapshot taken under the lock is consistent
 * (never more lifetimes than blocks forgotten). The rule is a racy cache of an immutable pair, read and written whole
 * through a volatile field.
 */
public final class SiteState {
    private final String name;
    /** The policy last asked and this site's rule in it; replaced whole when the policy in force changes. */
    private volatile RuleCache rule = new RuleCache(null, null);

    // Guarded by this. Quiescent, checked by Profiler.check: remembered - forgotten == this site's entries in the
    // profiler's table of sampled blocks and its blocks that keep their own sample (big blocks' mappings); and (check())
    // lifetimes <= forgotten <= remembered <= samples, remoteFrees <= lifetimes, the size histogram sums to samples.
    // The last hold at every fold but for a big block's remote death, which may be folded before its birth.
    private long samples;
    /** The sampled mallocs' durations summed (0 each when the profiler does not time them). */
    private long nanos;
    private double allocations;
    private double bytes;
    private double largeBytes;
    /** Samples per SizeGrid bucket; null until the first sample, so a site that is never sampled costs no array. */
    private long[] sizeHistogram;
    private long remembered;
    private long forgotten;
    private long lifetimes;
    private double lifetimeNanos;
    private long remoteFrees;
    /**
     * The last {@link SiteProfile#RECENT} lifetimes, a ring written at {@code lifetimes % RECENT} (a power of two: a
     * mask); null until one.
     */
    private long[] recent;

    private record RuleCache(Policy policy, Policy.SiteRule rule) {
    }

    SiteState(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /**
     * The rule {@code policy} gives this site, or null: a map lookup the first time a policy is asked, then one
     * compare per call while that policy stays in force.
     */
    public Policy.SiteRule rule(Policy policy) {
        RuleCache c = rule;
        if (c.policy != policy) {
            c = new RuleCache(policy, policy.site(name));
            rule = c;
        }
        return c.rule;
    }

    /**
     * A sampled allocation of {@code size} bytes that took {@code nanos}, standing for {@code weight} allocations. The
     * caller (a fold) holds this site's lock, as for {@link #forgot} and {@link #freed}.
     */
    void sampled(long size, long nanos, double weight, boolean remember) {
        assert Thread.holdsLock(this);
        samples++;
        this.nanos += nanos;
        allocations += weight;
        bytes += size * weight;
        if (size > Policy.MIN_BIG_THRESHOLD) {
            largeBytes += size * weight;
        }
        if (sizeHistogram == null) {
            sizeHistogram = new long[SizeGrid.BUCKETS];
        }
        sizeHistogram[SizeGrid.bucketOf(size)]++;
        remembered += remember ? 1 : 0;
    }

    /** One of this site's sampled blocks left the profiler's table without a lifetime (its heap closed). */
    void forgot() {
        assert Thread.holdsLock(this);
        forgotten++;
    }

    /**
     * One of this site's sampled blocks left the profiler's table, freed after {@code nanos}, by another thread if
     * {@code remote}.
     */
    void freed(long nanos, boolean remote) {
        assert Thread.holdsLock(this);
        forgotten++;
        if (recent == null) {
            recent = new long[SiteProfile.RECENT];
        }
        recent[(int) lifetimes & (SiteProfile.RECENT - 1)] = nanos;
        lifetimes++;
        lifetimeNanos += nanos;
        remoteFrees += remote ? 1 : 0;
    }

    /** Sampled blocks remembered and not yet forgotten: this site's entries in the profiler's table, when quiescent. */
    synchronized long remembered() {
        return remembered - forgotten;
    }

    /** Samples taken. */
    synchronized long samples() {
        return samples;
    }

    /** For {@code check()}: the invariants that always hold (beside the fields). Returns null or the problem. */
    synchronized String check() {
        long inBuckets = 0;
        if (sizeHistogram != null) {
            for (long n : sizeHistogram) {
                inBuckets += n;
            }
        }
        if (inBuckets != samples) {
            return this + "'s size histogram holds " + inBuckets + " samples, but it counts " + samples;
        }
        return 0 <= remoteFrees && remoteFrees <= lifetimes && lifetimes <= forgotten && forgotten <= remembered
                && remembered <= samples ? null : this + " counts " + samples + " samples, " + remembered
                + " remembered, " + forgotten + " forgotten, " + lifetimes + " lifetimes, " + remoteFrees
                + " freed remotely";
    }

    /**
     * Adds this site's samples so far to {@code totals}: their count to {@code totals.samples}, their durations to
     * {@code totals.nanos}, their size histogram to {@code totals.histogram}, and its other counters to the fields of
     * the same names (read together, under the lock).
     */
    synchronized void addTo(Profiler.Totals totals) {
        totals.samples += samples;
        totals.nanos += nanos;
        totals.remembered += remembered;
        totals.forgotten += forgotten;
        totals.lifetimes += lifetimes;
        totals.remoteFrees += remoteFrees;
        if (sizeHistogram != null) {
            for (int i = 0; i < sizeHistogram.length; i++) {
                totals.histogram[i] += sizeHistogram[i];
            }
        }
    }

    /** A snapshot, with the live sampled blocks the caller counted in the profiler's table and some of their ages. */
    synchronized SiteProfile snapshot(long live, long[] liveAges) {
        int kept = (int) Math.min(lifetimes, SiteProfile.RECENT);
        long[] lived = recent == null ? new long[0] : java.util.Arrays.copyOf(recent, kept);
        return new SiteProfile(name, samples, Math.round(allocations), Math.round(bytes), Math.round(largeBytes),
                sizeHistogram == null ? new long[SizeGrid.BUCKETS] : sizeHistogram, lifetimes,
                lifetimes == 0 ? 0 : Math.round(lifetimeNanos / lifetimes), lived, live, liveAges, remoteFrees);
    }

    @Override
    public String toString() {
        return "site " + name;
    }
}
