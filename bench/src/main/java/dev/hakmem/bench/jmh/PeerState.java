package dev.hakmem.bench.jmh;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.PeerUnavailableException;
import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.peer.Reallocating;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The peer allocator a benchmark runs against, named by the benchmark's {@code allocator} parameter. Each benchmark
 * declares that {@code @Param} itself, because the peers that make sense differ (realloc, cross-thread frees), and
 * this state reads it from the run's parameters. One peer per trial, shared by all the benchmark's threads, as one
 * allocator serves a whole process.
 */
@State(Scope.Benchmark)
public class PeerState {
    static final String PARAM = "allocator";

    private NativeAllocator peer;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        peer = Peers.create(params.getParam(PARAM));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        peer.close();
    }

    NativeAllocator peer() {
        return peer;
    }

    /** @throws PeerUnavailableException if the peer has no realloc, which skips that parameter value */
    Reallocating reallocating() {
        if (peer instanceof Reallocating reallocating) {
            return reallocating;
        }
        throw new PeerUnavailableException(peer.name() + " has no realloc. Skipping " + peer.name() + ".");
    }

    /** @throws PeerUnavailableException if the peer's blocks must be freed by the thread that allocated them */
    NativeAllocator crossThread() {
        if (peer.crossThreadFree()) {
            return peer;
        }
        throw new PeerUnavailableException(peer.name() + " cannot free a block in another thread. Skipping "
                + peer.name() + ".");
    }
}
