package dev.hakmem.arrow;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.OwnershipTransferResult;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Arrow's allocation-manager contract on a heap of its own: allocation and accounting at every tier, zero-size
 * buffers, transfer and sharing between allocators, release, leaks reported at close, out-of-memory, and a random
 * walk over all of them with {@link HeapAccounting#check} after every step.
 */
class HakMemAllocationManagerTest {

    private final HakMem heap = HakMem.create();
    private final AllocationManager.Factory factory = HakMemAllocationManager.factory(heap);

    @AfterEach
    void closeHeap() {
        heap.close();
    }

    private RootAllocator root(AllocationManager.Factory f) {
        return new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(f).build());
    }

    /** Sizes in every hakmem tier: Tiny, Mid, Large, and Big (above 1 MiB, past Arrow's rounding too). */
    @ParameterizedTest
    @ValueSource(longs = {1, 7, 100, 1024, 1025, 4000, 65_536, 65_537, 1 << 20, (1 << 20) + 1, 5 << 20, 20 << 20})
    void buffersAreLiveHakmemBlocksAndAccountedAsArrowRoundsThem(long size) {
        try (RootAllocator root = root(factory)) {
            ArrowBuf buf = root.buffer(size);
            long rounded = root.getRoundingPolicy().getRoundedSize(size);
            assertEquals(rounded, buf.capacity());
            assertEquals(rounded, root.getAllocatedMemory());
            HeapAccounting.check(heap, root, List.of(buf));
            buf.setByte(0, 0x5A);
            buf.setByte(rounded - 1, 0xA5);
            assertEquals(0x5A, buf.getByte(0));
            assertEquals((byte) 0xA5, buf.getByte(rounded - 1));
            buf.close();
            HeapAccounting.check(heap, root, List.of());
        }
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void zeroSizeBuffersAreTheSharedEmptyBufferAndTakeNoBlock() {
        try (RootAllocator root = root(factory)) {
            ArrowBuf empty = root.buffer(0);
            assertSame(factory.empty(), empty);
            assertSame(HakMemAllocationManager.FACTORY.empty(), empty, "one empty buffer for every heap");
            assertEquals(0, empty.capacity());
            assertNotEquals(0, empty.memoryAddress());
            empty.close();
            HeapAccounting.check(heap, root, List.of(empty));
        }
    }

    @Test
    void transferMovesTheAccountingNotTheBytes() {
        try (RootAllocator root = root(factory);
             BufferAllocator from = root.newChildAllocator("from", 0, Long.MAX_VALUE);
             BufferAllocator to = root.newChildAllocator("to", 0, Long.MAX_VALUE)) {
            ArrowBuf buf = from.buffer(3000);
            buf.setLong(8, 42);
            long address = buf.memoryAddress();
            OwnershipTransferResult moved = buf.getReferenceManager().transferOwnership(buf, to);
            ArrowBuf there = moved.getTransferredBuffer();
            assertTrue(moved.getAllocationFit());
            buf.close();
            assertEquals(0, from.getAllocatedMemory());
            assertEquals(4096, to.getAllocatedMemory());
            assertEquals(address, there.memoryAddress());
            assertEquals(42, there.getLong(8));
            HeapAccounting.check(heap, root, List.of(there));
            there.close();
            HeapAccounting.check(heap, root, List.of());
        }
    }

    @Test
    void aBlockSharedByTwoAllocatorsIsFreedWhenTheLastLetsGo() {
        try (RootAllocator root = root(factory);
             BufferAllocator owner = root.newChildAllocator("owner", 0, Long.MAX_VALUE);
             BufferAllocator other = root.newChildAllocator("other", 0, Long.MAX_VALUE)) {
            ArrowBuf buf = owner.buffer(2 << 20);
            ArrowBuf shared = buf.getReferenceManager().retain(buf, other);
            HeapAccounting.check(heap, root, List.of(buf, shared));
            buf.close();
            assertEquals(0, owner.getAllocatedMemory());
            assertEquals(2 << 20, other.getAllocatedMemory(), "ownership moved to the remaining allocator");
            HeapAccounting.check(heap, root, List.of(shared));
            shared.close();
            HeapAccounting.check(heap, root, List.of());
        }
    }

    @Test
    void aLeakIsReportedByArrowAtCloseAndByTheHeap() {
        try (RootAllocator root = root(factory)) {
            BufferAllocator child = root.newChildAllocator("leaky", 0, Long.MAX_VALUE);
            ArrowBuf leaked = child.buffer(500);
            IllegalStateException e = assertThrows(IllegalStateException.class, child::close);
            assertTrue(e.getMessage().contains("Memory was leaked by query. Memory leaked: (512)"), e.getMessage());
            assertEquals(1, heap.leakReport().blocks(), "the block is still live in hakmem");
            assertTrue(heap.usableSize(leaked.memoryAddress()) >= 512);
            // Arrow can no longer release it through the closed allocator; the root then reports it too.
            assertThrows(RuntimeException.class, leaked::close);
            assertThrows(IllegalStateException.class, root::close);
        }
        // Closing the heap (AfterEach) is what finally gives the leaked block back.
        assertEquals(1, heap.stats().liveBlocks());
    }

    @Test
    void outOfMemoryIsArrowsExceptionAndLosesNothing() {
        try (HakMem small = HakMem.create(HakMemConfig.builder().mappedLimit(8 << 20).build());
             RootAllocator root = root(HakMemAllocationManager.factory(small))) {
            HakMemStats before = small.stats();
            OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> root.buffer(64 << 20));
            assertTrue(e.getMessage().contains(String.valueOf(64 << 20)), e.getMessage());
            assertEquals(0, root.getAllocatedMemory(), "Arrow released its reservation");
            assertEquals(before.liveBlocks(), small.stats().liveBlocks());
            try (IntVector v = new IntVector("too big", root)) {
                v.setInitialCapacity(16 << 20);
                assertFalse(v.allocateNewSafe(), "vectors see the failure as Arrow's own");
            }
            HeapAccounting.check(small, root, List.of());
        }
    }

    @Test
    void aRefusedAssociationGivesTheBlockBack() {
        RootAllocator closed = root(factory);
        closed.close();
        assertThrows(RuntimeException.class, () -> factory.create(closed, 100));
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void releasingIntoAClosedHeapIsAClearError() {
        HakMem shortLived = HakMem.create();
        RootAllocator root = root(HakMemAllocationManager.factory(shortLived));
        ArrowBuf buf = root.buffer(64);
        shortLived.close();
        assertThrows(IllegalStateException.class, buf::close);
    }

    @Test
    void factoriesNameTheirHeap() {
        assertEquals("HakMemAllocationManager.factory(HakMem.global())", HakMemAllocationManager.FACTORY.toString());
        assertTrue(factory.toString().startsWith("HakMemAllocationManager.factory(HakMem["), factory.toString());
        assertThrows(NullPointerException.class, () -> HakMemAllocationManager.factory(null));
    }

    @Test
    void theGlobalFactoryDrawsFromTheGlobalHeap() {
        HakMem global = HakMem.global();
        long before = global.stats().liveBlocks();
        try (RootAllocator root = root(HakMemAllocationManager.FACTORY)) {
            ArrowBuf buf = root.buffer(3 << 20);
            assertTrue(global.usableSize(buf.memoryAddress()) >= 3 << 20);
            assertEquals(before + 1, global.stats().liveBlocks());
            buf.close();
        }
        assertEquals(before, global.stats().liveBlocks());
    }

    @Test
    void arrowsDefaultFactoryInThisModulesTestsIsHakmem() {
        // The shim Arrow's own tests run on (org.apache.arrow.memory.unsafe.DefaultAllocationManagerFactory).
        HakMem global = HakMem.global();
        long before = global.stats().liveBlocks();
        try (RootAllocator root = new RootAllocator()) {
            ArrowBuf buf = root.buffer(100);
            assertEquals(before + 1, global.stats().liveBlocks());
            assertTrue(global.usableSize(buf.memoryAddress()) >= 128);
            assertInstanceOf(HakMemAllocationManager.class,
                    ((org.apache.arrow.memory.BufferLedger) buf.getReferenceManager()).getAllocationManager());
            buf.close();
        }
    }

    /**
     * Random allocations (every tier), releases, transfers and shares among a root and three children, with the
     * accounting identities checked after every step; at the end everything is released and the heap is empty.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void randomWalkKeepsTheHeapAndArrowInStep(long seed) {
        Random rnd = new Random(seed);
        List<ArrowBuf> held = new ArrayList<>();
        try (RootAllocator root = root(factory)) {
            List<BufferAllocator> allocators = new ArrayList<>(List.of(root));
            for (int i = 0; i < 3; i++) {
                allocators.add(root.newChildAllocator("child" + i, 0, Long.MAX_VALUE));
            }
            for (int step = 0; step < 600; step++) {
                int action = rnd.nextInt(10);
                BufferAllocator target = allocators.get(rnd.nextInt(allocators.size()));
                if (held.isEmpty() || action < 4) {
                    long size = switch (rnd.nextInt(8)) {
                        case 0 -> 0;
                        case 1 -> 1 + rnd.nextInt(4 << 20);
                        case 2, 3 -> 1 + rnd.nextInt(128 << 10);
                        default -> 1 + rnd.nextInt(1024);
                    };
                    ArrowBuf b = target.buffer(size);
                    if (size > 0) {
                        b.setByte(size - 1, (byte) step);
                    }
                    held.add(b);
                } else if (action < 7) {
                    held.remove(rnd.nextInt(held.size())).close();
                } else {
                    int i = rnd.nextInt(held.size());
                    ArrowBuf b = held.get(i);
                    if (b.capacity() == 0) {
                        continue;
                    }
                    if (action < 9) {
                        held.add(b.getReferenceManager().retain(b, target));
                    } else {
                        held.set(i, b.getReferenceManager().transferOwnership(b, target).getTransferredBuffer());
                        b.close();
                    }
                }
                HeapAccounting.check(heap, root, held);
            }
            held.forEach(ArrowBuf::close);
            held.clear();
            HeapAccounting.check(heap, root, held);
            for (BufferAllocator a : allocators.subList(1, allocators.size())) {
                a.close();
            }
        }
        assertEquals(0, heap.stats().liveBlocks());
        assertEquals(0, heap.stats().liveBytes());
    }
}
