package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * A steady state with many live blocks of mixed small sizes: each operation frees the block in a random slot of a
 * ring and allocates a new block of random size into it, so frees arrive in no particular order and size classes
 * mix. 256 live blocks fit in the caches; 8192 spread over many slabs and pages.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class RandomMixedBenchmark {
    private static final int MIN_SIZE = 16;
    private static final int MAX_SIZE = 1024;
    /** Pre-drawn operations, replayed cyclically; a power of two so the cursor wraps with a mask. */
    private static final int TABLE = 1 << 16;
    /** Fixed, so that every allocator replays the same sequence. */
    private static final long SEED = 0x5EED_4A4BL;

    /** Read by {@link PeerState}. */
    @Param({"hakmem", "hakmem-guard", "hakmem-guard-sites64", "hakmem-guard-sample",
            "mimalloc", "jemalloc", "tcmalloc", "glibc",
            "netty-pooled", "netty-pooled-nocache", "netty-adaptive", "arena-confined", "arena-shared"})
    public String allocator;

    @Param({"256", "8192"})
    public int liveBlocks;

    private NativeAllocator peer;
    private int[] slots;
    private int[] sizes;
    private long[] blocks;
    private int cursor;

    @Setup(Level.Trial)
    public void setUp(PeerState state) {
        peer = state.peer();
        // Drawn here, not in the measured method, so that the random generator's cost is not measured.
        SplittableRandom random = new SplittableRandom(SEED);
        slots = new int[TABLE];
        sizes = new int[TABLE];
        for (int i = 0; i < TABLE; i++) {
            slots[i] = random.nextInt(liveBlocks);
            sizes[i] = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
        }
        blocks = new long[liveBlocks];
        for (int slot = 0; slot < liveBlocks; slot++) {
            int size = random.nextInt(MIN_SIZE, MAX_SIZE + 1);
            blocks[slot] = peer.malloc(size);
            Memory.touch(blocks[slot], size);
        }
        cursor = 0;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (long block : blocks) {
            peer.free(block);
        }
    }

    /** One op: free the block in a random slot, malloc a random size 16..1024 into it, write its first and last byte. */
    @Benchmark
    public void randomMixed() {
        int i = cursor;
        cursor = (i + 1) & (TABLE - 1);
        int slot = slots[i];
        int size = sizes[i];
        peer.free(blocks[slot]);
        long address = peer.malloc(size);
        Memory.touch(address, size);
        blocks[slot] = address;
    }
}
