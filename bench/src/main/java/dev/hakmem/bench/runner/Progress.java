package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Budget;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A budget that also tells how far a run has got while it runs: each worker asks its budget every
 * {@link Budget#STRIDE} operations with the count it has done, and this keeps the last count of each, so that another
 * thread can cut the run into windows without a counter on the workload's hot path.
 */
final class Progress implements Budget {
    private final Budget budget;
    /** One slot per worker thread that has asked, written only by its worker. */
    private final List<AtomicLong> workers = new CopyOnWriteArrayList<>();
    private final ThreadLocal<AtomicLong> slot = ThreadLocal.withInitial(() -> {
        AtomicLong mine = new AtomicLong();
        workers.add(mine);
        return mine;
    });

    Progress(Budget budget) {
        this.budget = budget;
    }

    @Override
    public boolean more(long done) {
        // NOTE: Opaque on both sides: the reader needs each worker's latest count eventually and nothing ordered
        // with it; a count read late only moves the operations of one question into the next window.
        slot.get().setOpaque(done);
        return budget.more(done);
    }

    /** The operations the workers had reported at their last question, summed. */
    long operations() {
        long sum = 0;
        for (AtomicLong worker : workers) {
            sum += worker.getOpaque();
        }
        return sum;
    }
}
