package dev.hakmem.stress;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.os.Mem;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampled guard mode at rate 2 under cross-thread traffic: producers allocate and fill blocks and hand them to
 * consumers, which verify and free them, while the maintenance thread scans the sampled slots every millisecond.
 * No report may be raised (the scan racing frees, remote frees of sampled blocks), every block's contents must
 * survive, and the heap's and the guard's checks must pass at the end.
 */
class SampledGuardHandOffStressTest {
    private static final long END = 0;

    private static void putEnd(BlockingQueue<Long> queue) {
        try {
            queue.put(END);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted before the end of the hand-off", e);
        }
    }

    @Test
    void sampledBlocksHandedToOtherThreadsWhileTheScanRuns() throws Exception {
        long millis = StressSupport.full() ? 20_000 : 2_000;
        HakMemConfig config = HakMemConfig.builder().guard(GuardOptions.sampled(2).withScanMillis(1)).build();
        try (HakMem heap = HakMem.create(config)) {
            // Short, so that fewer blocks are live than the guard's 16 sampled ones: few samples are skipped.
            BlockingQueue<Long> queue = new ArrayBlockingQueue<>(8);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
            Thread producer = Thread.ofPlatform().name("producer").start(() -> {
                SplittableRandom random = new SplittableRandom(42);
                try {
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        long size = 8 + random.nextInt(1000);
                        long a = heap.malloc(size);
                        Mem.putLong(a, size);
                        Mem.fill(a + 8, size - 8, (byte) size);
                        queue.put(a);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
                // NOTE: put, not add: at the deadline the queue is often full (the consumer checks every byte), and
                // add would throw, leaving the consumer waiting for ever. A consumer that failed clears the queue,
                // so this put never waits for a consumer that is gone.
                putEnd(queue);
            });
            Thread consumer = Thread.ofPlatform().name("consumer").start(() -> {
                try {
                    for (long a; (a = queue.take()) != END; ) {
                        long size = Mem.getLong(a);
                        for (long i = 8; i < size; i++) {
                            if (Mem.ALL.get(java.lang.foreign.ValueLayout.JAVA_BYTE, a + i) != (byte) size) {
                                throw new AssertionError("block 0x" + Long.toHexString(a) + " changed at " + i);
                            }
                        }
                        heap.free(a);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    queue.clear();
                }
            });
            producer.join();
            consumer.join();
            assertNull(failure.get(), () -> "a worker failed: " + failure.get());
            assertEquals(0, heap.violations(), "no false report");
            long samples = heap.stats().events().guardSamples();
            assertTrue(samples > 100, samples + " blocks were sampled");
            heap.check();
        }
    }
}
