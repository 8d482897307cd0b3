package dev.hakmem.stress;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code hakmem stress --guard --faults} runs: guard mode must detect every planted heap error exactly once. */
class GuardFaultsSmokeTest {

    @Test
    void guardModeDetectsEveryPlantedErrorOnceWhileMappingsFail() {
        Duration duration = StressSupport.duration(Duration.ofSeconds(5), 0.15);
        int threads = StressSupport.full() ? 4 : 2;
        long seed = StressSupport.seed("guard mode with faults");
        StressHeap stressHeap = StressHeap.create(true, true, seed);
        StressResult result;
        try (stressHeap) {
            result = new StressWorkload(stressHeap.options(threads, duration, seed), System.out::println).run();
        }
        System.out.println("seed " + seed + ", " + stressHeap.describe());
        result.summaryLines().forEach(System.out::println);

        StressResult.Planted planted = result.planted();
        for (StressResult.KindCount k : planted.kinds()) {
            assertTrue(k.planted() > 0, () -> "no " + k.kind() + " was planted");
            assertEquals(0, k.missed(), () -> k.kind() + ": missed");
            assertEquals(0, k.repeated(), () -> k.kind() + ": reported more than once");
            assertEquals(k.planted(), k.detected(), () -> k.kind() + ": detected");
        }
        assertEquals(0, result.errors(), () -> String.join("\n", result.errorSamples()));
        assertEquals(0, result.unaccountedBytes(), "live bytes no planted error explains");
        assertEquals(0, result.unaccountedBlocks(), "live blocks no planted error explains");
        assertEquals(0, planted.unaccountedAllocatorBlocks(), "allocator blocks nothing explains");
        assertTrue(result.faults().injectedTotal() > 0, "faults were injected");
        assertEquals(0, stressHeap.unreleasedBytes(), "close released every reservation");
        assertTrue(result.clean());
    }
}
