package dev.hakmem.netty.suite;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.netty.HakMemByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Netty's socket suites (io.netty:netty-testsuite) with hakmem's allocator in place of Netty's: each suite here
 * subclasses one of Netty's and returns {@link #allocators()} from the hook its base class asks for the allocators
 * to run with, so every test runs once on a plain heap and once on a heap in guard mode.
 *
 * <p>After each suite, as an extension: both heaps must have served allocations during it (the hook was used); once Netty's channels have closed, every buffer must have gone back (no live
 * block on either heap), both heaps must pass {@link HakMem#check()} (in guard mode that verifies the poison of every
 * quarantined block: no write after release) and guard mode must have seen no violation.
 */
public final class HakMemSuites implements BeforeAllCallback, AfterAllCallback {
    private static final HakMem PLAIN = HakMem.create();
    private static final HakMem GUARDED = HakMem.create(HakMemConfig.builder().guard(GuardOptions.on()).build());
    private static final List<ByteBufAllocator> ALLOCATORS = List.of(
            new HakMemByteBufAllocator(PLAIN), new HakMemByteBufAllocator(GUARDED));
    /** How long Netty may take to close a suite's last channels and release their buffers. */
    private static final long SETTLE_MILLIS = 10_000;

    /** Each heap's allocations before the running suite, to show that the suite allocated from both. */
    private static long plainBefore;
    private static long guardedBefore;

    static List<ByteBufAllocator> allocators() {
        return ALLOCATORS;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        plainBefore = mallocs(PLAIN);
        guardedBefore = mallocs(GUARDED);
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        assertTrue(mallocs(PLAIN) > plainBefore, "the suite allocated nothing from the plain heap");
        assertTrue(mallocs(GUARDED) > guardedBefore, "the suite allocated nothing from the guarded heap");
        long deadline = System.currentTimeMillis() + SETTLE_MILLIS;
        while (live() > 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(0, PLAIN.stats().liveBlocks(), "buffers not released on the plain heap");
        assertEquals(0, GUARDED.stats().liveBlocks(), () -> "buffers not released: " + GUARDED.leakReport());
        PLAIN.check();
        GUARDED.check();
        assertEquals(0, GUARDED.violations(), "guard mode's violations");
    }

    private static long mallocs(HakMem heap) {
        return heap.stats().tiers().values().stream().mapToLong(HakMemStats.TierStats::mallocs).sum();
    }

    private static long live() {
        return PLAIN.stats().liveBlocks() + GUARDED.stats().liveBlocks();
    }
}
