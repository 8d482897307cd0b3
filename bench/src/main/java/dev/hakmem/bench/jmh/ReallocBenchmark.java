package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.Reallocating;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * A growing buffer, the way realloc is mostly used: start at 16 bytes and double up to {@code maxSize}, writing the
 * first and last byte of each new size, then free. Each doubling either stays in place or moves the contents; how
 * often each happens, and how cheaply a large block moves, is what tells the allocators apart. Only peers with a
 * realloc take part: hakmem and the C allocators.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class ReallocBenchmark {
    private static final int START = 16;

    /** Read by {@link PeerState}. */
    @Param({"hakmem", "hakmem-guard", "mimalloc", "jemalloc", "tcmalloc", "glibc"})
    public String allocator;

    /** 4096: 8 doublings within small blocks; 1048576: 16, the last ones moving up to 512 KiB. */
    @Param({"4096", "1048576"})
    public int maxSize;

    private Reallocating peer;

    @Setup(Level.Trial)
    public void setUp(PeerState state) {
        peer = state.reallocating();
    }

    /** One op: malloc(16), realloc doubling to maxSize, each size's first and last byte written, free. */
    @Benchmark
    public void growByDoubling() {
        long address = peer.malloc(START);
        Memory.touch(address, START);
        for (long size = 2 * START; size <= maxSize; size *= 2) {
            address = peer.realloc(address, size);
            Memory.touch(address, size);
        }
        peer.free(address);
    }
}
