package dev.hakmem.fuzz;

import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.verify.ShadowHeap;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The steps the concurrent properties' scripts share, for one thread: on its own blocks (chosen by {@code pick},
 * modulo their count, so a step stays meaningful when shrinking removes others) and on the hand-off queue between
 * threads. Every block goes through the shadow heap.
 */
final class ScriptSteps {
    final TestHeap test;
    final List<Long> mine = new ArrayList<>();
    private final Queue<Long> handoff;
    private final AtomicLong outOfMemory;

    /** Steps of one thread; the allocations that legitimately run out of memory are counted in {@code outOfMemory}. */
    ScriptSteps(TestHeap test, Queue<Long> handoff, AtomicLong outOfMemory) {
        this.test = test;
        this.handoff = handoff;
        this.outOfMemory = outOfMemory;
    }

    private ShadowHeap shadow() {
        return test.shadow;
    }

    void malloc(long size) {
        allocate(() -> mine.add(shadow().malloc(size)));
    }

    /** A malloc through site {@code pick} of {@link TestHeap#SITES} (modulo their count): some have rules. */
    void siteMalloc(int pick, long size) {
        allocate(() -> mine.add(shadow().malloc(test.site(pick % TestHeap.SITES.length), size)));
    }

    void calloc(long size) {
        allocate(() -> mine.add(shadow().calloc(2, size / 2)));
    }

    void mallocAligned(long size, long alignment) {
        allocate(() -> mine.add(shadow().mallocAligned(size, alignment)));
    }

    void realloc(int pick, long size) {
        if (!mine.isEmpty()) {
            int i = pick % mine.size();
            allocate(() -> mine.set(i, shadow().realloc(mine.get(i), size)));
        }
    }

    void free(int pick) {
        if (!mine.isEmpty()) {
            shadow().free(mine.remove(pick % mine.size()));
        }
    }

    void give(int pick) {
        if (!mine.isEmpty()) {
            handoff.add(mine.remove(pick % mine.size()));
        }
    }

    void takeAndFree() {
        Long a = handoff.poll();
        if (a != null) {
            shadow().free(a);
        }
    }

    void takeAndKeep() {
        Long a = handoff.poll();
        if (a != null) {
            mine.add(a);
        }
    }

    /**
     * Reallocates a block another thread allocated: moved out of its owner's slab (a remote free) unless it stays in
     * place. If the realloc runs out of memory, the block stays live in the shadow, which frees it at the end.
     */
    void takeAndRealloc(long size) {
        Long a = handoff.poll();
        if (a != null) {
            allocate(() -> mine.add(shadow().realloc(a, size)));
        }
    }

    /** The end of the script: what the thread still holds goes to the queue, to be freed by others. */
    void handOffTheRest() {
        handoff.addAll(mine);
        mine.clear();
    }

    /** Runs an allocating step; running out of memory is a legitimate outcome when faults or a limit apply. */
    void allocate(Runnable step) {
        try {
            step.run();
        } catch (HakMemOutOfMemoryError e) {
            if (!test.mayRunOutOfMemory()) {
                throw e;
            }
            outOfMemory.incrementAndGet();
        }
    }
}
