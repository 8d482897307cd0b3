package dev.hakmem.fuzz;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** Runs tasks on threads released together, joins them, and turns their failures into one AssertionError. */
final class Workers {

    /** Thrown when a worker does not finish: it may still be inside the heap, which must then stay open. */
    static final class StuckError extends AssertionError {
        StuckError(String message) {
            super(message);
        }
    }

    private static final long TIMEOUT_SECONDS = 60;

    private Workers() {
    }

    static void run(String phase, boolean virtual, List<Runnable> tasks) throws InterruptedException {
        CountDownLatch start = new CountDownLatch(1);
        List<Throwable> failures = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < tasks.size(); i++) {
            Runnable task = tasks.get(i);
            Thread.Builder builder = virtual ? Thread.ofVirtual() : Thread.ofPlatform();
            threads.add(builder.name(phase + "-" + i).start(() -> {
                try {
                    start.await();
                    task.run();
                } catch (Throwable t) {
                    synchronized (failures) {
                        failures.add(t);
                    }
                }
            }));
        }
        start.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        for (Thread t : threads) {
            if (!t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
                throw new StuckError(t.getName() + " did not finish in " + TIMEOUT_SECONDS + " s, at:\n"
                        + Arrays.stream(t.getStackTrace()).map(e -> "  at " + e).collect(Collectors.joining("\n")));
            }
        }
        if (!failures.isEmpty()) {
            AssertionError error = new AssertionError(phase + ": " + failures.size() + " of " + tasks.size()
                    + " threads failed; first: " + failures.getFirst(), failures.getFirst());
            failures.stream().skip(1).forEach(error::addSuppressed);
            throw error;
        }
    }
}
