package dev.hakmem.bench.jmh;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
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
 * The price of sampled guard mode's sample, and its cost at the rates the default was chosen from
 * (docs/GUARD_MODE.md, "Why this rate"): tiny_hot's loop (malloc 16 B, write it, free) on a heap in sampled mode.
 * At rate 1 every malloc is sampled, so its time less rate 0's (sampled mode off) is the price of one sample,
 * malloc and free; at the other rates the difference is what the sampling costs the hottest loop.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SampledGuardBenchmark {

    /** One malloc in this many is sampled; 0: sampled mode off. */
    @Param({"0", "1", "1024", "4096", "16384"})
    public int rate;

    @Param({"16"})
    public int size;

    private HakMem heap;

    @Setup(Level.Trial)
    public void setUp() {
        heap = HakMem.create(HakMemConfig.builder()
                .guard(rate == 0 ? GuardOptions.off() : GuardOptions.sampled(rate)).build());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    /** One op: malloc(size), write its first and last byte, free. */
    @Benchmark
    public void mallocFree() {
        long address = heap.malloc(size);
        Memory.touch(address, size);
        heap.free(address);
    }
}
