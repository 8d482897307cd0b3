package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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
import org.openjdk.jmh.infra.Control;

import java.util.concurrent.TimeUnit;

/**
 * Remote frees: one thread allocates blocks and hands them through a bounded ring to a second thread, which frees
 * them, so every free is of a block another thread allocated (hakmem's remote-free stack, mimalloc's thread-delayed
 * free list, Netty's arena locks). The ring bounds the blocks in flight; when it is full the allocating thread
 * waits, when empty the freeing one does, so the group's time per operation is that of the slower side. A waiting
 * thread yields its core and checks {@link Control#stopMeasurement}, so that neither is left waiting when the
 * iteration ends. It does not spin with {@link Thread#onSpinWait()}: on this project's 2-core virtual machine every
 * peer then measured about 31 us per operation with a tenth of that in CPU time, as if the hypervisor descheduled
 * a virtual CPU caught in a PAUSE loop; with {@code yield}, 20 to 370 ns by the machine's load, in CPU time too.
 * The pair needs both cores: on a busy machine compare peers within one run.
 */
@State(Scope.Group)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class RemoteFreeBenchmark {
    private static final int IN_FLIGHT = 256;

    /** Read by {@link PeerState}; arena-confined is left out as it cannot free in another thread. */
    @Param({"hakmem", "hakmem-guard", "mimalloc", "jemalloc", "tcmalloc", "glibc",
            "netty-pooled", "netty-pooled-nocache", "netty-adaptive", "arena-shared"})
    public String allocator;

    @Param({"64", "4096"})
    public int size;

    private NativeAllocator peer;
    private HandOff handOff;

    @Setup(Level.Trial)
    public void setUp(PeerState state) {
        peer = state.crossThread();
        handOff = new HandOff(IN_FLIGHT);
    }

    /** Frees what is still in flight; the peer is closed after this state is torn down. */
    @TearDown(Level.Trial)
    public void tearDown() {
        for (long address = handOff.poll(); address != 0; address = handOff.poll()) {
            peer.free(address);
        }
    }

    /** The allocating thread's op: malloc(size), write its first and last byte, hand it over. */
    @Benchmark
    @Group("remoteFree")
    @GroupThreads(1)
    public void allocate(Control control) {
        long address = peer.malloc(size);
        Memory.touch(address, size);
        while (!handOff.offer(address)) {
            if (control.stopMeasurement) {
                peer.free(address);
                return;
            }
            Thread.yield();
        }
    }

    /** The freeing thread's op: take a block allocated by the other thread and free it. */
    @Benchmark
    @Group("remoteFree")
    @GroupThreads(1)
    public void free(Control control) {
        long address;
        while ((address = handOff.poll()) == 0) {
            if (control.stopMeasurement) {
                return;
            }
            Thread.yield();
        }
        peer.free(address);
    }
}
