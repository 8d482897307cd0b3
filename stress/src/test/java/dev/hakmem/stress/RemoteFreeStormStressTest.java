package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.stress.StressSupport.Block;
import dev.hakmem.stress.StressSupport.Errors;
import dev.hakmem.stress.StressSupport.Threads;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import static dev.hakmem.stress.StressSupport.count;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Producers allocate batches of blocks and queue them; more consumers than producers take the batches and free the
 * blocks, so the producers' slabs receive bursts of remote frees from several threads at once, while the producers
 * keep allocating from them and free some of their blocks locally.
 */
class RemoteFreeStormStressTest {
    private static final int PRODUCERS = 3;
    private static final int CONSUMERS = 5;
    private static final int BATCH = 64;
    /** Each producer keeps this many of its blocks a while and frees them itself, between the remote frees. */
    private static final int KEPT = 256;

    private final Errors errors = new Errors();
    private final LongAdder allocations = new LongAdder();
    private final LongAdder localFrees = new LongAdder();
    private final LongAdder remoteFrees = new LongAdder();

    @Test
    void remoteFreesFromManyThreadsIntoLiveSlabsLoseNothing() throws InterruptedException {
        Duration duration = StressSupport.duration(Duration.ofSeconds(3), 0.15);
        long seed = StressSupport.seed("remote-free storm");
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        BlockingQueue<Block[]> queue = new ArrayBlockingQueue<>(4 * CONSUMERS);
        AtomicInteger producing = new AtomicInteger(PRODUCERS);
        // Producers outlive the consumers: a free into a dead producer's slab would adopt it and the frees after it
        // would be local, not remote.
        CountDownLatch consumed = new CountDownLatch(1);
        HakMemStats stats;
        try (HakMem heap = HakMem.create()) {
            Threads producers = new Threads();
            Threads consumers = new Threads();
            for (int p = 0; p < PRODUCERS; p++) {
                SplittableRandom random = new SplittableRandom(seed + p);
                producers.start("producer-" + p, () -> {
                    try {
                        produce(heap, random, queue, deadline);
                    } catch (Throwable t) {
                        errors.unexpected(t);
                    } finally {
                        producing.decrementAndGet();
                    }
                    try {
                        consumed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
            for (int c = 0; c < CONSUMERS; c++) {
                boolean reverse = c % 2 == 1;
                consumers.start("consumer-" + c, () -> {
                    try {
                        consume(heap, queue, producing, reverse);
                    } catch (Throwable t) {
                        errors.unexpected(t);
                    }
                });
            }
            consumers.joinAll(duration.plus(StressSupport.GRACE));
            consumed.countDown();
            producers.joinAll(StressSupport.GRACE);
            errors.assertNone();
            stats = StressSupport.assertCheckedAndEmpty(heap, allocations.sum());
        }
        StressSupport.report("remote-free storm", seed, start,
                PRODUCERS + " producers and " + CONSUMERS + " consumers (2 cores), batches of " + BATCH,
                count(allocations.sum()) + " allocations, " + count(remoteFrees.sum()) + " remote frees by consumers, "
                        + count(localFrees.sum()) + " local frees by producers",
                "the heap counted " + count(stats.events().remoteFrees()) + " remote frees; live 0 B after check()");
        assertTrue(remoteFrees.sum() > 0, "consumers freed blocks");
        assertTrue(stats.events().remoteFrees() >= remoteFrees.sum(),
                "every consumer free is a remote free: the heap counted " + stats.events().remoteFrees());
    }

    private void produce(HakMem heap, SplittableRandom random, BlockingQueue<Block[]> queue, long deadline)
            throws InterruptedException {
        ArrayDeque<Block> kept = new ArrayDeque<>();
        while (System.nanoTime() < deadline) {
            Block[] batch = new Block[BATCH];
            for (int i = 0; i < BATCH; i++) {
                long size = random.nextInt(100) < 90 ? random.nextLong(1, 513) : random.nextLong(513, 16_385);
                batch[i] = Block.filled(heap.malloc(size), size, random.nextLong());
                allocations.increment();
                if (random.nextInt(4) == 0) {
                    // Kept back a while, then freed by this thread, the owner, among the consumers' remote frees.
                    kept.add(batch[i]);
                    batch[i] = null;
                    if (kept.size() > KEPT) {
                        errors.verifyAndFree(heap, kept.poll());
                        localFrees.increment();
                    }
                }
            }
            while (!queue.offer(batch, 10, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() >= deadline) {
                    // The consumers will not take it in time: free it here, so that nothing is left over.
                    freeAll(heap, batch);
                    break;
                }
            }
        }
        while (!kept.isEmpty()) {
            errors.verifyAndFree(heap, kept.poll());
            localFrees.increment();
        }
    }

    private void consume(HakMem heap, BlockingQueue<Block[]> queue, AtomicInteger producing, boolean reverse)
            throws InterruptedException {
        while (true) {
            Block[] batch = queue.poll(10, TimeUnit.MILLISECONDS);
            if (batch == null) {
                if (producing.get() == 0 && queue.isEmpty()) {
                    return;
                }
                continue;
            }
            for (int k = 0; k < BATCH; k++) {
                Block b = batch[reverse ? BATCH - 1 - k : k];
                if (b != null) {
                    errors.verifyAndFree(heap, b);
                    remoteFrees.increment();
                }
            }
        }
    }

    private void freeAll(HakMem heap, Block[] batch) {
        for (Block b : batch) {
            if (b != null) {
                errors.verifyAndFree(heap, b);
                localFrees.increment();
            }
        }
    }
}
