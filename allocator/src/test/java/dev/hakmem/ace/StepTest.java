package dev.hakmem.ace;

import dev.hakmem.Policy;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Axis's ladders and {@link Learner#step}: the "one step" rail. */
class StepTest {
    private static final Policy D = Policy.defaults();

    @Test
    void aValueOnTheLadderHasItsTwoNeighboursAndTheEndsHaveOne() {
        assertEquals(0b01010, Axis.W_MAX.neighbours(D), "1.25: 1.125 and 1.5");
        assertEquals(2, Axis.W_MAX.indexOf(D));
        assertEquals(0b01000, Axis.BIG_THRESHOLD.neighbours(D), "1 MiB: 512 KiB only");
        Policy low = D.toBuilder().wMax(1.0625).purgeDelayMillis(0).retainBytes(0).build();
        assertEquals(0b00010, Axis.W_MAX.neighbours(low));
        assertEquals(0b00010, Axis.PURGE_DELAY.neighbours(low));
        assertEquals(0b0010, Axis.RETAIN.neighbours(low));
    }

    @Test
    void aValueBetweenCandidatesStepsToEitherSide() {
        Policy p = D.toBuilder().wMax(1.3).purgeDelayMillis(60_000).retainBytes(1L << 40).build();
        assertEquals(-1, Axis.W_MAX.indexOf(p));
        assertEquals(0b01100, Axis.W_MAX.neighbours(p), "1.3: 1.25 and 1.5");
        assertEquals(0b10000, Axis.PURGE_DELAY.neighbours(p), "above the ladder: its top");
        assertEquals(0b1000, Axis.RETAIN.neighbours(p));
        assertEquals("wMax 1.3 -> 1.25", Learner.step(p, Axis.W_MAX.with(p, 2)));
        assertEquals("purgeDelayMillis 60000 -> 5000", Learner.step(p, Axis.PURGE_DELAY.with(p, 4)));
        assertNull(Learner.step(p, Axis.PURGE_DELAY.with(p, 3)), "past the nearest candidate");
    }

    @Test
    void oneStepIsOneKnobToANeighbourOrOneBridge() {
        assertEquals("wMax 1.25 -> 1.5", Learner.step(D, Axis.W_MAX.with(D, 3)));
        assertEquals("bigThreshold 1048576 -> 524288", Learner.step(D, Axis.BIG_THRESHOLD.with(D, 3)));
        assertNull(Learner.step(D, Axis.W_MAX.with(D, 4)), "two steps");
        assertNull(Learner.step(D, D), "no step");
        assertNull(Learner.step(D, Axis.RETAIN.with(Axis.W_MAX.with(D, 3), 1)), "two knobs");

        Policy one = D.toBuilder().bridgeClasses(38912).build();
        Policy two = D.toBuilder().bridgeClasses(3072, 38912).build();
        assertEquals("bridge +38912", Learner.step(D, one));
        assertEquals("bridge +3072", Learner.step(one, two));
        assertEquals("bridge -3072", Learner.step(two, one));
        assertEquals("bridge -38912", Learner.step(one, D));
        assertNull(Learner.step(D, two), "two bridges");
        assertNull(Learner.step(one, D.toBuilder().bridgeClasses(40960).build()), "one bridge moved");
        assertNull(Learner.step(one, Axis.W_MAX.with(two, 3)), "a bridge and a knob");
        assertNull(Learner.step(D, D.toBuilder().site(new Policy.SiteRule("s", true, false)).build()),
                "site rules are not the learner's");
    }
}
