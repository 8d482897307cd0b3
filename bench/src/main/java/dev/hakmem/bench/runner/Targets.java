package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.workload.Workloads;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The project's targets for one workload at one thread count, checked against a run's results: hakmem at least as
 * fast as the best native allocator called through FFM and at least 5x Netty's pooled allocator; its peak RSS
 * growth at most 1.25x mimalloc's; its RSS, once every block is freed, within 10% of where it started. The adaptive
 * layer's (issue 10): FROZEN costs nothing, {@code hakmem-frozen} within 2% of plain hakmem's throughput on the hot
 * paths (tiny_hot, random_mixed); sites pay, on the lifetime mix the peers with sites at least as fast as plain
 * hakmem with a peak RSS growth at least 30% below its. Sampled guard mode's (issue 12): {@code hakmem-guard-sample}
 * costs at most 5% of plain hakmem's throughput on every workload, and its peak RSS growth at most 10% more. Where the
 * run had several rounds, the throughput ratios to hakmem are the medians of the paired per-round ratios
 * ({@link Rounds}), shown with their range.
 */
final class Targets {
    static final String HAKMEM = HakMemPeer.NAME;
    /** Native allocators reached through FFM downcalls, by peer name (some are added as their peers are). */
    static final Set<String> NATIVE = Set.of("mimalloc", "glibc", "jemalloc", "tcmalloc");
    static final String NETTY = "netty-pooled";
    static final String MIMALLOC = "mimalloc";

    static final double VS_NATIVE = 1.0;
    static final double VS_NETTY = 5.0;
    static final double GROWTH_VS_MIMALLOC = 1.25;
    static final double AFTER_FREE_VS_START = 1.10;
    static final long RSS_NOISE = 1 << 20;
    /** The workloads on which a frozen policy must cost nothing: the hot paths every call takes. */
    static final Set<String> FROZEN_COSTS_NOTHING = Set.of(Workloads.TINY_HOT, Workloads.RANDOM_MIXED_256,
            Workloads.RANDOM_MIXED_8192);
    /** "Within noise (2%)". */
    static final double FROZEN_VS_HAKMEM = 0.98;
    /** The peers whose site hints go to sites, whose rules must pay on the lifetime mix. */
    static final List<String> SITED = List.of(HakMemPeer.LEARNING, HakMemPeer.FROZEN);
    static final double SITED_THROUGHPUT_VS_HAKMEM = 1.0;
    static final double SITED_GROWTH_VS_HAKMEM = 0.70;
    static final double SAMPLED_VS_HAKMEM = 0.95;
    static final double SAMPLED_GROWTH_VS_HAKMEM = 1.10;
    private static final double MiB = 1 << 20;

    private Targets() {
    }

    /**
     * One line per target that this run can check: the ratio, the target, and met or MISSED. Empty when hakmem has
     * no result here.
     */
    static List<String> check(List<TrialResult> sameWorkloadAndThreads) {
        return check(sameWorkloadAndThreads, Map.of());
    }

    /** As {@link #check(List)}, with the paired ratios to hakmem of several rounds, by allocator. */
    static List<String> check(List<TrialResult> sameWorkloadAndThreads, Map<String, Rounds.Paired> paired) {
        Optional<TrialResult> hakmem = find(sameWorkloadAndThreads, HAKMEM);
        if (hakmem.isEmpty()) {
            return List.of();
        }
        TrialResult h = hakmem.get();
        List<String> lines = new ArrayList<>();
        versusBestNative(sameWorkloadAndThreads).ifPresent(v -> lines.add(v.line()));
        find(sameWorkloadAndThreads, NETTY).ifPresent(netty -> lines.add(line("hakmem / " + NETTY + " Mops/s",
                h.medianMops() / netty.medianMops(), true, VS_NETTY)));
        growthVersusMimalloc(sameWorkloadAndThreads).ifPresent(g -> lines.add(g.line()));
        if (!Double.isNaN(h.afterFreeRatio())) {
            lines.add(line("hakmem RSS after free / start", h.afterFreeRatio(), false, AFTER_FREE_VS_START));
        }
        String workload = h.trial().workload();
        if (FROZEN_COSTS_NOTHING.contains(workload)) {
            find(sameWorkloadAndThreads, HakMemPeer.FROZEN).ifPresent(f -> lines.add(versusHakmem(f, h, paired,
                    FROZEN_VS_HAKMEM)));
        }
        find(sameWorkloadAndThreads, HakMemPeer.GUARD_SAMPLE).ifPresent(s -> {
            lines.add(versusHakmem(s, h, paired, SAMPLED_VS_HAKMEM));
            if (s.peakGrowth() >= 0 && h.peakGrowth() >= 0) {
                lines.add(growthLine(HakMemPeer.GUARD_SAMPLE, s.peakGrowth(), HAKMEM, h.peakGrowth(),
                        SAMPLED_GROWTH_VS_HAKMEM));
            }
        });
        if (workload.equals(Workloads.LIFETIME_MIX)) {
            for (String sited : SITED) {
                find(sameWorkloadAndThreads, sited).ifPresent(s -> {
                    lines.add(versusHakmem(s, h, paired, SITED_THROUGHPUT_VS_HAKMEM));
                    if (s.peakGrowth() >= 0 && h.peakGrowth() >= 0) {
                        lines.add(sitedGrowthLine(sited, s.peakGrowth(), h.peakGrowth()));
                    }
                });
            }
        }
        return lines;
    }

    /** hakmem's median Mops/s over that of the fastest native allocator ({@code best}) on one workload and threads. */
    record VersusNative(Trial hakmem, String best, double ratio) {
        boolean met() {
            return ratio >= VS_NATIVE;
        }

        /** The target line the bench prints for it. */
        String line() {
            return Targets.line("hakmem / best native (" + best + ") Mops/s", ratio, true, VS_NATIVE);
        }
    }

    /** hakmem against the fastest native allocator among these results; empty when either has no result. */
    static Optional<VersusNative> versusBestNative(List<TrialResult> sameWorkloadAndThreads) {
        return find(sameWorkloadAndThreads, HAKMEM).flatMap(h -> sameWorkloadAndThreads.stream()
                .filter(r -> r.ok() && NATIVE.contains(r.trial().allocator()))
                .max(Comparator.comparingDouble(TrialResult::medianMops))
                .map(best -> new VersusNative(h.trial(), best.trial().allocator(), h.medianMops() / best.medianMops())));
    }

    /** hakmem's peak RSS growth against mimalloc's on one workload and threads, both in bytes. */
    record GrowthVersusMimalloc(Trial hakmem, long growth, long mimalloc) {
        /** Met within {@link #RSS_NOISE}, as {@link #growthLine} says. */
        boolean met() {
            return growthMet(growth, mimalloc, GROWTH_VS_MIMALLOC);
        }

        /** The target line the bench prints for it. */
        String line() {
            return growthLine(HAKMEM, growth, MIMALLOC, mimalloc, GROWTH_VS_MIMALLOC);
        }
    }

    /** hakmem's peak RSS growth against mimalloc's; empty when either has no result or no known growth. */
    static Optional<GrowthVersusMimalloc> growthVersusMimalloc(List<TrialResult> sameWorkloadAndThreads) {
        return find(sameWorkloadAndThreads, HAKMEM).filter(h -> h.peakGrowth() >= 0)
                .flatMap(h -> find(sameWorkloadAndThreads, MIMALLOC).filter(m -> m.peakGrowth() >= 0)
                        .map(m -> new GrowthVersusMimalloc(h.trial(), h.peakGrowth(), m.peakGrowth())));
    }

    /**
     * A (workload, threads) of a run where hakmem missed the native throughput target, the RSS growth target, or
     * both: what a profile of it must explain. Either miss is null when that target was met or could not be checked.
     */
    record Miss(Trial hakmem, VersusNative throughput, GrowthVersusMimalloc growth) {
        /** The target lines it missed, joined. */
        String line() {
            return Stream.of(throughput == null ? null : throughput.line(), growth == null ? null : growth.line())
                    .filter(Objects::nonNull).collect(Collectors.joining("; "));
        }
    }

    /**
     * Every (workload, threads) of a run where hakmem missed the native throughput target or the peak RSS growth
     * target, in the order of the run's first result for it ({@code hakmem profile --misses}).
     */
    static List<Miss> misses(List<TrialResult> run) {
        Map<String, List<TrialResult>> byCell = run.stream().collect(Collectors.groupingBy(
                r -> r.trial().workload() + " t=" + r.trial().threads(), LinkedHashMap::new, Collectors.toList()));
        List<Miss> misses = new ArrayList<>();
        for (List<TrialResult> cell : byCell.values()) {
            VersusNative throughput = versusBestNative(cell).filter(v -> !v.met()).orElse(null);
            GrowthVersusMimalloc growth = growthVersusMimalloc(cell).filter(g -> !g.met()).orElse(null);
            if (throughput != null || growth != null) {
                misses.add(new Miss(throughput != null ? throughput.hakmem() : growth.hakmem(), throughput, growth));
            }
        }
        return misses;
    }

    /**
     * An allocator's throughput over hakmem's against a target: the paired median over the rounds with its range where
     * there were several, else the ratio of the two medians.
     */
    private static String versusHakmem(TrialResult r, TrialResult hakmem, Map<String, Rounds.Paired> paired,
                                       double target) {
        String allocator = r.trial().allocator();
        Rounds.Paired p = paired.get(allocator);
        if (p == null) {
            return line(allocator + " / hakmem Mops/s", r.medianMops() / hakmem.medianMops(), true, target);
        }
        return line(String.format(Locale.ROOT, "%s / hakmem Mops/s, paired over %d rounds (range %.2f-%.2f)",
                allocator, p.ratios().size(), p.min(), p.max()), p.median(), true, target);
    }

    /** As {@link #growthLine}: a hakmem growth within {@link #RSS_NOISE} leaves nothing to be 30% below. */
    private static String sitedGrowthLine(String sited, long growth, long hakmem) {
        String what = String.format(Locale.ROOT, "%s / hakmem peak RSS growth (%.1f / %.1f MiB)", sited,
                growth / MiB, hakmem / MiB);
        return hakmem <= RSS_NOISE ? what + " not compared: hakmem's is within the JVM's noise of "
                + RSS_NOISE / (1 << 20) + " MiB" : line(what, (double) growth / hakmem, false, SITED_GROWTH_VS_HAKMEM);
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
     * The peak RSS growth of {@code of} over that of {@code against} against {@code target} (at most), both growths in
     * MiB. A growth of {@code of} within {@link #RSS_NOISE} counts as met: the JVM alone moves RSS by that much (JIT,
     * GC and thread stacks), so its ratio says nothing about allocators.
     */
    private static String growthLine(String of, long growth, String against, long base, double target) {
        String what = String.format(Locale.ROOT, "%s / %s peak RSS growth (%.1f / %.1f MiB)", of, against,
                growth / MiB, base / MiB);
        return growth <= RSS_NOISE ? what + " within the JVM's noise of " + RSS_NOISE / (1 << 20) + " MiB: met"
                : line(what, (double) growth / base, false, target);
    }

    /** Whether {@link #growthLine} says met. */
    private static boolean growthMet(long growth, long base, double target) {
        return growth <= RSS_NOISE || met((double) growth / base, false, target);
    }

    private static String line(String what, double ratio, boolean atLeast, double target) {
        return String.format(Locale.ROOT, "%s %.2f (target %s %.2f: %s)", what, ratio, atLeast ? ">=" : "<=", target,
                met(ratio, atLeast, target) ? "met" : "MISSED");
    }

    private static boolean met(double ratio, boolean atLeast, double target) {
        return atLeast ? ratio >= target : ratio <= target;
    }
}
