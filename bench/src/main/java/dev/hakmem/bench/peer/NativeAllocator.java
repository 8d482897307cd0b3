package dev.hakmem.bench.peer;

/**
 * The least an allocator must offer to be benchmarked against hakmem: raw blocks by address. Each peer wraps one
 * allocator the way an application would use it, so a benchmark measures the same work for every peer.
 */
public interface NativeAllocator extends AutoCloseable {

    /** Allocates at least {@code size} bytes and returns the block's address. */
    long malloc(long size);

    /** Allocates for a purpose the workload knows; only peers with allocation sites (hakmem) use it. */
    default long malloc(long size, SiteHint site) {
        return malloc(size);
    }

    /** Frees a block that {@link #malloc} returned. */
    void free(long address);

    /** The peer's name, as the benchmarks' {@code allocator} parameter spells it. */
    String name();

    /**
     * Whether a block may be freed by a thread other than the one that allocated it. Workloads that hand blocks
     * between threads (larson, producer_consumer, xmalloc) skip a peer that answers false, with a message.
     */
    default boolean crossThreadFree() {
        return true;
    }

    /** Gives back what the peer itself holds; blocks still allocated may be lost. */
    @Override
    default void close() {
    }
}
