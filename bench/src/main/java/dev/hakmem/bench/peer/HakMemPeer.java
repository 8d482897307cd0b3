package dev.hakmem.bench.peer;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;

/** hakmem through its public API, on a heap of its own so that every trial starts from an empty heap. */
public final class HakMemPeer implements Reallocating {
    public static final String NAME = "hakmem";
    /** Guard mode with its defaults: every allocation records its site. */
    public static final String GUARD = "hakmem-guard";
    /** Guard mode recording the site of one allocation in 64. */
    public static final String GUARD_SAMPLED = "hakmem-guard-sampled";

    private final String name;
    private final HakMem heap;

    private HakMemPeer(String name, HakMemConfig config) {
        this.name = name;
        this.heap = HakMem.create(config);
    }

    public static HakMemPeer fast() {
        return new HakMemPeer(NAME, HakMemConfig.defaults());
    }

    public static HakMemPeer guard() {
        return new HakMemPeer(GUARD, HakMemConfig.builder().guard(true).build());
    }

    public static HakMemPeer guardSampled() {
        GuardOptions sampled = GuardOptions.on().withSites(GuardOptions.on().siteDepth(), 64);
        return new HakMemPeer(GUARD_SAMPLED, HakMemConfig.builder().guard(sampled).build());
    }

    @Override
    public long malloc(long size) {
        return heap.malloc(size);
    }

    @Override
    public void free(long address) {
        heap.free(address);
    }

    @Override
    public long realloc(long address, long newSize) {
        return heap.realloc(address, newSize);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
        heap.close();
    }
}
