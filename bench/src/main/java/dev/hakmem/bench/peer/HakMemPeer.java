package dev.hakmem.bench.peer;

import dev.hakmem.HakMem;

/** hakmem through its public API, on a heap of its own so that every trial starts from an empty heap. */
public final class HakMemPeer implements NativeAllocator {
    public static final String NAME = "hakmem";

    private final HakMem heap = HakMem.create();

    @Override
    public long malloc(long size) {
        return heap.malloc(size);
    }

    @Override
    public void free(long address) {
        heap.free(address);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void close() {
        heap.close();
    }
}
