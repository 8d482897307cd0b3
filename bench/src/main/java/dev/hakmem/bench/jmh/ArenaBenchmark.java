package dev.hakmem.bench.jmh;

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
import java.util.concurrent.TimeUnit;

/**
 * A scope's worth of allocations: open an arena, allocate {@code count} segments of {@code size} bytes, close it
 * to free them all. hakmem's {@code newArena()} serves the segments from the heap's size classes; a confined JDK
 * arena mallocs (and zeroes) each one. The score is per arena, not per segment.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ArenaBenchmark {

    @Param({"1", "16", "256"})
    public int count;

    @Param({"64"})
    public int size;

    /** One op: {@code heap.newArena()}, count segments each written at its first and last byte, close. */
    @Benchmark
    public void hakmem(HeapState state) {
        try (Arena arena = state.heap().newArena()) {
            fill(arena);
        }
    }

    /** One op: {@code Arena.ofConfined()}, count segments each written at its first and last byte, close. */
    @Benchmark
    public void confinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            fill(arena);
        }
    }

    private void fill(Arena arena) {
        for (int i = 0; i < count; i++) {
            Memory.touch(arena.allocate(size));
        }
    }
}
