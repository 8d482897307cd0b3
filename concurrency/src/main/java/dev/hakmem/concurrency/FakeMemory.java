package dev.hakmem.concurrency;

import dev.hakmem.PageSource;
import dev.hakmem.registry.Registry;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Address space for concurrency tests that exercise metadata only. Addresses lie in {@code [2^47, 2^48)}: above the
 * user address space of x86-64 and AArch64 Linux, so no real mapping of this process can be there, yet inside the
 * registry's 48-bit range. Nothing is ever mapped, so nothing may be dereferenced: the code under test (slabs,
 * registry, big-block cache, heaps without calloc) never touches block memory.
 */
public final class FakeMemory {
    public static final long BASE = 1L << 47;
    /** Fresh chunks cycle through 2 TiB: each test state takes its own, and gives them back long before reuse. */
    private static final long WINDOW_CHUNKS = 1L << 20;
    private static final AtomicLong NEXT_CHUNK = new AtomicLong();

    private FakeMemory() {
    }

    /** The base of {@code n} consecutive 2 MiB chunks no other live test state uses. */
    public static long chunks(long n) {
        return BASE + (NEXT_CHUNK.getAndAdd(n) & (WINDOW_CHUNKS - 1)) * Registry.CHUNK;
    }

    /** A page source that hands out fresh fake chunks and treats every other request as done. */
    public static PageSource pages() {
        return new PageSource() {
            @Override
            public long reserve(long size, long alignment) {
                if (alignment > Registry.CHUNK) {
                    throw new UnsupportedOperationException("fake pages are only chunk-aligned");
                }
                return chunks((size + Registry.CHUNK - 1) / Registry.CHUNK);
            }

            @Override
            public void commit(long address, long size) {
            }

            @Override
            public void decommit(long address, long size) {
            }

            @Override
            public void release(long address, long size) {
            }

            @Override
            public long pageSize() {
                return 4096;
            }
        };
    }
}
