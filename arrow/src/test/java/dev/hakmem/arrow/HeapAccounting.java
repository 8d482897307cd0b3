package dev.hakmem.arrow;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.BufferLedger;
import org.apache.arrow.memory.ReferenceManager;
import org.apache.arrow.vector.BaseVariableWidthVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The identities between a heap that only Arrow uses and the Arrow buffers drawn from it, true at every quiescent
 * moment; the tests check them after every step.
 *
 * <ul>
 *   <li>every held buffer (slices included) lies inside its manager's block, and the block is live in the heap with
 *       a usable size of at least the manager's size ({@link HakMem#usableSize} refuses an address that is not a live
 *       block);</li>
 *   <li>the heap's live blocks are exactly the distinct managers, and its live bytes their usable sizes;</li>
 *   <li>Arrow's root accounts exactly the managers' sizes (one manager is accounted once, by its owning ledger);</li>
 *   <li>the heap's own {@link HakMem#check()} passes.</li>
 * </ul>
 */
final class HeapAccounting {

    private HeapAccounting() {
    }

    /** Checks the identities for {@code held}, every buffer drawn from {@code heap} under {@code root} and not yet released. */
    static void check(HakMem heap, BufferAllocator root, Collection<ArrowBuf> held) {
        Set<HakMemAllocationManager> managers = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ArrowBuf b : held) {
            if (b.getReferenceManager() == ReferenceManager.NO_OP) {
                assertEquals(0, b.capacity(), "only the empty buffer has no ledger");
                continue;
            }
            HakMemAllocationManager m =
                    (HakMemAllocationManager) ((BufferLedger) b.getReferenceManager()).getAllocationManager();
            long block = m.memoryAddress();
            assertTrue(b.memoryAddress() >= block && b.memoryAddress() + b.capacity() <= block + m.getSize(),
                    () -> "buffer " + b + " outside its block at " + block + " of " + m.getSize() + " bytes");
            managers.add(m);
        }
        long usable = 0;
        long accounted = 0;
        for (HakMemAllocationManager m : managers) {
            long u = heap.usableSize(m.memoryAddress());
            assertTrue(u >= m.getSize(), () -> "block of " + u + " usable bytes under a " + m.getSize() + "-byte buffer");
            usable += u;
            accounted += m.getSize();
        }
        HakMemStats s = heap.stats();
        assertEquals(managers.size(), s.liveBlocks(), "heap blocks against live Arrow buffers");
        assertEquals(usable, s.liveBytes(), "heap live bytes against the buffers' blocks");
        assertEquals(accounted, root.getAllocatedMemory(), "Arrow's accounting against the buffers' sizes");
        heap.check();
    }

    /**
     * The buffers a vector holds, whatever its value count (getBuffers answers nothing for a vector whose count is
     * not set yet, and getFieldBuffers fills holes).
     */
    static List<ArrowBuf> buffers(FieldVector v) {
        return v instanceof BaseVariableWidthVector
                ? List.of(v.getValidityBuffer(), v.getOffsetBuffer(), v.getDataBuffer())
                : List.of(v.getValidityBuffer(), v.getDataBuffer());
    }

    /** The buffers of every vector of {@code root}. */
    static List<ArrowBuf> buffers(VectorSchemaRoot root) {
        List<ArrowBuf> bufs = new ArrayList<>();
        for (FieldVector v : root.getFieldVectors()) {
            bufs.addAll(buffers(v));
        }
        return bufs;
    }
}
