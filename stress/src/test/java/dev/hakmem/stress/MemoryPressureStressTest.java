package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.PageSource;
import dev.hakmem.stress.StressSupport.Errors;
import dev.hakmem.stress.StressSupport.Threads;
import dev.hakmem.verify.FaultInjectingPageSource;
import dev.hakmem.verify.FaultInjectingPageSource.Op;
import dev.hakmem.verify.ShadowHeap;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static dev.hakmem.stress.StressSupport.count;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Threads allocate until the heap refuses, near a mapped-bytes limit, on a page source that also fails a share of
 * its calls. Every refusal must be a HakMemOutOfMemoryError that leaves the heap intact; the mapped bytes never pass
 * the limit; a shadow heap checks that no block is handed out twice and every block keeps its contents; and when
 * the faults stop, every tier allocates again.
 */
class MemoryPressureStressTest {
    private static final int THREADS = 6;
    private static final long LIMIT = 64L << 20;
    /**
     * At its limit the heap mostly reuses what it has mapped and calls the page source seldom (some tens of times a
     * second), so faults must be frequent to be met in a short run.
     */
    private static final double FAULT_FRACTION = 0.2;
    private static final long[] TIER_SIZES = {100, 5000, 300_000, 3 << 20};

    private final Errors errors = new Errors();
    private final LongAdder allocations = new LongAdder();
    private final LongAdder limitRefusals = new LongAdder();
    private final LongAdder faultRefusals = new LongAdder();

    @Test
    void underALimitAndFailingMappingsEveryRefusalIsCleanAndTheLimitHolds() throws InterruptedException {
        Duration duration = StressSupport.duration(Duration.ofSeconds(3), 0.15);
        long seed = StressSupport.seed("memory pressure");
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        FaultInjectingPageSource.Builder fb = FaultInjectingPageSource.builder(PageSource.system()).seed(seed);
        for (Op op : Op.values()) {
            fb.failFraction(op, FAULT_FRACTION);
        }
        FaultInjectingPageSource faults = fb.build();
        AtomicLong peakMapped = new AtomicLong();
        AtomicLong peakReserved = new AtomicLong();
        HakMemStats stats;
        String recovery;
        try (HakMem heap = HakMem.create(HakMemConfig.builder().pageSource(faults).mappedLimit(LIMIT)
                .retainBytes(0).purgeDelayMillis(0).build())) {
            ShadowHeap shadow = new ShadowHeap(heap, seed);
            AtomicBoolean running = new AtomicBoolean(true);
            Threads workers = new Threads();
            for (int t = 0; t < THREADS; t++) {
                SplittableRandom random = new SplittableRandom(seed + t);
                workers.start("pressure-" + t, () -> work(shadow, random, deadline));
            }
            Threads monitor = new Threads();
            monitor.start("pressure-monitor", () -> {
                while (running.get()) {
                    peakMapped.accumulateAndGet(heap.stats().mappedBytes(), Math::max);
                    peakReserved.accumulateAndGet(faults.reservedBytes(), Math::max);
                    LockSupport.parkNanos(1_000_000);
                }
            });
            workers.joinAll(duration.plus(StressSupport.GRACE));
            running.set(false);
            monitor.joinAll(StressSupport.GRACE);
            // What a failing assertion below would need to be understood, printed before any of them.
            System.out.println("[stress] memory pressure, the workers ended: " + workDone(faults)
                    + "; mapped at most " + peakMapped.get() + " B, reserved at most " + peakReserved.get() + " B");
            errors.assertNone();

            // Not one reading of each: the maintenance thread is still unmapping what the dead workers held.
            assertNull(faults.reconcile(heap), "the heap's accounting matches what is really mapped");
            faults.setEnabled(false);
            shadow.verifyAll();
            shadow.freeAll();
            recovery = allocateInEveryTier(shadow);
            shadow.assertStatsAgree();
            stats = StressSupport.assertCheckedAndEmpty(heap, shadow.handedOut());
            assertNull(faults.reconcile(heap), "with the faults off, the accounting matches what is really mapped");
        }
        assertEquals(0, faults.reservedBytes(), "close released every reservation");
        StressSupport.report("memory pressure", seed, start,
                THREADS + " threads (2 cores) under a " + Units.bytes(LIMIT) + " mapped limit, "
                        + (int) (FAULT_FRACTION * 100) + "% of page-source calls failing",
                workDone(faults),
                "mapped at most " + Units.bytes(peakMapped.get()) + ", reserved at most "
                        + Units.bytes(peakReserved.get()) + "; " + count(stats.events().superSlabsMapped())
                        + " SuperSlabs mapped; live 0 B after check()",
                "with the faults off every tier allocated again: " + recovery);
        assertTrue(peakMapped.get() <= LIMIT, "mapped " + peakMapped.get() + " > limit " + LIMIT);
        assertTrue(peakReserved.get() <= LIMIT, "reserved " + peakReserved.get() + " > limit " + LIMIT);
        assertTrue(limitRefusals.sum() > 0, "the limit was reached");
        // A failed mapping is retried once after the heap reclaims what it can, so an injected fault surfaces as an
        // out-of-memory error only when the retry fails too; every refusal is still explained (see the workers).
        assertTrue(faults.injectedTotal() > 0, "faults were injected");
    }

    /**
     * Allocates and frees a block of every tier once the faults are off, and says how long it had to wait for that.
     * Right after the workers end, their memory may still sit in their heaps at the limit: the allocator reclaims a
     * dead thread's memory on its maintenance thread, within some tens of milliseconds, and until then a request may
     * be refused. An out-of-memory error must not escape: JUnit would abort the whole run on it.
     */
    private static String allocateInEveryTier(ShadowHeap shadow) throws InterruptedException {
        long start = System.nanoTime();
        int refused = 0;
        long giveUp = start + Duration.ofSeconds(2).toNanos();
        for (long size : TIER_SIZES) {
            while (true) {
                try {
                    shadow.free(shadow.malloc(size));
                    break;
                } catch (HakMemOutOfMemoryError e) {
                    if (System.nanoTime() > giveUp) {
                        throw new AssertionError("no allocation of " + size + " bytes 2 s after the faults stopped, "
                                + "with every block freed: " + e.getMessage(), e);
                    }
                    refused++;
                    Thread.sleep(10);
                }
            }
        }
        return "after " + (System.nanoTime() - start) / 1_000_000 + " ms, " + refused + " refusals first";
    }

    /** The allocations, the refusals by cause, and per page-source operation the faults injected in its calls. */
    private String workDone(FaultInjectingPageSource faults) {
        StringBuilder calls = new StringBuilder();
        for (Op op : Op.values()) {
            calls.append(calls.isEmpty() ? "" : ", ").append(op.name().toLowerCase(Locale.ROOT)).append(' ')
                    .append(count(faults.injected(op))).append('/').append(count(faults.calls(op)));
        }
        return count(allocations.sum()) + " allocations, " + count(limitRefusals.sum()) + " refused at the limit, "
                + count(faultRefusals.sum()) + " refused by an injected fault; faults injected/page-source calls: "
                + calls;
    }

    /** Allocates until refused, then frees half or all of what it holds, over and over. */
    private void work(ShadowHeap shadow, SplittableRandom random, long deadline) {
        List<Long> mine = new ArrayList<>();
        try {
            while (System.nanoTime() < deadline) {
                int draw = random.nextInt(100);
                long size = draw < 70 ? random.nextLong(1, 1025)
                        : draw < 90 ? random.nextLong(1025, 65_537)
                        : draw < 98 ? random.nextLong(65_537, 1 << 20)
                        : random.nextLong((1 << 20) + 1, 4 << 20);
                try {
                    mine.add(shadow.malloc(size));
                    allocations.increment();
                } catch (HakMemOutOfMemoryError e) {
                    String why = String.valueOf(e.getMessage());
                    if (why.contains("mapped limit")) {
                        limitRefusals.increment();
                    } else if (why.contains("injected fault")) {
                        faultRefusals.increment();
                    } else {
                        errors.add("out of memory with neither the limit reached nor a fault injected: " + e);
                    }
                    // Now and then all of it, so that whole SuperSlabs empty, go back to the OS and are mapped again.
                    for (int i = random.nextInt(3) == 0 ? mine.size() : mine.size() / 2; i > 0; i--) {
                        shadow.free(mine.remove(random.nextInt(mine.size())));
                    }
                }
            }
            for (long a : mine) {
                shadow.free(a);
            }
        } catch (Throwable t) {
            errors.unexpected(t);
        }
    }
}
