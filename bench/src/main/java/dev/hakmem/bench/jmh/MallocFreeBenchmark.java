package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.Peers;
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
 * The fast path in isolation: one thread allocates a 64-byte block, writes it and frees it at once, so every
 * operation is served from (and returned to) the allocator's thread-local cache.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MallocFreeBenchmark {
    private static final int SIZE = 64;

    @Param({"hakmem", "hakmem-guard", "hakmem-guard-sampled", "mimalloc", "netty-pooled"})
    public String allocator;

    private NativeAllocator peer;

    @Setup(Level.Trial)
    public void setUp() {
        peer = Peers.create(allocator);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        peer.close();
    }

    /** One op: malloc(64), write its first and last byte, free. */
    @Benchmark
    public void mallocFree64() {
        long address = peer.malloc(SIZE);
        Memory.touch(address, SIZE);
        peer.free(address);
    }
}
