package dev.hakmem.site;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;

/**
 * The rule a site's profile implies: whether its blocks are long-lived (they then get SuperSlabs of their own, in a
 * second heap of each thread) and whether its large blocks are mapped directly.
 *
 * <p>Lifetime classes are LLAMA's idea (Maas et al., "Learning-based memory allocation for C++ server workloads",
 * ASPLOS 2020): a few long-lived blocks among many short-lived ones pin whole spans that the short-lived blocks
 * would otherwise empty and give back. LLAMA predicts a lifetime class per allocation from its stack trace; here the
 * site is the label, and its sampled lifetimes are the evidence:
 * <ul>
 *   <li><b>long-lived</b>: at least {@value #MIN_OBSERVED} sampled blocks observed, their median lifetime is at
 *   least {@value #LONG_LIVED_WINDOWS} windows, and at least {@value #SURVIVAL_SHARE} of them outlived one window.
 *   A block still live counts by its age so far, a lower bound, without which a site whose blocks are never freed
 *   would show no lifetime at all. The second test keeps out a site whose blocks split into long- and short-lived:
 *   its short-lived ones would pin the long-lived heap's slabs in turn.</li>
 *   <li><b>direct</b>: long-lived, and more than {@value #DIRECT_BYTES_SHARE} of its bytes are in blocks above
 *   64 KiB: such a block holds its own mapping for long, where in a pool it would keep a 2 MiB slab of a few blocks
 *   resident.</li>
 * </ul>
 * Too few observations decide nothing: the rule is then neither.
 */
public final class SiteRules {
    /** Fewer observed sampled blocks decide nothing. */
    public static final int MIN_OBSERVED = 16;
    /** A long-lived site's median lifetime is at least this many windows. */
    public static final int LONG_LIVED_WINDOWS = 2;
    /** At least this share of a long-lived site's sampled blocks outlive a window. */
    public static final double SURVIVAL_SHARE = 0.75;
    /** Above this share of its bytes in blocks above 64 KiB, a long-lived site maps them directly. */
    public static final double DIRECT_BYTES_SHARE = 0.5;

    private SiteRules() {
    }

    /** Whether {@code profile} has observed enough blocks to decide anything ({@value #MIN_OBSERVED}). */
    public static boolean decides(SiteProfile profile) {
        return profile.recentLifetimes().length + profile.liveAges().length >= MIN_OBSERVED;
    }

    /** The rule {@code profile} implies, with learning windows of {@code windowNanos}. */
    public static Policy.SiteRule decide(SiteProfile profile, long windowNanos) {
        if (windowNanos <= 0) {
            throw new IllegalArgumentException("windowNanos must be > 0: " + windowNanos);
        }
        long longWindows = Math.min(windowNanos, Long.MAX_VALUE / LONG_LIVED_WINDOWS) * LONG_LIVED_WINDOWS;
        boolean longLived = decides(profile) && profile.observedMedianNanos() >= longWindows
                && profile.survivalShare(windowNanos) >= SURVIVAL_SHARE;
        boolean direct = longLived && profile.bytes() > 0
                && (double) profile.largeBytes() / profile.bytes() > DIRECT_BYTES_SHARE;
        return new Policy.SiteRule(profile.name(), longLived, direct);
    }
}
