package dev.hakmem.bench.peer;

import java.util.List;

/** Creates peers by the names the benchmarks' {@code allocator} parameter uses. */
public final class Peers {

    /** Every peer name, hakmem first. */
    public static final List<String> NAMES = List.of(HakMemPeer.NAME, HakMemPeer.GUARD, HakMemPeer.GUARD_SAMPLED,
            MimallocPeer.NAME, NettyPooledPeer.NAME);

    private Peers() {
    }

    /**
     * A new instance of the named peer.
     *
     * @throws PeerUnavailableException if the peer cannot run here (for instance its library is not installed)
     * @throws IllegalArgumentException if no peer has that name
     */
    public static NativeAllocator create(String name) {
        return switch (name) {
            case HakMemPeer.NAME -> HakMemPeer.fast();
            case HakMemPeer.GUARD -> HakMemPeer.guard();
            case HakMemPeer.GUARD_SAMPLED -> HakMemPeer.guardSampled();
            case MimallocPeer.NAME -> new MimallocPeer();
            case NettyPooledPeer.NAME -> new NettyPooledPeer();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "', known: " + NAMES);
        };
    }
}
