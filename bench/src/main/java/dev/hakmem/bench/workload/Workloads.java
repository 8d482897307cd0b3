package dev.hakmem.bench.workload;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Consumer;

/** Every workload, by name, in the order the runner reports them. */
public final class Workloads {
    private static final int KiB = 1 << 10;
    private static final int MiB = 1 << 20;

    // Compile-time constants, so that JMH's @Param can name them.
    public static final String TINY_HOT = "tiny_hot";
    public static final String RANDOM_MIXED_256 = "random_mixed_256";
    public static final String RANDOM_MIXED_8192 = "random_mixed_8192";
    public static final String LARSON = "larson";
    public static final String MID_LARGE_MT_64K = "mid_large_mt_64k";
    public static final String MID_LARGE_MT_1M = "mid_large_mt_1m";
    public static final String PRODUCER_CONSUMER = "producer_consumer";
    public static final String XMALLOC = "xmalloc";
    public static final String JSON = "json";
    public static final String MIR = "mir";
    public static final String VM = "vm";
    public static final String MIXED = "mixed";
    public static final String THREAD_CHURN = "thread_churn";
    public static final String LIFETIME_MIX = "lifetime_mix";
    public static final String PHASE_SHIFT = "phase_shift";

    /*
     * json, mir, vm and mixed are the scenarios of the original hakmem's bench_allocators (its README, "Benchmark
     * scenarios" and test_hakmem's three call sites; seed document 001_92c785c2fc8c60e3): JSON parsing
     * allocates 64 KiB blocks often (1000 iterations), a MIR build 256 KiB blocks (100), VM execution 2 MiB blocks
     * rarely (10), and mixed all three. Each iteration allocates a block, uses it and frees it: one live block, and
     * mixed draws the sizes in the scenarios' 1000 : 100 : 10 proportion.
     */
    private static final String SEED_SCENARIO = "hakmem seed scenario";

    private static final Workload JSON_RUN = new LocalChurn(JSON, SEED_SCENARIO, Sizes.fixed(64 * KiB), 1);
    private static final Workload MIR_RUN = new LocalChurn(MIR, SEED_SCENARIO, Sizes.fixed(256 * KiB), 1);
    private static final Workload VM_RUN = new LocalChurn(VM, SEED_SCENARIO, Sizes.fixed(2 * MiB), 1);
    private static final Workload MIXED_RUN = new LocalChurn(MIXED, SEED_SCENARIO,
            Sizes.weighted(new int[] {64 * KiB, 256 * KiB, 2 * MiB}, new int[] {1000, 100, 10}), 1);
    private static final Workload LIFETIME_MIX_RUN = new LifetimeMix(LIFETIME_MIX);

    /** The phases of {@link #PHASE_SHIFT} in their order: the seed's json, mir, vm and mixed, then the lifetime mix. */
    public static final List<Workload> PHASES = List.of(JSON_RUN, MIR_RUN, VM_RUN, MIXED_RUN, LIFETIME_MIX_RUN);

    public static final List<Workload> ALL = List.of(
            new LocalChurn(TINY_HOT, "hot small blocks", Sizes.fixed(64), 100),
            new LocalChurn(RANDOM_MIXED_256, "random mixed, cache-resident working set",
                    Sizes.uniform(16, 1024), 256),
            new LocalChurn(RANDOM_MIXED_8192, "random mixed, working set beyond the caches",
                    Sizes.uniform(16, 1024), 8192),
            // The seed's run: larson 8..128 B, 1024 blocks per thread (seeds/001, "larson_hakmem 5 8 128 1024 ...").
            new Successors(LARSON, "Larson", Sizes.uniform(8, 128), 1024, 16 * 1024),
            new LocalChurn(MID_LARGE_MT_64K, "mid-size blocks", Sizes.uniform(8 * KiB, 64 * KiB), 256),
            new LocalChurn(MID_LARGE_MT_1M, "mid to large blocks", Sizes.uniform(2 * KiB, MiB), 64),
            new HandOff(PRODUCER_CONSUMER, "producer and consumer", Sizes.uniform(16, 1024), false),
            new HandOff(XMALLOC, "xmalloc-test", Sizes.uniform(8, 512), true),
            JSON_RUN, MIR_RUN, VM_RUN, MIXED_RUN,
            // mleak's question: is the memory of threads that ended reused? Lives so short that thread ends dominate.
            new Successors(THREAD_CHURN, "thread churn", Sizes.uniform(16, 1024), 256, 1024),
            LIFETIME_MIX_RUN,
            // 250 ms a phase: the runner's default run (0.5 s warm-up, 1 s windows) sees every phase.
            phaseShift(250));

    private Workloads() {
    }

    /** The phase-shift workload with phases of {@code phaseMillis} (the learn command runs longer ones). */
    public static Workload phaseShift(long phaseMillis) {
        return phaseShift(phaseMillis, phase -> { });
    }

    /** As {@link #phaseShift(long)}, telling {@code onPhase} of each phase as it begins, on the workload's thread. */
    public static Workload phaseShift(long phaseMillis, Consumer<Workload> onPhase) {
        return new PhaseShift(PHASE_SHIFT, PHASES, phaseMillis, onPhase);
    }

    /** @throws NoSuchElementException naming the known workloads */
    public static Workload named(String name) {
        return ALL.stream().filter(w -> w.name().equals(name)).findFirst().orElseThrow(() ->
                new NoSuchElementException("unknown workload '" + name + "', known: " + names()));
    }

    public static List<String> names() {
        return ALL.stream().map(Workload::name).toList();
    }
}
