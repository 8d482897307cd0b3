package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.stress.StressSupport.Block;
import dev.hakmem.stress.StressSupport.Errors;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static dev.hakmem.stress.StressSupport.count;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Waves of 100 000 virtual threads allocate a few blocks each, yield (so they may resume on another carrier), check
 * and free them, and free blocks that earlier virtual threads left behind. Virtual threads share a few heaps
 * under locks instead of getting one each, so the heaps created must stay that few.
 */
class VirtualThreadsStressTest {
    private static final int WAVE = 100_000;

    private final Errors errors = new Errors();
    private final LongAdder allocations = new LongAdder();
    private final LongAdder leftBehindFreed = new LongAdder();

    @Test
    void aHundredThousandVirtualThreadsAllocateAndFreeIntact() throws InterruptedException {
        Duration duration = StressSupport.duration(Duration.ofSeconds(1), 0.10);
        long seed = StressSupport.seed("virtual threads");
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        ConcurrentLinkedQueue<Block> leftBehind = new ConcurrentLinkedQueue<>();
        long threads = 0;
        int waves = 0;
        HakMemStats stats;
        try (HakMem heap = HakMem.create()) {
            // At least one wave of 100 000, however short the run.
            do {
                try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
                    for (int i = 0; i < WAVE; i++) {
                        SplittableRandom random = new SplittableRandom(seed + threads++);
                        executor.execute(() -> live(heap, random, leftBehind));
                    }
                    executor.shutdown();
                    assertTrue(executor.awaitTermination(duration.plus(StressSupport.GRACE).toSeconds(),
                            TimeUnit.SECONDS), "a wave of virtual threads did not end");
                }
                waves++;
            } while (System.nanoTime() < deadline);
            for (Block b = leftBehind.poll(); b != null; b = leftBehind.poll()) {
                errors.verifyAndFree(heap, b);
            }
            errors.assertNone();
            stats = StressSupport.assertCheckedAndEmpty(heap, allocations.sum());
            int sharedHeaps = heap.config().sharedHeaps();
            StressSupport.report("virtual threads", seed, start,
                    count(threads) + " virtual threads in " + waves + " waves of " + count(WAVE) + " (2 cores), "
                            + count(allocations.sum()) + " allocations, " + count(leftBehindFreed.sum())
                            + " blocks freed by another virtual thread",
                    count(stats.events().heapsCreated()) + " heaps created (" + sharedHeaps
                            + " shared by virtual threads); live 0 B after check()");
            // The shared heaps, and one for this platform thread, which freed the last blocks left behind.
            assertTrue(stats.events().heapsCreated() <= sharedHeaps + 1,
                    "virtual threads got heaps of their own: " + stats.events().heapsCreated());
        }
        assertTrue(leftBehindFreed.sum() > 0, "virtual threads freed blocks of others");
    }

    private void live(HakMem heap, SplittableRandom random, ConcurrentLinkedQueue<Block> leftBehind) {
        try {
            for (int k = 0; k < 2; k++) {
                Block b = leftBehind.poll();
                if (b != null) {
                    errors.verifyAndFree(heap, b);
                    leftBehindFreed.increment();
                }
            }
            int n = random.nextInt(1, 5);
            Block[] blocks = new Block[n];
            for (int i = 0; i < n; i++) {
                long size = random.nextInt(100) < 95 ? random.nextLong(1, 4097) : random.nextLong(4097, 65_537);
                blocks[i] = Block.filled(heap.malloc(size), size, random.nextLong());
            }
            allocations.add(n);
            Thread.yield();
            for (Block b : blocks) {
                if (random.nextInt(4) == 0) {
                    leftBehind.add(b);
                } else {
                    errors.verifyAndFree(heap, b);
                }
            }
        } catch (Throwable t) {
            errors.unexpected(t);
        }
    }
}
