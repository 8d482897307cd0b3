package dev.hakmem;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The owner's free finds a block's slab in a per-heap cache keyed by address. A slot whose slab retired and was
 * carved again for another class must not be served by the stale entry.
 */
class SlabCacheTest {
    /** 1 KiB blocks: 64 of them fill a 64 KiB slab. */
    private static final int BIG = 1024;
    private static final int PER_SLAB = 64;

    @Test
    void aRetiredSlabLeavesNoCacheEntryBehindForTheSlabCarvedInItsSlot() {
        try (HakMem heap = HakMem.create(HakMemConfig.defaults())) {
            List<Long> first = new ArrayList<>();
            for (int i = 0; i < PER_SLAB; i++) {
                first.add(heap.malloc(BIG));
            }
            long spill = heap.malloc(BIG); // a second slab becomes current, so the first retires when it empties
            long slotStart = first.stream().mapToLong(Long::longValue).min().orElseThrow();
            // Frees by the owner: the first fills the cache with the 1 KiB slab, the last retires it.
            first.forEach(heap::free);

            long tiny = heap.malloc(16);
            assertEquals(slotStart, tiny, "the 16-byte slab is carved in the slot the 1 KiB slab left");
            assertDoesNotThrow(() -> heap.free(tiny), "a stale cache entry would call this block unallocated");
            assertThrows(DoubleFreeException.class, () -> heap.free(tiny));
            heap.free(spill);
            heap.check();
            assertEquals(0, heap.stats().liveBytes());
        }
    }
}
