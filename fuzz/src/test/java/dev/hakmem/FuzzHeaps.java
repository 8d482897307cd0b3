package dev.hakmem;

/**
 * The fuzzers' way to HakMem's package-private test hooks (this class shares the package on the class path): a heap
 * with a chosen sampling period, under a chosen policy.
 */
public final class FuzzHeaps {
    private FuzzHeaps() {
    }

    /** A heap sampling one byte in {@code samplePeriod} (1: every allocation: exact profiles), under {@code policy}. */
    public static HakMem create(HakMemConfig config, long samplePeriod, Policy policy) {
        HakMem heap = HakMem.create(config, samplePeriod);
        heap.allocator().publish(policy);
        return heap;
    }
}
