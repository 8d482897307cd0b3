package dev.hakmem.stress;

import dev.hakmem.HakMem;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StressSmokeTest {

    @Test
    void aShortMixedRunCorruptsNothingAndLeavesTheHeapEmpty() {
        Duration duration = StressSupport.duration(Duration.ofSeconds(3), 0.15);
        int threads = StressSupport.full() ? 4 : 2;
        long seed = StressSupport.full() ? StressSupport.seed("stress smoke") : 0x5EEDL;
        try (HakMem heap = HakMem.create()) {
            StressResult result = new StressWorkload(
                    new StressOptions(threads, duration, seed, heap), System.out::println).run();
            System.out.println("seed " + seed);
            result.summaryLines().forEach(System.out::println);

            assertEquals(0, result.errors(), () -> String.join("\n", result.errorSamples()));
            assertEquals(0, result.liveBytes(), "live bytes after every block was freed");
            assertEquals(0, result.liveBlocks(), "live blocks after every block was freed");
            assertTrue(result.operations() > 0, "operations");
            // Lifetimes are at most 2 s, so in 3 s each slot has been taken over at least once.
            assertTrue(result.threadsStarted() > threads, () -> "threads started: " + result.threadsStarted());
            assertTrue(result.remoteFrees() > 0, "remote frees");
            assertDoesNotThrow(heap::check);
        }
    }
}
