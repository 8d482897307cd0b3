package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
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

import java.util.concurrent.TimeUnit;

/**
 * The fast path in isolation, size class by size class: one thread allocates a block, writes it and frees it at
 * once, so every operation is served from (and returned to) the allocator's thread-local cache where it has one.
 * The sizes fall in hakmem's Tiny (16..1024), Mid (4096, 32768) and Large (262144) tiers.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class MallocFreeBenchmark {

    /** Read by {@link PeerState}. */
    @Param({"hakmem", "hakmem-guard", "hakmem-guard-sites64", "hakmem-guard-sample",
            "mimalloc", "jemalloc", "tcmalloc", "glibc",
            "netty-pooled", "netty-pooled-nocache", "netty-adaptive", "arena-confined", "arena-shared"})
    public String allocator;

    @Param({"16", "64", "256", "1024", "4096", "32768", "262144"})
    public int size;

    /** One op: malloc(size), write its first and last byte, free. */
    @Benchmark
    public void mallocFree(PeerState state) {
        NativeAllocator peer = state.peer();
        long address = peer.malloc(size);
        Memory.touch(address, size);
        peer.free(address);
    }
}
