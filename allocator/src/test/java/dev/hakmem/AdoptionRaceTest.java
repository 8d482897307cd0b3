package dev.hakmem;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Threads die holding partly used slabs while survivors free their orphaned blocks: the reaper, adoption on free,
 * adoption on refill and the maintenance thread's reclaim all race. Two races of this kind were real bugs: an adopter
 * filing slabs before the reaper forgot them, which with assertions on trips ThreadHeap's list checks or check()
 * within seconds; and an adopter scanning a SuperSlab it had just given back, whose window is too narrow for this
 * test to find reliably (ThreadHeapAdoptionTest plays that one out deterministically).
 */
class AdoptionRaceTest {

    @Test
    void dyingThreadsAndSurvivorsNeverShareASlab() throws Exception {
        try (HakMem heap = HakMem.create()) {
            ConcurrentLinkedQueue<Long> orphans = new ConcurrentLinkedQueue<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + 3_000_000_000L;
            List<Thread> survivors = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int seed = t;
                survivors.add(Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom r = new SplittableRandom(seed);
                        List<Long> mine = new ArrayList<>();
                        while (System.nanoTime() < deadline) {
                            for (int i = 0; i < 500; i++) {
                                mine.add(heap.malloc(16 + r.nextInt(2000)));
                            }
                            while (mine.size() > 250) {
                                heap.free(mine.remove(r.nextInt(mine.size())));
                            }
                            for (Long o; (o = orphans.poll()) != null; ) {
                                heap.free(o);
                            }
                        }
                        mine.forEach(heap::free);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            int generations = 0;
            while (System.nanoTime() < deadline && failure.get() == null) {
                int seed = 100 + generations++;
                Thread t = Thread.ofPlatform().start(() -> {
                    try {
                        SplittableRandom r = new SplittableRandom(seed);
                        List<Long> blocks = new ArrayList<>();
                        for (int i = 0; i < 5000; i++) {
                            blocks.add(heap.malloc(16 + r.nextInt(2000)));
                        }
                        Collections.shuffle(blocks);
                        for (int i = 0; i < blocks.size(); i++) {
                            if (i % 2 == 0) {
                                heap.free(blocks.get(i));
                            } else {
                                orphans.add(blocks.get(i));
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                t.join();
            }
            for (Thread s : survivors) {
                s.join();
            }
            for (Long o; (o = orphans.poll()) != null; ) {
                heap.free(o);
            }
            assertNull(failure.get(), () -> "a thread failed: " + failure.get());
            assertTrue(generations > 10);
            assertEquals(0, heap.stats().liveBytes());
            heap.check();
        }
    }
}
