package dev.hakmem.bench.peer;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/**
 * Netty's {@link PooledByteBufAllocator} for direct buffers. One malloc is {@code directBuffer(size, size)} and one
 * free is {@code release()} of that ByteBuf: the work a Netty application does for a buffer. The benchmarks hold
 * addresses, so the peer maps each address to its ByteBuf; that lookup is the one cost here a Netty application
 * would not pay (it holds the ByteBuf).
 *
 * <p>Netty needs {@code --sun-misc-unsafe-memory-access=allow} on JDK 25 to expose a direct buffer's address.
 */
public final class NettyPooledPeer implements NativeAllocator {
    public static final String NAME = "netty-pooled";

    private final PooledByteBufAllocator allocator;
    private final AddressMap<ByteBuf> live = new AddressMap<>();

    /** @throws PeerUnavailableException if Netty cannot give direct buffers' addresses in this JVM */
    public NettyPooledPeer() {
        // Leak detection samples allocations and records stack traces: a debugging aid, not the allocator's cost.
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        // Netty gives per-thread caches only to its own threads by default; the benchmark thread stands in for an
        // event-loop thread, which is where a Netty application allocates, so it gets one too.
        allocator = new PooledByteBufAllocator(true,
                PooledByteBufAllocator.defaultNumHeapArena(), PooledByteBufAllocator.defaultNumDirectArena(),
                PooledByteBufAllocator.defaultPageSize(), PooledByteBufAllocator.defaultMaxOrder(),
                PooledByteBufAllocator.defaultSmallCacheSize(), PooledByteBufAllocator.defaultNormalCacheSize(),
                true);
        ByteBuf probe = allocator.directBuffer(16, 16);
        boolean addressable = probe.hasMemoryAddress();
        probe.release();
        if (!addressable) {
            throw new PeerUnavailableException(NAME + " is not available: Netty's direct buffers expose no address"
                    + " in this JVM (run it with --sun-misc-unsafe-memory-access=allow). Skipping " + NAME + ".");
        }
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
        ByteBuf buffer = live.remove(address);
        if (buffer == null) {
            throw new IllegalArgumentException("not a live buffer: 0x" + Long.toHexString(address));
        }
        buffer.release();
    }

    @Override
    public String name() {
        return NAME;
    }
}
