package dev.hakmem.fuzz;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMemConfig;
import dev.hakmem.Policy;
import dev.hakmem.site.Profiler;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.nio.file.Path;

/** The generators the properties share. */
final class Gen {

    static final long KIB = 1L << 10;
    static final long MIB = 1L << 20;

    private Gen() {
    }

    /**
     * Request sizes weighted across the tiers (Tiny up to 1 KiB, Mid up to 64 KiB, Large up to 1 MiB, Big above);
     * each range includes its bounds, which jqwik tries as edge cases. One draw in ten lands within 16 bytes of a
     * tier boundary or of the one-chunk big span (2 MiB), so a realloc often moves a block just across one, in
     * either direction, and big reallocs meet their in-place limit.
     */
    static Arbitrary<Long> size() {
        return Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.longs().between(0, KIB)),
                Tuple.of(12, Arbitraries.longs().between(KIB, 64 * KIB)),
                Tuple.of(5, Arbitraries.longs().between(64 * KIB, MIB)),
                Tuple.of(1, Arbitraries.longs().between(MIB, 8 * MIB)),
                Tuple.of(5, Arbitraries.of(KIB, 64 * KIB, MIB, 2 * MIB)
                        .flatMap(bound -> Arbitraries.longs().between(bound - 16, bound + 16))));
    }

    /** An allocation site of {@link TestHeap#SITES}, or -1 for the anonymous site (half the draws). */
    static Arbitrary<Integer> site() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(-1)),
                Tuple.of(1, Arbitraries.integers().between(0, TestHeap.SITES.length - 1)));
    }

    /**
     * Sampling periods: every allocation (so the sites' profiles are exact and reconciled), a small period (some
     * allocations sampled, most frees of a sampled slab's other blocks on the slow path), and the default.
     */
    static Arbitrary<Long> samplePeriod() {
        return Arbitraries.of(1L, 4096L, Profiler.DEFAULT_PERIOD);
    }

    /**
     * Power-of-two alignments from 16 B to 4 MiB, and now and then 4 or 8 GiB, past an int: full guard mode's header
     * pads an aligned block by its alignment (a pad it once kept in 32 bits).
     */
    static Arbitrary<Long> alignment() {
        return Arbitraries.frequencyOf(
                Tuple.of(30, Arbitraries.integers().between(4, 22).map(k -> 1L << k)),
                Tuple.of(1, Arbitraries.of(1L << 32, 1L << 33)));
    }

    /** Chooses among the live blocks (modulo their count), so it stays meaningful when shrinking removes some. */
    static Arbitrary<Integer> pick() {
        return Arbitraries.integers().between(0, 255);
    }

    /** Page-source failure rates: half of the tries without faults, the others failing up to 30% of the calls. */
    static Arbitrary<Double> failureRate() {
        return Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(0.0)),
                Tuple.of(1, Arbitraries.doubles().between(0.01, 0.3)));
    }

    /**
     * Guard levels; shrinks towards off: full mode, and sampled mode with every allocation sampled (blocks up to a
     * slot, about 4 KiB), with and without its guard pages (their report thrown away: the fuzzer makes no bad access a
     * guard page would trap, so a crash of the fuzzing JVM is a bug). Then each setting at the edges of its range, as
     * a user may set it: the largest sampling rate (its draw overflowed an int once), and full mode with no
     * quarantine, the deepest sites recorded once in 2^31 - 1, and the smallest and largest trace rings.
     */
    static Arbitrary<GuardOptions> guard() {
        return Arbitraries.of(GuardOptions.off(), GuardOptions.on(), GuardOptions.sampled(1),
                GuardOptions.sampled(1).withGuardPages(Path.of("/dev/null")),
                GuardOptions.sampled(GuardOptions.MAX_SAMPLE_RATE).withScanMillis(1),
                GuardOptions.on().withQuarantineBytes(0).withSites(GuardOptions.MAX_SITE_DEPTH, Integer.MAX_VALUE)
                        .withTraceRingSize(1),
                GuardOptions.on().withSites(GuardOptions.MAX_SITE_DEPTH, 1)
                        .withTraceRingSize(GuardOptions.MAX_TRACE_RING_SIZE));
    }

    /**
     * Heap configurations; shrinks towards the defaults. A zero retain and purge delay make the heap give memory
     * back at once, which exercises unmapping and reuse of address ranges, and the largest keep everything until
     * close; guard mode puts its own layer (headers, canaries, quarantine) over every block.
     */
    static Arbitrary<HakMemConfig> config() {
        return Combinators.combine(
                        guard(),
                        Arbitraries.of(1.25, HakMemConfig.MIN_W_MAX, 1.5, HakMemConfig.MAX_W_MAX),
                        Arbitraries.of(64 * MIB, 0L, Policy.MAX_RETAIN_BYTES),
                        Arbitraries.of(250L, 0L, Policy.MAX_PURGE_DELAY_MILLIS),
                        Arbitraries.of(HakMemConfig.Mode.BALANCED, HakMemConfig.Mode.LEARNING))
                .as((guard, wMax, retain, purgeDelay, mode) -> HakMemConfig.builder()
                        .guard(guard)
                        .wMax(wMax)
                        .retainBytes(retain)
                        .purgeDelayMillis(purgeDelay)
                        .mode(mode)
                        .learnWindowMillis(10)
                        .build());
    }

    /**
     * Policies as a learner may put in force: every knob over its range's edges and the learner's candidates, up to
     * the most bridge classes, and a pre-sized class (or none) for each of {@link TestHeap#SITES}, mostly where
     * {@link #size()} draws often (1 to 64 KiB). Shrinks towards the defaults.
     */
    static Arbitrary<Policy> policy() {
        Arbitrary<Integer> presize = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(0)),
                Tuple.of(2, gridSize(10, 15)),
                Tuple.of(1, gridSize(16, 19)));
        Arbitrary<Policy> knobs = Combinators.combine(
                        Arbitraries.of(1.25, HakMemConfig.MIN_W_MAX, 1.125, 1.3, 1.5, HakMemConfig.MAX_W_MAX),
                        Arbitraries.of(Policy.MAX_BIG_THRESHOLD, Policy.MIN_BIG_THRESHOLD, 128 * KIB, 512 * KIB),
                        Arbitraries.of(64 * MIB, 0L, 16 * MIB),
                        Arbitraries.of(250L, 0L, 50L),
                        gridSize(10, 19).set().ofMaxSize(Policy.MAX_BRIDGE_CLASSES))
                .as((wMax, threshold, retain, purge, bridges) -> Policy.builder().wMax(wMax).bigThreshold(threshold)
                        .retainBytes(retain).purgeDelayMillis(purge)
                        .bridgeClasses(bridges.stream().mapToInt(Integer::intValue).toArray()).build());
        return Combinators.combine(knobs, presize.list().ofSize(TestHeap.SITES.length)).as((p, sizes) -> {
            Policy.Builder b = p.toBuilder();
            for (int k = 0; k < sizes.size(); k++) {
                b.site(new Policy.SiteRule(TestHeap.SITES[k], false, false, sizes.get(k)));
            }
            return b.build();
        });
    }

    /** Pool sizes on the grid between 2^minLog and 2^(maxLog + 1). */
    private static Arbitrary<Integer> gridSize(int minLog, int maxLog) {
        return Combinators.combine(Arbitraries.integers().between(minLog, maxLog),
                        Arbitraries.integers().between(0, 15))
                .as((k, j) -> (1 << k) + (j << (k - 4)))
                .filter(Policy::isPoolGridSize);
    }
}
