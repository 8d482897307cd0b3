package dev.hakmem.concurrency;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMem;
import dev.hakmem.InvalidFreeException;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The whole allocator over real memory, as a set of live blocks: malloc returns an address that is not live; a
 * free of a live block succeeds, from any thread; a double free or an interior pointer is refused. Blocks freed
 * by a thread that did not allocate them go through the remote-free stacks. Stress strategy only: the model
 * checker cannot follow the FFM downcalls and off-heap accesses.
 */
@Param(name = "size", gen = IntGen.class, conf = "0:3")
@Param(name = "slabSize", gen = IntGen.class, conf = "0:2")
public class AllocatorLincheckTest {
    /** Tiny, Mid, Large and Big (a mapping of its own). */
    private static final long[] SIZES = {16, 3000, 100_000, 3 << 20};
    /** Blocks a burst allocates, and a batch frees, at once. */
    private static final int BURST = 8;
    /** The previous invocation's heap, closed when the next starts (Lincheck has no per-invocation teardown). */
    private static HakMem previous;

    private final HakMem heap = freshHeap();
    private final Set<Long> live = ConcurrentHashMap.newKeySet();
    /**
     * Live blocks any thread may free, oldest first. Guarded by itself, so that a burst enters and a batch leaves
     * it at once, as the specification has it; the allocator's own calls are made outside the lock.
     */
    private final ArrayDeque<Long> handedOut = new ArrayDeque<>();

    private static synchronized HakMem freshHeap() {
        if (previous != null) {
            previous.close();
        }
        previous = HakMem.create();
        return previous;
    }

    @AfterAll
    static synchronized void closeLast() {
        if (previous != null) {
            previous.close();
            previous = null;
        }
    }

    /** Whether the address was not live (a block handed out twice would be). */
    @Operation
    public boolean malloc(@Param(name = "size") int size) {
        return mallocBlocks(size, 1);
    }

    /** Allocates a burst of blocks (of one slab, mostly): whether none of them was live. */
    @Operation
    public boolean mallocBurst(@Param(name = "size") int size) {
        return mallocBlocks(size, BURST);
    }

    private boolean mallocBlocks(int size, int n) {
        List<Long> blocks = new ArrayList<>(n);
        boolean fresh = true;
        for (int i = 0; i < n; i++) {
            long a = heap.malloc(SIZES[size]);
            fresh &= live.add(a);
            blocks.add(a);
        }
        synchronized (handedOut) {
            handedOut.addAll(blocks);
        }
        return fresh;
    }

    /** Frees the oldest handed-out block, whichever thread allocated it. */
    @Operation
    public String free() {
        Long a;
        synchronized (handedOut) {
            a = handedOut.poll();
        }
        if (a == null) {
            return "none";
        }
        freeLive(a);
        return "freed";
    }

    /**
     * Frees the oldest handed-out blocks, up to a burst: threads doing this at once free blocks of one slab
     * (another thread's, usually) together, so their claims and pushes race.
     */
    @Operation
    public int freeBatch() {
        List<Long> blocks = new ArrayList<>(BURST);
        synchronized (handedOut) {
            while (blocks.size() < BURST && !handedOut.isEmpty()) {
                blocks.add(handedOut.poll());
            }
        }
        blocks.forEach(this::freeLive);
        return blocks.size();
    }

    private void freeLive(long a) {
        // Out of the live set before the free: once freed, another thread may get the address back.
        live.remove(a);
        heap.free(a);
    }

    /**
     * Allocates, frees, and frees again; the second free must be refused. Slab sizes only: a freed big mapping goes
     * to a cache every thread allocates from, so another thread may get the same address between the two frees, and
     * the second free then frees that thread's block; no allocator can tell it from a valid free (the nightly run
     * found that interleaving: a 3 MiB block re-handed to another thread's burst). A slab block goes back to its
     * owner's free list, from which only its owner, this thread, allocates.
     */
    @Operation
    public String freeTwice(@Param(name = "slabSize") int size) {
        long a = heap.malloc(SIZES[size]);
        heap.free(a);
        try {
            heap.free(a);
            return "accepted";
        } catch (DoubleFreeException e) {
            return "refused";
        }
    }

    /** Frees an address 8 bytes into a live block (no block starts there); must be refused, the block intact. */
    @Operation
    public String freeInterior(@Param(name = "size") int size) {
        long a = heap.malloc(SIZES[size]);
        try {
            heap.free(a + 8);
            return "accepted";
        } catch (InvalidFreeException e) {
            return e instanceof DoubleFreeException ? "double free" : "refused";
        } finally {
            heap.free(a);
        }
    }

    /** Quiescent: the heap's own walk finds it consistent, and it counts exactly the blocks still handed out. */
    @Validate
    public void consistent() {
        heap.check();
        long counted = heap.stats().liveBlocks();
        int held;
        synchronized (handedOut) {
            held = handedOut.size();
        }
        if (counted != held || live.size() != held) {
            throw new IllegalStateException("the heap counts " + counted + " live blocks, the test holds " + held);
        }
    }

    @Test
    void stress() {
        new StressOptions()
                .threads(3)
                .actorsPerThread(5)
                .actorsBefore(8)
                .actorsAfter(2)
                .iterations(LincheckDepth.iterations(20))
                .invocationsPerIteration(300)
                .sequentialSpecification(Spec.class)
                .check(getClass());
    }

    /** A count of handed-out blocks. */
    public static final class Spec {
        private int handedOut;

        public boolean malloc(int size) {
            handedOut++;
            return true;
        }

        public boolean mallocBurst(int size) {
            handedOut += BURST;
            return true;
        }

        public int freeBatch() {
            int n = Math.min(BURST, handedOut);
            handedOut -= n;
            return n;
        }

        public String free() {
            if (handedOut == 0) {
                return "none";
            }
            handedOut--;
            return "freed";
        }

        public String freeTwice(int size) {
            return "refused";
        }

        public String freeInterior(int size) {
            return "refused";
        }
    }
}
