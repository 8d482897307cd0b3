package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.stress.StressSupport.Block;
import dev.hakmem.stress.StressSupport.Errors;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import static dev.hakmem.stress.StressSupport.count;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Larson's server benchmark as a test: each of more threads than cores holds an array of blocks and replaces random
 * ones (free, then allocate); after a number of rounds it starts a new thread, hands it the whole array, and dies.
 * The new thread's first frees are remote frees into the SuperSlabs of a dead thread, which the allocator must
 * abandon and let others adopt, with every block's contents intact.
 */
class LarsonStressTest {
    private static final int THREADS = 6;
    private static final int BLOCKS_PER_THREAD = 2000;
    private static final int ROUNDS_PER_GENERATION = 10_000;

    private final Errors errors = new Errors();
    private final LongAdder operations = new LongAdder();
    private final LongAdder mallocs = new LongAdder();
    private final LongAdder remoteFrees = new LongAdder();
    private final LongAdder generations = new LongAdder();

    @Test
    void blocksHandedToNewThreadsAreFreedIntactAndNothingLeaks() throws InterruptedException {
        Duration duration = StressSupport.duration(Duration.ofSeconds(3), 0.15);
        long seed = StressSupport.seed("Larson hand-offs");
        long start = System.nanoTime();
        long deadline = start + duration.toNanos();
        HakMemStats stats;
        try (HakMem heap = HakMem.create()) {
            CountDownLatch lastGenerations = new CountDownLatch(THREADS);
            for (int slot = 0; slot < THREADS; slot++) {
                SplittableRandom random = new SplittableRandom(seed + slot);
                startGeneration(heap, new Block[BLOCKS_PER_THREAD], random, deadline, lastGenerations, slot, 0);
            }
            assertTrue(lastGenerations.await(duration.plus(StressSupport.GRACE).toNanos(), TimeUnit.NANOSECONDS),
                    "the last generations did not end");
            errors.assertNone();
            stats = StressSupport.assertCheckedAndEmpty(heap, mallocs.sum());
        }
        StressSupport.report("Larson hand-offs", seed, start,
                THREADS + " threads at a time (2 cores), " + count(generations.sum()) + " generations of "
                        + count(ROUNDS_PER_GENERATION) + " rounds over " + count(BLOCKS_PER_THREAD) + " blocks each",
                count(operations.sum()) + " operations, " + count(remoteFrees.sum())
                        + " frees of a predecessor's blocks",
                count(stats.events().heapsAbandoned()) + " heaps abandoned, " + count(stats.events().adoptions())
                        + " SuperSlabs adopted; live 0 B after check()");
        assertTrue(generations.sum() > THREADS, "threads handed their blocks on: " + generations.sum());
        assertTrue(remoteFrees.sum() > 0, "blocks were freed by a thread other than their allocator's");
        assertTrue(stats.events().heapsAbandoned() > 0, "dead threads' heaps were abandoned");
    }

    private void startGeneration(HakMem heap, Block[] blocks, SplittableRandom random, long deadline,
                                 CountDownLatch lastGenerations, int slot, int generation) {
        generations.increment();
        Thread.ofPlatform().name("larson-" + slot + "." + generation).daemon(true).start(() -> {
            try {
                long ops = 0;
                for (int round = 0; round < ROUNDS_PER_GENERATION && System.nanoTime() < deadline; round++) {
                    int i = random.nextInt(blocks.length);
                    if (blocks[i] != null) {
                        free(heap, blocks[i]);
                        ops++;
                    }
                    long size = random.nextInt(100) < 95 ? random.nextLong(1, 1025) : random.nextLong(1025, 65_537);
                    blocks[i] = Block.filled(heap.malloc(size), size, random.nextLong());
                    mallocs.increment();
                    ops++;
                }
                operations.add(ops);
                if (System.nanoTime() < deadline) {
                    startGeneration(heap, blocks, random, deadline, lastGenerations, slot, generation + 1);
                    return;
                }
                for (int i = 0; i < blocks.length; i++) {
                    if (blocks[i] != null) {
                        free(heap, blocks[i]);
                        operations.increment();
                        blocks[i] = null;
                    }
                }
            } catch (Throwable t) {
                errors.unexpected(t);
            }
            lastGenerations.countDown();
        });
    }

    private void free(HakMem heap, Block b) {
        if (b.remote()) {
            remoteFrees.increment();
        }
        errors.verifyAndFree(heap, b);
    }
}
