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
        publish(heap, policy);
        return heap;
    }

    /** Puts {@code policy} in force in {@code heap}, as its learner would. */
    public static void publish(HakMem heap, Policy policy) {
        heap.allocator().publish(policy);
    }
}
