package dev.hakmem.core;

import dev.hakmem.HakMemConfig;
import dev.hakmem.SiteProfile;
import dev.hakmem.site.Profiler;
import dev.hakmem.site.SiteState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A learning heap's profiler switches between its learning and resting periods (FROZEN rests): a sample weighs what
 * the period its countdown was drawn under gives, not the period in force when it runs out, so the Horvitz-Thompson
 * estimates stay unbiased across a change. With a learning period of 1 byte every malloc is sampled with weight 1,
 * and at 4096 bytes a sample of 64 bytes stands for {@code 1 / (1 - (1 - 1/4096)^64)}, about 64.5 mallocs: a sample
 * weighed by the wrong period is off by 64x either way. One thread, so the heap and its countdown are this thread's.
 */
class SamplingPeriodTest {
    private static final long SIZE = 64;
    private static final long RESTING = 4096;
    /**
     * Switches to rest and back: a correct heap has each round's first resting countdown run out at its first malloc
     * with probability 1.55%, all of them with probability 0.0155^6, about 1.4e-11.
     */
    private static final int ROUNDS = 6;

    @Test
    void aSampleWeighsWhatThePeriodItsCountdownWasDrawnUnderGives() {
        Allocator a = new Allocator(HakMemConfig.defaults(), "test", 1, RESTING);
        List<Long> blocks = new ArrayList<>();
        double restingWeight = 1 / (1 - Math.pow(1 - 1.0 / RESTING, SIZE));
        try {
            blocks.add(a.malloc(a.site("start"), SIZE));
            int mostMallocs = 0;
            for (int round = 0; round < ROUNDS; round++) {
                a.profiler().learning(false, Profiler.WINDOW_SAMPLES);
                SiteState drawnWhileLearning = a.site("drawn while learning, sampled resting " + round);
                blocks.add(a.malloc(drawnWhileLearning, SIZE));
                assertSample(a, drawnWhileLearning, 1, 1);

                SiteState resting = a.site("resting " + round);
                mostMallocs = Math.max(mostMallocs, untilSampled(a, resting, blocks));
                assertSample(a, resting, 1, Math.round(restingWeight));

                a.profiler().learning(true, Profiler.WINDOW_SAMPLES);
                SiteState drawnResting = a.site("drawn resting, sampled while learning " + round);
                untilSampled(a, drawnResting, blocks);
                assertSample(a, drawnResting, 1, Math.round(restingWeight));

                SiteState learning = a.site("learning " + round);
                for (int i = 0; i < 10; i++) {
                    blocks.add(a.malloc(learning, SIZE));
                }
                assertSample(a, learning, 10, 10);
            }
            // A countdown drawn under the period of 1 byte runs out at the first malloc; one drawn under the
            // resting period does too with probability p = 1 - (1 - 1/4096)^64, 1.55%: one round's first malloc
            // sampled at once is no evidence (the test failed so once in 64 runs), every round's is.
            assertTrue(mostMallocs > 1, "every resting countdown ran out at its first malloc, in " + ROUNDS
                    + " rounds");
            blocks.forEach(a::free);
            a.check();
        } finally {
            a.close();
        }
    }

    /** Mallocs from {@code site} until one is sampled; returns how many. */
    private static int untilSampled(Allocator a, SiteState site, List<Long> blocks) {
        for (int i = 1; i <= 1_000_000; i++) {
            blocks.add(a.malloc(site, SIZE));
            if (a.profiler().profile(site, System.nanoTime()).samples() > 0) {
                return i;
            }
        }
        throw new AssertionError(site + " never sampled");
    }

    private static void assertSample(Allocator a, SiteState site, long samples, long allocations) {
        SiteProfile p = a.profiler().profile(site, System.nanoTime());
        assertEquals(samples, p.samples(), site + "'s samples");
        assertEquals(allocations, p.allocations(), site + "'s estimated allocations");
    }
}
