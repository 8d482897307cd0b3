package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.stress.StressSupport.Block;
import dev.hakmem.stress.StressSupport.Errors;
import dev.hakmem.stress.StressSupport.Threads;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static dev.hakmem.stress.StressSupport.count;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Thousands of short-lived platform threads, each dying with blocks it freed still cached in its slabs' free lists
 * and live blocks it handed to two long-lived collectors, whose frees land in the dead threads' abandoned SuperSlabs.
 * Besides intact contents and zero live bytes, the memory of the dead threads must come back: once all is freed,
 * the heap's mapped bytes fall to its retain budget. A reader takes snapshots all along: each must count at least
 * the mallocs of the one before ({@link HakMemStats#checkFollows}), while slabs retire and heaps die and are adopted.
 */
class ThreadChurnStressTest {
    private static final int CONCURRENT = 8;
    private static final int SMOKE_THREADS = 2000;
    private static final long RETAIN = 8L << 20;

    private final Errors errors = new Errors();
    private final LongAdder allocations = new LongAdder();
    private final LongAdder collected = new LongAdder();
    private final LongAdder snapshots = new LongAdder();

    @Test
    void deadThreadsCachedBlocksAndSlabsComeBack() throws InterruptedException {
        Duration duration = StressSupport.duration(Duration.ofSeconds(30), 0.15);
        long seed = StressSupport.seed("thread churn");
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        ConcurrentLinkedQueue<Block> handedOver = new ConcurrentLinkedQueue<>();
        AtomicBoolean churning = new AtomicBoolean(true);
        Semaphore running = new Semaphore(CONCURRENT);
        long started = 0;
        long peakMapped = 0;
        HakMemStats stats;
        long mappedAfterPurge;
        try (HakMem heap = HakMem.create(HakMemConfig.builder().retainBytes(RETAIN).purgeDelayMillis(20).build())) {
            Threads collectors = new Threads();
            for (int c = 0; c < 2; c++) {
                collectors.start("collector-" + c, () -> collect(heap, handedOver, churning));
            }
            collectors.start("stats reader", () -> readStats(heap, churning));
            List<Thread> churners = new ArrayList<>();
            // The smoke run stops at a thread count; the full run at its deadline.
            while (StressSupport.full() ? System.nanoTime() < deadline
                    : started < SMOKE_THREADS && System.nanoTime() < deadline) {
                running.acquire();
                SplittableRandom random = new SplittableRandom(seed + started);
                churners.add(Thread.ofPlatform().name("churn-" + started).start(() -> {
                    try {
                        live(heap, random, handedOver);
                    } catch (Throwable t) {
                        errors.unexpected(t);
                    } finally {
                        running.release();
                    }
                }));
                churners.removeIf(t -> !t.isAlive());
                started++;
                if (started % 256 == 0) {
                    peakMapped = Math.max(peakMapped, heap.stats().mappedBytes());
                }
            }
            for (Thread t : churners) {
                t.join();
            }
            churning.set(false);
            collectors.joinAll(StressSupport.GRACE);
            errors.assertNone();
            stats = StressSupport.assertCheckedAndEmpty(heap, allocations.sum());
            mappedAfterPurge = awaitMappedAtMost(heap, RETAIN);
        }
        StressSupport.report("thread churn", seed, start,
                count(started) + " short-lived platform threads, " + CONCURRENT + " at a time (2 cores), "
                        + count(allocations.sum()) + " allocations, " + count(collected.sum())
                        + " blocks freed by collectors after their allocator died, " + count(snapshots.sum())
                        + " snapshots each counting at least the mallocs of the one before",
                count(stats.events().heapsCreated()) + " heaps created, " + count(stats.events().heapsAbandoned())
                        + " abandoned, " + count(stats.events().adoptions()) + " SuperSlabs adopted",
                "mapped: peak " + Units.bytes(peakMapped) + ", " + Units.bytes(mappedAfterPurge)
                        + " once everything was freed and purged (retain budget " + Units.bytes(RETAIN)
                        + "); live 0 B after check()");
        assertTrue(StressSupport.full() || started >= SMOKE_THREADS, "threads started: " + started);
        assertTrue(stats.events().heapsAbandoned() > 0, "dead threads' heaps were abandoned");
        assertTrue(mappedAfterPurge <= RETAIN, "dead threads' memory was given back: "
                + Units.bytes(mappedAfterPurge) + " still mapped, budget " + Units.bytes(RETAIN));
    }

    /** A thread's life: allocate, free a third (cached in its slabs), hand a third on, free the rest, die. */
    private void live(HakMem heap, SplittableRandom random, ConcurrentLinkedQueue<Block> handedOver) {
        int n = random.nextInt(16, 129);
        Block[] blocks = new Block[n];
        for (int i = 0; i < n; i++) {
            long size = random.nextInt(100) < 90 ? random.nextLong(1, 1025) : random.nextLong(1025, 32_769);
            blocks[i] = Block.filled(heap.malloc(size), size, random.nextLong());
        }
        allocations.add(n);
        for (int i = 0; i < n; i += 3) {
            errors.verifyAndFree(heap, blocks[i]);
        }
        for (int i = 1; i < n; i += 3) {
            handedOver.add(blocks[i]);
        }
        // Freed last, so the thread dies right after local frees, with its free lists full.
        for (int i = 2; i < n; i += 3) {
            errors.verifyAndFree(heap, blocks[i]);
        }
    }

    private void collect(HakMem heap, ConcurrentLinkedQueue<Block> handedOver, AtomicBoolean churning) {
        try {
            while (churning.get() || !handedOver.isEmpty()) {
                Block b = handedOver.poll();
                if (b == null) {
                    // Not a spin: on 2 cores it would take the time the churning threads need.
                    LockSupport.parkNanos(100_000);
                    continue;
                }
                errors.verifyAndFree(heap, b);
                collected.increment();
            }
        } catch (Throwable t) {
            errors.unexpected(t);
        }
    }

    /** Snapshots in a loop until the churn ends; each must follow the one before. */
    private void readStats(HakMem heap, AtomicBoolean churning) {
        try {
            HakMemStats earlier = heap.stats();
            while (churning.get()) {
                HakMemStats now = heap.stats();
                String problem = now.checkFollows(earlier);
                if (problem != null) {
                    errors.add("a snapshot after another: " + problem);
                }
                snapshots.increment();
                earlier = now;
                // Not a spin: each snapshot walks every slab, which the churning threads need the cores for.
                LockSupport.parkNanos(200_000);
            }
        } catch (Throwable t) {
            errors.unexpected(t);
        }
    }

    /** Empty memory is given back by the maintenance thread after the purge delay: waits for it, 5 s at most. */
    private static long awaitMappedAtMost(HakMem heap, long bytes) throws InterruptedException {
        long giveUp = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        long mapped;
        while ((mapped = heap.stats().mappedBytes()) > bytes && System.nanoTime() < giveUp) {
            Thread.sleep(20);
        }
        return mapped;
    }
}
