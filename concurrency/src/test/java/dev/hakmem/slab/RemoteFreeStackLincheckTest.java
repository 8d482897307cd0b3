package dev.hakmem.slab;

import dev.hakmem.concurrency.LincheckDepth;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Options;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;

/**
 * Linearizability of a real {@link Slab}'s remote-free MPSC stack, claimed bitmap and local free stack, against a
 * specification that is the same lists as plain deques. The program is a correct one: every thread frees remotely,
 * once each, the blocks handed to it (its own partition, so distinct across threads); the owner drains, allocates
 * and frees locally what it allocated. Allocation order is LIFO, so a lost, duplicated or reordered block changes
 * a result.
 *
 * <p>The model checker sees the real code: Slab's metadata is Java arrays and fields behind VarHandles, which
 * Lincheck instruments. (Checked: a copy of Slab whose push reads and then writes the head instead of a CAS fails
 * this test with an interleaving trace through the real methods.)
 */
public class RemoteFreeStackLincheckTest {
    private static final int THREADS = 3;
    /** ThreadIdGen numbers the initial part 0, the parallel threads 1..THREADS and the final part THREADS + 1. */
    private static final int PARTITIONS = THREADS + 2;
    private static final int PER_THREAD = 2;
    /** 2 KiB blocks: 32 per slab, all in one bitmap word, so claims of different blocks contend on one long. */
    private static final int BLOCK = 2 << 10;

    private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, PARTITIONS * PER_THREAD);
    /** Per partition, how many of its blocks it has freed; each touched by one thread only. */
    private final int[] freed = new int[PARTITIONS];
    /** Blocks the owner allocated and still holds, most recent last. */
    private final ArrayDeque<Integer> owned = new ArrayDeque<>();

    /** Frees the calling thread's next block remotely: its index, -1 if none is left, -2 - outcome if refused. */
    @Operation
    public int freeRemote(@Param(gen = ThreadIdGen.class) int thread) {
        if (freed[thread] == PER_THREAD) {
            return -1;
        }
        int b = thread * PER_THREAD + freed[thread]++;
        int outcome = slab.freeRemote(b);
        return outcome == Slab.FREED ? b : -2 - outcome;
    }

    /** Owner: the number of blocks the drain reclaimed. */
    @Operation(nonParallelGroup = "owner")
    public int drain() {
        return slab.drain();
    }

    /** Owner: the block popped from the local free stack, or -1. */
    @Operation(nonParallelGroup = "owner")
    public int allocate() {
        int b = slab.popFree();
        if (b >= 0) {
            owned.addLast(b);
        }
        return b;
    }

    /** Owner: frees locally the block it allocated last; the Slab outcome, or -1 when it holds none. */
    @Operation(nonParallelGroup = "owner")
    public int freeLocal() {
        return owned.isEmpty() ? -1 : slab.freeLocal(owned.removeLast());
    }

    private static <O extends Options<O, ?>> O configure(O options) {
        return options.threads(THREADS)
                .actorsPerThread(4)
                .actorsBefore(2)
                .actorsAfter(2)
                .sequentialSpecification(Spec.class)
                // The minimiser moves actors between threads but keeps their ThreadIdGen values, which would
                // make two threads free the same blocks: a program error this test does not model.
                .minimizeFailedScenario(false);
    }

    @Test
    void modelChecking() {
        configure(new ModelCheckingOptions()).iterations(LincheckDepth.iterations(30)).invocationsPerIteration(500)
                .check(getClass());
    }

    @Test
    void stress() {
        configure(new StressOptions()).iterations(LincheckDepth.iterations(30)).invocationsPerIteration(2000)
                .check(getClass());
    }

    /** The slab as deques: the remote stack (pushed at the head), the local free stack (LIFO), the owner's blocks. */
    public static final class Spec {
        private final int[] freed = new int[PARTITIONS];
        private final ArrayDeque<Integer> remote = new ArrayDeque<>();
        private final ArrayDeque<Integer> free = new ArrayDeque<>();
        private final ArrayDeque<Integer> owned = new ArrayDeque<>();

        public int freeRemote(int thread) {
            if (freed[thread] == PER_THREAD) {
                return -1;
            }
            int b = thread * PER_THREAD + freed[thread]++;
            remote.push(b);
            return b;
        }

        /** The swap takes the stack top first; each block is pushed on the free list in turn. */
        public int drain() {
            int n = remote.size();
            while (!remote.isEmpty()) {
                free.push(remote.pop());
            }
            return n;
        }

        public int allocate() {
            Integer b = free.poll();
            if (b == null) {
                return -1;
            }
            owned.addLast(b);
            return b;
        }

        public int freeLocal() {
            if (owned.isEmpty()) {
                return -1;
            }
            free.push(owned.removeLast());
            return Slab.FREED;
        }
    }
}
