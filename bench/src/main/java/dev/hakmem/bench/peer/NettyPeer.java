package dev.hakmem.bench.peer;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer allocators for direct buffers. One malloc is {@code directBuffer(size, size)} and one free is
 * {@code release()} of that ByteBuf: the work a Netty application does for a buffer. The benchmarks hold
 * addresses, so the peer maps each address to its ByteBuf; that lookup is the one cost here a Netty application
 * would not pay (it holds the ByteBuf).
 *
 * <p>Netty gives per-thread caches only to its own threads by default. The benchmark thread stands in for an
 * event-loop thread, which is where a Netty application allocates, so it gets one too, except in
 * {@value #POOLED_NO_CACHE}, which shows what the pooled allocator costs a thread without one.
 */
public final class NettyPeer implements NativeAllocator {
    public static final String POOLED = "netty-pooled";
    public static final String POOLED_NO_CACHE = "netty-pooled-nocache";
    public static final String ADAPTIVE = "netty-adaptive";

    static {
        // Leak detection samples allocations and records stack traces: a debugging aid, not the allocator's cost.
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }

    private final String name;
    private final ByteBufAllocator allocator;
    private final AddressMap<ByteBuf> live = new AddressMap<>();

    /** @throws PeerUnavailableException if Netty cannot give direct buffers' addresses in this JVM */
    private NettyPeer(String name, ByteBufAllocator allocator) {
        this.name = name;
        this.allocator = allocator;
        ByteBuf probe = allocator.directBuffer(16, 16);
        boolean addressable = probe.hasMemoryAddress();
        probe.release();
        if (!addressable) {
            throw new PeerUnavailableException(name + " is not available: Netty's direct buffers expose no address"
                    + " in this JVM (run it with --sun-misc-unsafe-memory-access=allow). Skipping " + name + ".");
        }
    }

    /** {@link PooledByteBufAllocator} with a thread cache for every thread. */
    public static NettyPeer pooled() {
        return new NettyPeer(POOLED, pooledAllocator(true));
    }

    /** {@link PooledByteBufAllocator} with no thread cache: every buffer comes from and goes back to an arena. */
    public static NettyPeer pooledNoCache() {
        return new NettyPeer(POOLED_NO_CACHE, pooledAllocator(false));
    }

    /** {@link AdaptiveByteBufAllocator}, Netty 4.2's default allocator, with magazines for every thread. */
    public static NettyPeer adaptive() {
        return new NettyPeer(ADAPTIVE, adaptiveAllocator());
    }

    /** The allocator behind {@value #ADAPTIVE}. */
    public static AdaptiveByteBufAllocator adaptiveAllocator() {
        return new AdaptiveByteBufAllocator(true, true);
    }

    /** The allocator behind {@value #POOLED} (with thread caches) or {@value #POOLED_NO_CACHE}. */
    public static PooledByteBufAllocator pooledAllocator(boolean threadCaches) {
        return new PooledByteBufAllocator(true,
                PooledByteBufAllocator.defaultNumHeapArena(), PooledByteBufAllocator.defaultNumDirectArena(),
                PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(),
                threadCaches ? PooledByteBufAllocator.defaultSmallCacheSize() : 0,
                threadCaches ? PooledByteBufAllocator.defaultNormalCacheSize() : 0,
                threadCaches);
    }

    @Override
    public long malloc(long size) {
        int capacity = Math.toIntExact(size);
        ByteBuf buffer = allocator.directBuffer(capacity, capacity);
        long address = buffer.memoryAddress();
        live.put(address, buffer);
        return address;
    }

    @Override
    public void free(long address) {
        live.take(address).release();
    }

    @Override
    public String name() {
        return name;
    }
}
