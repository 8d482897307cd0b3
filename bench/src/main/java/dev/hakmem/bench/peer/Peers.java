package dev.hakmem.bench.peer;

import java.util.List;

/** Creates peers by the names the benchmarks' {@code allocator} parameter uses. */
public final class Peers {

    /** Every peer name, hakmem first. */
    public static final List<String> NAMES = List.of(HakMemPeer.NAME, HakMemPeer.CONTROL, HakMemPeer.LEARNING,
            HakMemPeer.FROZEN, HakMemPeer.GUARD, HakMemPeer.GUARD_SITES64, HakMemPeer.GUARD_NO_SITES,
            HakMemPeer.GUARD_SAMPLE,
            CMallocPeer.MIMALLOC, CMallocPeer.JEMALLOC, CMallocPeer.TCMALLOC, CMallocPeer.GLIBC,
            NettyPeer.POOLED, NettyPeer.POOLED_NO_CACHE, NettyPeer.ADAPTIVE,
            ArenaPeer.CONFINED, ArenaPeer.SHARED);

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
            case HakMemPeer.CONTROL -> HakMemPeer.control();
            case HakMemPeer.LEARNING -> HakMemPeer.learning();
            case HakMemPeer.FROZEN -> HakMemPeer.frozen();
            case HakMemPeer.GUARD -> HakMemPeer.guard();
            case HakMemPeer.GUARD_SITES64 -> HakMemPeer.guardSites64();
            case HakMemPeer.GUARD_NO_SITES -> HakMemPeer.guardNoSites();
            case HakMemPeer.GUARD_SAMPLE -> HakMemPeer.guardSample();
            case CMallocPeer.MIMALLOC -> CMallocPeer.mimalloc();
            case CMallocPeer.JEMALLOC -> CMallocPeer.jemalloc();
            case CMallocPeer.TCMALLOC -> CMallocPeer.tcmalloc();
            case CMallocPeer.GLIBC -> CMallocPeer.glibc();
            case NettyPeer.POOLED -> NettyPeer.pooled();
            case NettyPeer.POOLED_NO_CACHE -> NettyPeer.pooledNoCache();
            case NettyPeer.ADAPTIVE -> NettyPeer.adaptive();
            case ArenaPeer.CONFINED -> ArenaPeer.confined();
            case ArenaPeer.SHARED -> ArenaPeer.shared();
            default -> throw new IllegalArgumentException("unknown allocator '" + name + "', known: " + NAMES);
        };
    }
}
