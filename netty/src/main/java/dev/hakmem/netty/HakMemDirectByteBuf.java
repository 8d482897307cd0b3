package dev.hakmem.netty;

import dev.hakmem.HakMem;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.util.IllegalReferenceCountException;
import io.netty.util.internal.CleanableDirectBuffer;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A direct ByteBuf over one hakmem block. Netty's {@link UnpooledDirectByteBuf} does the buffer's work over a
 * {@link ByteBuffer} (bounds-checked access, no {@code sun.misc.Unsafe}); this class gives it its memory: each
 * {@link #allocateDirectBuffer} is a fresh block, seen through {@link MemorySegment#asByteBuffer()} bounded to the
 * requested capacity, and Netty hands the block back ({@link Block#clean()}) when the reference count reaches 0 or a
 * capacity change has copied it into a new block. {@link #memoryAddress()} is the block's address.
 *
 * <p>After the release Netty drops its reference to the ByteBuffer, and every access through the ByteBuf is refused
 * ({@code IllegalReferenceCountException}) before memory is touched. Only the block's address is kept, so that a
 * second release can be reported by the heap: on a heap in guard mode it asks the heap about the block
 * ({@link HakMem#usableSize}), which validates the address and, the block being freed, reports hakmem's
 * {@link dev.hakmem.DoubleFreeException} naming the first free (thrown, Netty's exception suppressed in it, or
 * counted and logged when guard mode reports instead of throwing). Asking never frees, so when the block has left
 * the quarantine and been allocated again the other owner's block is left alone and Netty's exception goes alone.
 */
final class HakMemDirectByteBuf extends UnpooledDirectByteBuf {

    /**
     * The block in use, and after the release the one freed. Assigned by {@link #allocateDirectBuffer}, which
     * Netty's constructor calls first: it has no initialiser, which would overwrite the assignment afterwards.
     * NOTE: Plain. Written only while the buffer is accessible (allocation, capacity changes), by the thread that
     * owns the buffer then, as Netty requires; a second release on any thread reads it after reading the reference
     * count (Volatile) that the first release wrote after the last of those writes, so it sees the freed block.
     */
    private Block block;

    HakMemDirectByteBuf(HakMemByteBufAllocator alloc, int initialCapacity, int maxCapacity) {
        super(alloc, initialCapacity, maxCapacity);
    }

    private HakMem heap() {
        return ((HakMemByteBufAllocator) alloc()).heap();
    }

    @Override
    protected CleanableDirectBuffer allocateDirectBuffer(int capacity) {
        HakMem heap = heap();
        block = new Block(heap, heap.malloc(capacity), capacity);
        return block;
    }

    @Override
    public boolean release() {
        try {
            return super.release();
        } catch (IllegalReferenceCountException e) {
            throw releasedTwice(e);
        }
    }

    @Override
    public boolean release(int decrement) {
        try {
            return super.release(decrement);
        } catch (IllegalReferenceCountException e) {
            throw releasedTwice(e);
        }
    }

    /** Netty's refusal of a release, after the heap reported the block's second free when it can (see above). */
    private RuntimeException releasedTwice(IllegalReferenceCountException refused) {
        HakMem heap = heap();
        if (refCnt() == 0 && heap.config().guard().enabled()) {
            try {
                heap.usableSize(block.address);
            } catch (RuntimeException reported) {
                reported.addSuppressed(refused);
                return reported;
            }
        }
        return refused;
    }

    /** One hakmem block as Netty's cleanable direct buffer: the memory of a {@link HakMemDirectByteBuf}. */
    private static final class Block implements CleanableDirectBuffer {
        private final HakMem heap;
        final long address;
        private final ByteBuffer buffer;

        Block(HakMem heap, long address, int capacity) {
            this.heap = heap;
            this.address = address;
            this.buffer = MemorySegment.ofAddress(address).reinterpret(capacity).asByteBuffer();
        }

        @Override
        public ByteBuffer buffer() {
            return buffer;
        }

        @Override
        public void clean() {
            heap.free(address);
        }

        @Override
        public boolean hasMemoryAddress() {
            return true;
        }

        @Override
        public long memoryAddress() {
            return address;
        }
    }
}
