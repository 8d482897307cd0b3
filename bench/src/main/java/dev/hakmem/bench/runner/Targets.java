package dev.hakmem.bench.runner;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The project's targets for one workload at one thread count, checked against a run's results: hakmem at least as
 * fast as the best native allocator called through FFM and at least 5x Netty's pooled allocator; its peak RSS
 * growth at most 1.25x mimalloc's; its RSS, once every block is freed, within 10% of where it started.
 */
final class Targets {
    static final String HAKMEM = "hakmem";
    /** Native allocators reached through FFM downcalls, by peer name (some are added as their peers are). */
    static final Set<String> NATIVE = Set.of("mimalloc", "glibc", "jemalloc", "tcmalloc");
    static final String NETTY = "netty-pooled";
    static final String MIMALLOC = "mimalloc";

    static final double VS_NATIVE = 1.0;
    static final double VS_NETTY = 5.0;
    static final double GROWTH_VS_MIMALLOC = 1.25;
    static final double AFTER_FREE_VS_START = 1.10;
    static final long RSS_NOISE = 1 << 20;
    private static final double MiB = 1 << 20;

    private Targets() {
    }

    /**
     * One line per target that this run can check: the ratio, the target, and met or MISSED. Empty when hakmem has
     * no result here.
     */
    static List<String> check(List<TrialResult> sameWorkloadAndThreads) {
        Optional<TrialResult> hakmem = find(sameWorkloadAndThreads, HAKMEM);
        if (hakmem.isEmpty()) {
            return List.of();
        }
        TrialResult h = hakmem.get();
        List<String> lines = new ArrayList<>();
        sameWorkloadAndThreads.stream().filter(r -> r.ok() && NATIVE.contains(r.trial().allocator()))
                .max(Comparator.comparingDouble(TrialResult::medianMops))
                .ifPresent(best -> lines.add(line("hakmem / best native (" + best.trial().allocator() + ") Mops/s",
                        h.medianMops() / best.medianMops(), true, VS_NATIVE)));
        find(sameWorkloadAndThreads, NETTY).ifPresent(netty -> lines.add(line("hakmem / " + NETTY + " Mops/s",
                h.medianMops() / netty.medianMops(), true, VS_NETTY)));
        find(sameWorkloadAndThreads, MIMALLOC).filter(m -> h.peakGrowth() >= 0 && m.peakGrowth() >= 0)
                .ifPresent(m -> lines.add(growthLine(h.peakGrowth(), m.peakGrowth())));
        if (!Double.isNaN(h.afterFreeRatio())) {
            lines.add(line("hakmem RSS after free / start", h.afterFreeRatio(), false, AFTER_FREE_VS_START));
        }
        return lines;
    }

    /** An allocator's median Mops/s over hakmem's on the same workload and threads; NaN where either has none. */
    static double throughputRatio(TrialResult result, List<TrialResult> all) {
        if (!result.ok()) {
            return Double.NaN;
        }
        return find(all.stream().filter(r -> r.trial().workload().equals(result.trial().workload())
                        && r.trial().threads() == result.trial().threads()).toList(), HAKMEM)
                .map(hakmem -> result.medianMops() / hakmem.medianMops()).orElse(Double.NaN);
    }

    private static Optional<TrialResult> find(List<TrialResult> results, String allocator) {
        return results.stream().filter(r -> r.ok() && r.trial().allocator().equals(allocator)).findFirst();
    }

    /**
     * The growth ratio with both growths in MiB. Growths within {@link #RSS_NOISE} count as met: the JVM alone moves
     * RSS by that much (JIT, GC and thread stacks), so a ratio of two such growths says nothing about allocators.
     */
    private static String growthLine(long hakmem, long mimalloc) {
        String what = String.format(Locale.ROOT, "hakmem / mimalloc peak RSS growth (%.1f / %.1f MiB)",
                hakmem / MiB, mimalloc / MiB);
        return hakmem <= RSS_NOISE ? what + " within the JVM's noise of " + RSS_NOISE / (1 << 20) + " MiB: met"
                : line(what, (double) hakmem / mimalloc, false, GROWTH_VS_MIMALLOC);
    }

    private static String line(String what, double ratio, boolean atLeast, double target) {
        boolean met = atLeast ? ratio >= target : ratio <= target;
        return String.format(Locale.ROOT, "%s %.2f (target %s %.2f: %s)", what, ratio, atLeast ? ">=" : "<=", target,
                met ? "met" : "MISSED");
    }
}
