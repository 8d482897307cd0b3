package dev.hakmem.bench.jmh;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.Policy;
import dev.hakmem.Site;
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
 * What allocation sites cost on the fast path: the same malloc-touch-free as {@link MallocFreeBenchmark}'s, through
 * the heap (the anonymous site), through a named site without a rule, and through a site whose rule sends it to the
 * thread's long-lived heap; in each mode (FAST does not sample, BALANCED samples one byte in 2 MiB, so a 256 KiB
 * malloc about one time in eight: what a sample costs shows there).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SiteBenchmark {

    @Param({"FAST", "BALANCED"})
    public HakMemConfig.Mode mode;

    @Param({"64", "4096", "262144"})
    public int size;

    private HakMem heap;
    private Site plain;
    private Site longLived;

    @Setup(Level.Trial)
    public void setUp() {
        Policy rules = Policy.builder().site(new Policy.SiteRule("long-lived", true, false)).build();
        heap = HakMem.create(HakMemConfig.builder().mode(mode).policy(rules).build());
        plain = heap.site("plain");
        longLived = heap.site("long-lived");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    @Benchmark
    public void anonymous() {
        long address = heap.malloc(size);
        Memory.touch(address, size);
        heap.free(address);
    }

    @Benchmark
    public void site() {
        long address = plain.malloc(size);
        Memory.touch(address, size);
        heap.free(address);
    }

    @Benchmark
    public void longLivedSite() {
        long address = longLived.malloc(size);
        Memory.touch(address, size);
        heap.free(address);
    }
}
