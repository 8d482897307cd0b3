package dev.hakmem.arrow;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemOutOfMemoryError;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.OutOfMemoryException;
import org.apache.arrow.memory.ReferenceManager;

import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * An Apache Arrow {@link AllocationManager} whose memory is one hakmem block: plug {@link #FACTORY} (the global heap)
 * or {@link #factory(HakMem)} into a root allocator and every {@link ArrowBuf} of its vectors lives in hakmem.
 *
 * <pre>{@code
 * BufferAllocator root = new RootAllocator(RootAllocator.configBuilder()
 *         .allocationManagerFactory(HakMemAllocationManager.FACTORY).build());
 * }</pre>
 * ({@code BaseAllocator.configBuilder()} is not visible outside Arrow's package; {@code RootAllocator} inherits it.)
 *
 * <p>How Arrow drives it (arrow-memory-core 19, {@code BaseAllocator.buffer} and {@code AllocationManager.release}):
 * <pre>
 *   allocator.buffer(n) -- rounds n (RoundingPolicy), reserves it in the Accountant chain up to the root
 *        |
 *        v
 *   Factory.create(allocator, size) ------------- heap.malloc(size) --> one hakmem block
 *        |
 *   BufferLedger per allocator holding the block (refcounts; transfer moves the accounting, not the bytes)
 *        |  last ledger reaches 0
 *        v
 *   allocator.releaseBytes(getSize()); release0() -- heap.free(address)
 * </pre>
 *
 * <p>The contract, kept as Arrow's own Unsafe and Netty managers keep it:
 * <ul>
 *   <li>{@link #getSize()} is exactly the size Arrow asked for. Arrow reserved that size and releases
 *       {@code getSize()}: anything else leaves its accounting unbalanced, and the allocator's close reports a
 *       leak. The block's extra usable bytes (hakmem rounds to its size classes) are not Arrow's to use.</li>
 *   <li>{@link #release0()} runs once, when the last ledger drops the buffer. Double releases and accesses after
 *       release are refused by Arrow's reference counts and bounds checks before they reach here; one that gets past
 *       them (unchecked access to a stale address) meets a heap in guard mode as a hakmem report.</li>
 *   <li>A failed allocation is Arrow's {@link OutOfMemoryException}, as Netty's manager reports one, so that
 *       {@code allocateNewSafe} and friends see it; Arrow then releases its reservation.</li>
 * </ul>
 *
 * <p>Arrow already rounds small requests to powers of two (its DefaultRoundingPolicy, up to its 16 MiB chunk), which
 * hakmem serves from its size classes; requests above 1 MiB are hakmem Big mappings. Thread safety is hakmem's: a
 * buffer may be released on any thread.
 */
public final class HakMemAllocationManager extends AllocationManager {

    /** Buffers from the process-wide heap, {@link HakMem#global()}, looked up at the first allocation. */
    public static final AllocationManager.Factory FACTORY = new HeapFactory(HakMem::global, "HakMem.global()");

    // NOTE: FACTORY is set before EMPTY is made. Making EMPTY initializes ArrowBuf, hence BaseAllocator, whose default
    // config may read FACTORY (where it is the default factory) while this class is still being initialized; read
    // before being set it would be null, as Arrow's UnsafeAllocationManager leaves its own.

    /**
     * The one zero-byte buffer every factory hands out: Arrow never allocates for size 0, it takes
     * {@link AllocationManager.Factory#empty()}. Its address must be valid and stable but is never read, so it comes
     * from the JVM-lifetime global arena rather than from a heap that could be closed or report it as a leak.
     */
    private static final ArrowBuf EMPTY =
            new ArrowBuf(ReferenceManager.NO_OP, null, 0, Arena.global().allocate(1).address());

    private final HakMem heap;
    /** The block's address, live in {@code heap} from construction to {@link #release0()}. */
    private final long address;
    /** The size Arrow asked for and accounted; at most the block's usable size. */
    private final long size;

    private HakMemAllocationManager(BufferAllocator accountingAllocator, HakMem heap, long address, long size) {
        super(accountingAllocator);
        this.heap = heap;
        this.address = address;
        this.size = size;
    }

    /**
     * A factory of buffers from {@code heap}: one per heap is enough, and several root allocators may share it. The
     * heap must outlive every buffer: closing it with buffers still held makes their release throw
     * IllegalStateException.
     */
    public static AllocationManager.Factory factory(HakMem heap) {
        Objects.requireNonNull(heap, "heap");
        return new HeapFactory(() -> heap, heap.toString());
    }

    /** The size Arrow asked for (not the block's usable size). */
    @Override
    public long getSize() {
        return size;
    }

    @Override
    protected long memoryAddress() {
        return address;
    }

    @Override
    protected void release0() {
        heap.free(address);
    }

    private record HeapFactory(Supplier<HakMem> heap, String name) implements AllocationManager.Factory {

        @Override
        public AllocationManager create(BufferAllocator accountingAllocator, long size) {
            HakMem h = heap.get();
            long address;
            try {
                address = h.malloc(size);
            } catch (HakMemOutOfMemoryError e) {
                throw new OutOfMemoryException("hakmem could not allocate an Arrow buffer of " + size + " bytes", e);
            }
            try {
                return new HakMemAllocationManager(accountingAllocator, h, address, size);
            } catch (RuntimeException | Error e) {
                // The allocator refused the association (closed, or of another root): give the block back.
                h.free(address);
                throw e;
            }
        }

        @Override
        public ArrowBuf empty() {
            return EMPTY;
        }

        @Override
        public String toString() {
            return "HakMemAllocationManager.factory(" + name + ")";
        }
    }
}
