package dev.hakmem.netty;

import dev.hakmem.HakMem;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Netty {@link io.netty.buffer.ByteBufAllocator} whose direct buffers are hakmem blocks (issue 13).
 *
 * <pre>
 *   directBuffer(n) ──► HakMem.malloc(n) ──► block ◄── MemorySegment.asByteBuffer() ◄── HakMemDirectByteBuf
 *   refCnt 1 → 0    ──► HakMem.free(block)          (slices, duplicates and retained slices share the count)
 *   capacity(m)     ──► HakMem.malloc(m), copy, HakMem.free(old block)
 * </pre>
 *
 * <p>Pooling is hakmem's: its per-thread heaps, size classes and lock-free remote frees play the part of Netty's
 * arenas and thread caches, so {@link #isDirectBufferPooled()} is true and a buffer released on another thread than
 * the one that allocated it goes back through hakmem's remote-free path. Heap buffers are Netty's unpooled ones.
 *
 * <p>On a heap in guard mode, the adapter turns the ByteBuf errors into hakmem's reports (docs/GUARD_MODE.md): a
 * leaked buffer is a live block in {@link HakMem#leakReport()} under the site that allocated it; a write through a
 * stale {@code nioBuffer()} or {@code memoryAddress()} after release lands in quarantined, poisoned memory and is
 * reported as a write after free; a second release is reported as hakmem's double free while the block is still
 * freed (see {@link HakMemDirectByteBuf}). After its release a buffer never touches the block again: every access
 * through the ByteBuf fails with Netty's {@code IllegalReferenceCountException}.
 */
public final class HakMemByteBufAllocator extends AbstractByteBufAllocator implements ByteBufAllocatorMetricProvider {

    /**
     * The allocator over {@link HakMem#global()}, looked up at each use: a refused {@code hakmem.*} setting fails the
     * default's calls with global()'s {@code IllegalStateException} naming it, not this class's initialization (which
     * would leave the class unusable for every heap).
     */
    public static final HakMemByteBufAllocator DEFAULT = new HakMemByteBufAllocator();

    /** The heap the direct buffers come from; null for {@link #DEFAULT}, whose heap is {@link HakMem#global()}. */
    private final HakMem heap;
    /** Bytes of the live heap buffers' arrays: raised when an array is allocated, lowered when it is dropped. */
    private final LongAdder heapBytes = new LongAdder();
    private final ByteBufAllocatorMetric metric = new ByteBufAllocatorMetric() {
        @Override
        public long usedHeapMemory() {
            return heapBytes.sum();
        }

        @Override
        public long usedDirectMemory() {
            return heap().stats().liveBytes();
        }

        @Override
        public String toString() {
            return "usedHeapMemory: " + usedHeapMemory() + "; usedDirectMemory: " + usedDirectMemory();
        }
    };

    /** An allocator whose direct buffers come from {@code heap}; {@link #buffer()} gives direct buffers. */
    public HakMemByteBufAllocator(HakMem heap) {
        super(true);
        this.heap = Objects.requireNonNull(heap, "heap");
    }

    private HakMemByteBufAllocator() {
        super(true);
        this.heap = null;
    }

    /** The heap the direct buffers come from. */
    public HakMem heap() {
        return heap != null ? heap : HakMem.global();
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new HakMemDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return toLeakAwareBuffer(new CountedHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return true;
    }

    /**
     * Used direct memory is the heap's live bytes ({@link dev.hakmem.HakMemStats#liveBytes()}: usable sizes, so
     * each buffer counts with its size class's rounding; on a heap shared with other code, their blocks count too).
     * Used heap memory is the arrays of this allocator's live heap buffers.
     */
    @Override
    public ByteBufAllocatorMetric metric() {
        return metric;
    }

    @Override
    public String toString() {
        return "HakMemByteBufAllocator[" + (heap != null ? heap : "HakMem.global()") + "]";
    }

    /** Netty's unpooled heap buffer, its array counted in the metric while it lives. */
    private static final class CountedHeapByteBuf extends UnpooledHeapByteBuf {
        CountedHeapByteBuf(HakMemByteBufAllocator alloc, int initialCapacity, int maxCapacity) {
            super(alloc, initialCapacity, maxCapacity);
        }

        @Override
        protected byte[] allocateArray(int initialCapacity) {
            byte[] array = super.allocateArray(initialCapacity);
            ((HakMemByteBufAllocator) alloc()).heapBytes.add(array.length);
            return array;
        }

        @Override
        protected void freeArray(byte[] array) {
            ((HakMemByteBufAllocator) alloc()).heapBytes.add(-array.length);
            super.freeArray(array);
        }
    }
}
