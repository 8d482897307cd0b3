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

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/**
 * The price of sampled guard mode's sample, and its cost at the rates the default was chosen from
 * (docs/GUARD_MODE.md, "Why 1 in 32768"): tiny_hot's loop (malloc 16 B, write it, free) on a heap in sampled mode.
 * At rate 1 every malloc is sampled, so its time less rate 0's (sampled mode off) is the price of one sample,
 * malloc and free; at the other rates the difference is what the sampling costs the hottest loop. With
 * {@code guardPages} the samples take the optional guard pages (two mprotect calls and two records written to a
 * report file a sample), the report truncated after each iteration.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SampledGuardBenchmark {

    /** One malloc in this many is sampled; 0: sampled mode off. */
    @Param({"0", "1", "1024", "4096", "16384", "32768"})
    public int rate;

    @Param({"16"})
    public int size;

    /** Sampled mode's optional guard pages. */
    @Param({"false"})
    public boolean guardPages;

    private HakMem heap;
    private Path report;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        GuardOptions guard = rate == 0 ? GuardOptions.off() : GuardOptions.sampled(rate);
        if (guardPages) {
            report = Files.createTempFile("hakmem-guard-pages", ".txt");
            guard = guard.withGuardPages(report);
        }
        heap = HakMem.create(HakMemConfig.builder().guard(guard).build());
    }

    @TearDown(Level.Iteration)
    public void truncateReport() throws IOException {
        if (report != null) {
            try (FileChannel file = FileChannel.open(report, StandardOpenOption.WRITE)) {
                file.truncate(0);
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        heap.close();
        if (report != null) {
            Files.delete(report);
        }
    }

    /** One op: malloc(size), write its first and last byte, free. */
    @Benchmark
    public void mallocFree() {
        long address = heap.malloc(size);
        Memory.touch(address, size);
        heap.free(address);
    }
}
