package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.Workloads;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The runner's workloads under JMH: the same {@link Workload} classes, so that both measure one implementation.
 * An invocation runs a workload to {@link #OPERATIONS} operations per worker on its own threads (a workload's
 * threads are part of it: larson's successors, producers and consumers), and the {@code operations} counter
 * reports the operations done, one allocation plus its free each, per microsecond: Mops/s. Other allocators
 * ({@link Peers#NAMES}) by {@code -p allocator=...}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class WorkloadBenchmark {
    /** Per worker and invocation: a few milliseconds on small blocks, so thread start-up is a small share. */
    private static final int OPERATIONS = 64 * Budget.STRIDE;

    @Param({Workloads.TINY_HOT, Workloads.RANDOM_MIXED_256, Workloads.RANDOM_MIXED_8192, Workloads.LARSON,
            Workloads.MID_LARGE_MT_64K, Workloads.MID_LARGE_MT_1M, Workloads.PRODUCER_CONSUMER, Workloads.XMALLOC,
            Workloads.JSON, Workloads.MIR, Workloads.VM, Workloads.MIXED, Workloads.THREAD_CHURN})
    public String workload;

    @Param({"hakmem", "mimalloc"})
    public String allocator;

    @Param({"1", "2"})
    public int threads;

    private Workload pattern;
    private NativeAllocator peer;

    /** Operations done, which JMH reports as a rate next to the invocations' rate. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counters {
        public long operations;
    }

    @Setup(Level.Trial)
    public void setUp() {
        pattern = Workloads.named(workload);
        peer = Peers.create(allocator);
        if (pattern.freesOnOtherThreads() && !peer.crossThreadFree()) {
            peer.close();
            throw new IllegalStateException("skipped: " + allocator + " frees blocks only on the allocating thread, "
                    + workload + " frees them on other threads");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        peer.close();
    }

    @Benchmark
    public void run(Counters counters) {
        counters.operations += pattern.run(peer, threads, Budget.perWorker(OPERATIONS));
    }
}
