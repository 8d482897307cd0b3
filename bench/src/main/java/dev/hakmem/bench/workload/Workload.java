package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

/**
 * An allocation pattern, run the same way by the {@code hakmem bench} runner and by JMH. One operation is one
 * allocation plus its free: a run frees every block it allocates, so the operations it reports are exactly its
 * mallocs and exactly its frees. Every block has its first and its last byte written, so it is really handed out.
 */
public interface Workload {

    /** The name the runner's {@code --workloads} option and the JMH parameter use. */
    String name();

    /** One line for the help text and the README: sizes, live blocks, threads. */
    String description();

    /** Whether blocks are freed by a thread other than the one that allocated them. */
    boolean freesOnOtherThreads();

    /**
     * Runs the pattern on {@code threads} threads (see {@link #description()} for how a pattern that pairs threads
     * counts them) until the budget runs out, then frees every block still held.
     *
     * @return the operations done, summed over the threads
     * @throws WorkloadFailure if a worker thread failed; the blocks it held are then lost
     */
    long run(NativeAllocator allocator, int threads, Budget budget);
}
