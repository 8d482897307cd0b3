package dev.hakmem.bench.workload;

/**
 * When a worker stops: after a time window (the runner) or after a number of operations (JMH and the tests). Workers
 * ask after every {@link #STRIDE} operations, often enough to end a time window within a millisecond on small
 * blocks, rarely enough that the clock read costs nothing beside the operations.
 */
@FunctionalInterface
public interface Budget {

    /** Operations between two questions; an operation budget is rounded up to a multiple of it. */
    int STRIDE = 256;

    /** Whether a worker that has done {@code done} operations so far goes on with {@link #STRIDE} more. */
    boolean more(long done);

    /** Until {@link System#nanoTime()} reaches {@code deadlineNanos}. */
    static Budget until(long deadlineNanos) {
        // Compared by difference: nanoTime may be negative or wrap.
        return done -> System.nanoTime() - deadlineNanos < 0;
    }

    /** Until each worker has done {@code operations} (rounded up to a multiple of {@link #STRIDE}). */
    static Budget perWorker(long operations) {
        return done -> done < operations;
    }
}
