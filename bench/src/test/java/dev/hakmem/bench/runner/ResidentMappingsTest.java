package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.PageSource;
import dev.hakmem.os.ArenaPageSource;
import dev.hakmem.verify.FaultInjectingPageSource;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResidentMappingsTest {
    private static final long KiB = 1024;
    private static final long MiB = 1024 * KiB;

    private static void touch(long address, long bytes) {
        MemorySegment.ofAddress(address).reinterpret(bytes).fill((byte) 1);
    }

    private static long part(Map<String, Long> resident, String part) {
        return resident.getOrDefault(part, 0L);
    }

    @Test
    void theResidentBytesAreSplitByWhatTheHeapKeepsInEachMappingAndOnlyTouchedPagesCount() {
        ResidentMappings mappings = new ResidentMappings(PageSource.system());
        // A long purge delay: nothing freed here is given back while the test reads it.
        HakMem heap = HakMem.create(HakMemConfig.builder().pageSource(mappings).purgeDelayMillis(60_000).build());
        try {
            List<Long> tiny = new ArrayList<>();
            for (int i = 0; i < 2048; i++) {
                tiny.add(heap.malloc(64));
                touch(tiny.getLast(), 64);
            }
            long mid = 0;
            for (int i = 0; i < 16; i++) {
                mid = heap.malloc(16 * KiB);
                touch(mid, 16 * KiB);
            }
            long untouched = 0;
            for (int i = 0; i < 512; i++) {
                untouched = heap.malloc(1000);
            }
            long live = heap.malloc(3 * MiB);
            touch(live, 3 * MiB);
            long cached = heap.malloc(3 * MiB);
            touch(cached, 3 * MiB);
            heap.free(cached);

            Map<String, Long> resident = mappings.resident(heap);

            long tiny64 = part(resident, ResidentMappings.slabPart((int) heap.usableSize(tiny.getFirst())));
            assertTrue(tiny64 >= 128 * KiB && tiny64 <= 192 * KiB, "2048 touched blocks of 64 B: " + resident);
            long mid16k = part(resident, ResidentMappings.slabPart((int) heap.usableSize(mid)));
            assertTrue(mid16k >= 256 * KiB && mid16k <= 320 * KiB, "16 touched blocks of 16 KiB: " + resident);
            assertTrue(ResidentMappings.slabPart((int) heap.usableSize(mid)).startsWith("slab MID "), resident.toString());
            long idle = part(resident, ResidentMappings.slabPart((int) heap.usableSize(untouched)));
            assertTrue(idle < 50 * KiB, "512 blocks of 1000 B never written are not resident: " + resident);
            long bigLive = part(resident, ResidentMappings.BIG_LIVE);
            assertTrue(bigLive >= 3 * MiB && bigLive <= 3 * MiB + 64 * KiB, "a touched big block: " + resident);
            long bigCached = part(resident, ResidentMappings.BIG_CACHED);
            assertTrue(bigCached >= 3 * MiB && bigCached <= 3 * MiB + 64 * KiB, "a freed, cached one: " + resident);
            long total = resident.values().stream().mapToLong(Long::longValue).sum();
            // Far below what is mapped and committed (a SuperSlab or more, two 4 MiB big mappings): pages, not spans.
            assertTrue(total <= 6 * MiB + 640 * KiB, "only the touched pages are resident: " + resident);
            assertTrue(heap.stats().committedBytes() > total + 2 * MiB, heap.stats() + " vs " + resident);
        } finally {
            heap.close();
        }
        assertEquals(Map.of(), mappings.resident(heap), "a closed heap released every mapping");
    }

    @Test
    void aSourceThatCannotTellResidencyIsRefusedAndItsReservationGivenBack() {
        // The portable source, which cannot tell residency, counted.
        FaultInjectingPageSource blind = FaultInjectingPageSource.builder(new ArenaPageSource()).build();
        ResidentMappings mappings = new ResidentMappings(blind);

        assertTrue(assertThrows(UnsupportedOperationException.class, () -> mappings.reserve(2 * MiB, 2 * MiB))
                .getMessage().contains("cannot tell which pages are resident"));
        assertEquals(1, blind.calls(FaultInjectingPageSource.Op.RESERVE));
        assertEquals(1, blind.calls(FaultInjectingPageSource.Op.RELEASE), "the reservation was given back");
        assertEquals(0, blind.reservedBytes());
    }
}
