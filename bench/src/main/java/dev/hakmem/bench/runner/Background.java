package dev.hakmem.bench.runner;

import java.time.Duration;

/**
 * A workload run on a platform thread of its own, while the command's thread watches the heap (closes learning
 * windows, measures windows, takes profiles).
 */
final class Background {
    private final Thread thread;
    /** Written by the run's thread before it ends; read after a join, which orders it. */
    private Throwable failure;

    private Background(String name, Runnable run) {
        this.thread = Thread.ofPlatform().name(name).unstarted(() -> {
            try {
                run.run();
            } catch (Throwable t) {
                failure = t;
            }
        });
    }

    /** Starts {@code run} on a new thread named {@code name}. */
    static Background start(String name, Runnable run) {
        Background background = new Background(name, run);
        background.thread.start();
        return background;
    }

    /** Waits at most {@code millis} for the run to end; true when it has. */
    boolean ended(long millis) throws InterruptedException {
        return thread.join(Duration.ofMillis(millis));
    }

    /** Waits for the run to end; returns what it threw, or null when it ended normally. */
    Throwable join() throws InterruptedException {
        thread.join();
        return failure;
    }
}
