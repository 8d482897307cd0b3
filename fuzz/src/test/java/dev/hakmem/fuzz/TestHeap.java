package dev.hakmem.fuzz;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.verify.ShadowHeap;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** A heap under test with its shadow, built over a {@link TrackingPageSource} so closing it can be checked too. */
final class TestHeap implements AutoCloseable {

    final HakMem heap;
    final ShadowHeap shadow;
    private final TrackingPageSource pages;
    private final boolean limited;
    /** A second heap, for blocks that are not this one's; created on first use. */
    private HakMem other;

    TestHeap(HakMemConfig config) {
        this(config, new TrackingPageSource());
    }

    /** A heap whose page source fails each call with probability {@code failureRate}. */
    TestHeap(HakMemConfig config, long faultSeed, double failureRate) {
        this(config, new TrackingPageSource(faultSeed, failureRate));
    }

    private TestHeap(HakMemConfig config, TrackingPageSource pages) {
        this.pages = pages;
        this.limited = config.mappedLimit() != Long.MAX_VALUE;
        this.heap = HakMem.create(config.toBuilder().pageSource(pages).build());
        this.shadow = new ShadowHeap(heap);
    }

    /** Whether a valid allocation may fail with HakMemOutOfMemoryError: faults are injected or mapping is capped. */
    boolean mayRunOutOfMemory() {
        return limited || pages.injectsFaults();
    }

    HakMem other() {
        if (other == null) {
            other = HakMem.create();
        }
        return other;
    }

    /** The end of every run, on a quiescent heap: all checks, then everything freed and nothing left counted. */
    void finish() throws InterruptedException {
        shadow.verifyAll();
        shadow.assertStatsAgree();
        assertMappedBytesAgree();
        heap.check();
        shadow.freeAll();
        HakMemStats stats = heap.stats();
        if (stats.liveBytes() != 0 || stats.liveBlocks() != 0) {
            throw new AssertionError("after freeing every block the heap still counts " + stats.liveBlocks()
                    + " blocks of " + stats.liveBytes() + " bytes");
        }
        heap.check();
        assertMappedBytesAgree();
    }

    /**
     * {@code stats().mappedBytes()} must be what the page source has reserved and not released. The maintenance
     * thread may be between an unmap and its bookkeeping, so a difference must persist before it counts.
     */
    private void assertMappedBytesAgree() throws InterruptedException {
        long stats = 0;
        long reserved = 0;
        for (int attempt = 0; attempt < 20; attempt++) {
            stats = heap.stats().mappedBytes();
            reserved = pages.reservedBytes();
            if (stats == reserved) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("stats().mappedBytes() is " + stats + " but the page source has " + reserved
                + " bytes reserved: " + pages.outstanding());
    }

    /**
     * Closes the heap and checks that it used its page source correctly, gave every mapping back, and refuses to
     * be used afterwards.
     */
    @Override
    public void close() {
        if (other != null) {
            other.close();
        }
        pages.stopFaults();
        heap.close();
        assertThrows(IllegalStateException.class, () -> heap.malloc(16), "malloc after close");
        assertThrows(IllegalStateException.class, () -> heap.malloc(4 * Gen.MIB), "big malloc after close");
        List<String> violations = pages.violations();
        if (!violations.isEmpty()) {
            throw new AssertionError("the heap misused its page source: " + violations);
        }
        List<String> outstanding = pages.outstanding();
        if (!outstanding.isEmpty()) {
            throw new AssertionError("close() left " + outstanding.size() + " mappings reserved: " + outstanding);
        }
    }
}
