package dev.hakmem.bench.workload;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a workload's worker threads and waits for them. When one fails the others are interrupted, so that a worker
 * waiting for a partner that died (producer and consumer) does not wait forever, and the first failure is thrown.
 */
final class Crew {

    /** A worker's body; {@code index} runs from 0 to the number of workers - 1. */
    @FunctionalInterface
    interface Task {
        void run(int index) throws Exception;
    }

    private Crew() {
    }

    /** Runs {@code task} on {@code workers} new platform threads and returns when all have ended. */
    static void run(int workers, Task task) {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>(workers);
        for (int i = 0; i < workers; i++) {
            int index = i;
            threads.add(Thread.ofPlatform().name("workload-" + index).unstarted(() -> {
                try {
                    task.run(index);
                } catch (Throwable t) {
                    // The first failure is the cause; the others are mostly the interrupts that it sent.
                    if (failure.compareAndSet(null, t)) {
                        threads.forEach(Thread::interrupt);
                    }
                }
            }));
        }
        threads.forEach(Thread::start);
        try {
            for (Thread thread : threads) {
                thread.join();
            }
        } catch (InterruptedException e) {
            threads.forEach(Thread::interrupt);
            Thread.currentThread().interrupt();
            throw new WorkloadFailure("interrupted while waiting for the workers", e);
        }
        if (failure.get() != null) {
            throw new WorkloadFailure("a worker failed: " + failure.get(), failure.get());
        }
    }
}
