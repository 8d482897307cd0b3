package dev.hakmem.bench.jmh;

import dev.hakmem.HakMem;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * One block as a {@link MemorySegment}, the way FFM code holds native memory: hakmem's {@code allocate}/{@code free}
 * against the JDK's alternative for a block with its own lifetime, a confined arena opened for it and closed to free
 * it. The JDK's segments come zeroed and hakmem's do not; that difference is part of what each costs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SegmentBenchmark {

    @Param({"64", "4096"})
    public int size;

    /** One op: {@code heap.allocate(size)}, write its first and last byte, {@code heap.free(segment)}. */
    @Benchmark
    public void hakmem(HeapState state) {
        HakMem heap = state.heap();
        MemorySegment segment = heap.allocate(size);
        Memory.touch(segment);
        heap.free(segment);
    }

    /** One op: {@code Arena.ofConfined()}, allocate size bytes, write the first and last byte, close. */
    @Benchmark
    public void confinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            Memory.touch(arena.allocate(size));
        }
    }
}
