package dev.hakmem.site;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import dev.hakmem.stats.SizeGrid;

/**
 * The rule a site's profile implies: whether its blocks are long-lived (they then get SuperSlabs of their own, in a
 * second heap of each thread), whether its large blocks are mapped directly, and which size it pre-sizes.
 *
 * <p>Lifetime classes are LLAMA's idea (Maas et al., "Learning-based memory allocation for C++ server workloads",
 * ASPLOS 2020): a few long-lived blocks among many short-lived ones pin whole spans that the short-lived blocks
 * would otherwise empty and give back. LLAMA predicts a lifetime class per allocation from its stack trace; here the
 * site is the label, and its sampled lifetimes are the evidence:
 * <ul>
 *   <li><b>long-lived</b>: at least {@value #MIN_OBSERVED} sampled blocks observed, and at least
 *   {@value #SURVIVAL_SHARE} of them outlived {@link #LONG_LIVED_NANOS} (10 ms). A block still live counts by its age
 *   so far, a lower bound, without which a site whose blocks are never freed would show no lifetime at all. The
 *   share (not the median) keeps out a site whose blocks split into long- and short-lived: its short-lived ones
 *   would pin the long-lived heap's slabs in turn.</li>
 *   <li><b>direct</b>: long-lived, and more than {@value #DIRECT_BYTES_SHARE} of its bytes are in blocks above
 *   64 KiB: such a block holds its own mapping for long, where in a pool it would keep a 2 MiB slab of a few blocks
 *   resident.</li>
 *   <li><b>presize</b>: at least {@value #PRESIZE_SHARE} of its sampled requests fall in one bucket of
 *   {@link SizeGrid} in the pools' range: the rule names the grid size just above that bucket, so those requests
 *   are served from a class rounding them up by at most the grid's 1/16 instead of W_MAX's class above them (a
 *   bridge class of the site's own; see {@code core.ActivePolicy}). The other requests of the site are unaffected.
 *   A bucket's requests may all sit at its smallest size, itself a grid size (256 KiB, say): the histogram cannot
 *   tell, and the pre-sized class above them goes unused when that size is an active class (as 256 KiB always is).
 *   The anonymous site pre-sizes nothing (see {@link #decide}).</li>
 * </ul>
 * Too few observations decide nothing: the rule is then none of these.
 *
 * <p><b>Why a duration, not windows.</b> Whether a block pins a slab depends on how long it outlives its
 * short-lived neighbours, not on how often the learner measures: counted in windows, the same site was long-lived
 * at 20 ms windows and not at 1 s ones, and a cache whose entries live 55 ms never got its rule at the default
 * windows. 10 ms is the upper edge of LLAMA's shortest lifetime class (its classes are decades from 10 ms): the
 * blocks of one request or one parse die well within it (the lifetime mix's bursts in under a millisecond), while
 * any cache or session entry outlives it. The lifetimes come from the profile's own timestamps, so a test decides
 * on a virtual clock exactly as the heap does on the real one.
 */
public final class SiteRules {
    /** Fewer observed sampled blocks decide nothing. */
    public static final int MIN_OBSERVED = 16;
    /** A block living at least this long is long-lived: 10 ms, the edge of LLAMA's shortest lifetime class. */
    public static final long LONG_LIVED_NANOS = 10_000_000L;
    /** At least this share of a long-lived site's sampled blocks outlive {@link #LONG_LIVED_NANOS}. */
    public static final double SURVIVAL_SHARE = 0.75;
    /** Above this share of its bytes in blocks above 64 KiB, a long-lived site maps them directly. */
    public static final double DIRECT_BYTES_SHARE = 0.5;
    /** At least this share of a site's sampled requests in one size bucket make it pre-size that bucket. */
    public static final double PRESIZE_SHARE = 0.5;

    private SiteRules() {
    }

    /** Whether {@code profile} has observed enough blocks to decide anything ({@value #MIN_OBSERVED}). */
    public static boolean decides(SiteProfile profile) {
        return profile.recentLifetimes().length + profile.liveAges().length >= MIN_OBSERVED;
    }

    /** The rule {@code profile} implies. */
    public static Policy.SiteRule decide(SiteProfile profile) {
        boolean longLived = decides(profile) && profile.survivalShare(LONG_LIVED_NANOS) >= SURVIVAL_SHARE;
        boolean direct = longLived && profile.bytes() > 0
                && (double) profile.largeBytes() / profile.bytes() > DIRECT_BYTES_SHARE;
        // The anonymous site's requests (HakMem.malloc) follow the heap-wide classes, whose peaks are the learner's
        // bridge classes: a pre-sized class of its own would name a class none of them uses.
        boolean presizes = decides(profile) && !profile.name().equals(Profiler.ANONYMOUS);
        return new Policy.SiteRule(profile.name(), longLived, direct, presizes ? presize(profile) : 0);
    }

    /** The grid size above the bucket holding {@value #PRESIZE_SHARE} of the samples, if a pool size; else 0. */
    private static int presize(SiteProfile profile) {
        long[] histogram = profile.sizeHistogram();
        int peak = 0;
        for (int b = 1; b < histogram.length; b++) {
            peak = histogram[b] > histogram[peak] ? b : peak;
        }
        // Every size of the bucket fits the next bucket's smallest size, which is on the grid.
        long top = SizeGrid.low(peak + 1);
        boolean dominant = profile.samples() > 0 && histogram[peak] >= PRESIZE_SHARE * profile.samples();
        return dominant && Policy.isPoolGridSize(top) ? (int) top : 0;
    }
}
