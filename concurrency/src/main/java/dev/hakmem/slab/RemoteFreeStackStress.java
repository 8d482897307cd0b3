package dev.hakmem.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** The remote-free MPSC stack of a real {@link Slab}: pushes (freeRemote) and the owner's swap (drain). */
public final class RemoteFreeStackStress {
    /** 8 KiB blocks: 8 per slab. */
    static final int BLOCK = 8 << 10;

    private RemoteFreeStackStress() {
    }

    /**
     * The blocks on the slab's local free stack, as a bit mask, or -1 if one came twice; pops them all (the owner
     * hands them out). For slabs of at most 31 blocks.
     */
    static int popAll(Slab s) {
        int mask = 0;
        for (int b; (b = s.popFree()) >= 0; ) {
            if ((mask & 1 << b) != 0) {
                return -1;
            }
            mask |= 1 << b;
        }
        return mask;
    }

    @JCStressTest
    @Description("Two threads free distinct blocks remotely at once; the owner then drains: both come back, once.")
    @Outcome(id = "0, 0, 2, 6", expect = ACCEPTABLE, desc = "both pushed, both reclaimed by the drain")
    @Outcome(expect = FORBIDDEN, desc = "a push lost or a block reclaimed twice")
    @State
    public static class TwoPushers {
        private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, 4);

        @Actor
        public void freer1(IIII_Result r) {
            r.r1 = slab.freeRemote(1);
        }

        @Actor
        public void freer2(IIII_Result r) {
            r.r2 = slab.freeRemote(2);
        }

        @Arbiter
        public void owner(IIII_Result r) {
            r.r3 = slab.drain();
            r.r4 = popAll(slab);
        }
    }

    @JCStressTest
    @Description("A push races the owner's drain of a stack that already holds a block; a second drain follows. "
            + "Each block is reclaimed by exactly one of the two drains.")
    @Outcome(id = "0, 6, 0", expect = ACCEPTABLE, desc = "the push landed before the swap: the first drain took both")
    @Outcome(id = "0, 2, 4", expect = ACCEPTABLE, desc = "the push landed after the swap: the second drain took it")
    @Outcome(expect = FORBIDDEN, desc = "a block lost or reclaimed twice")
    @State
    public static class PushRacesDrain {
        private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, 4);

        public PushRacesDrain() {
            slab.freeRemote(1);
        }

        @Actor
        public void freer(III_Result r) {
            r.r1 = slab.freeRemote(2);
        }

        @Actor
        public void owner(III_Result r) {
            slab.drain();
            r.r2 = popAll(slab);
        }

        @Arbiter
        public void ownerAgain(III_Result r) {
            slab.drain();
            r.r3 = popAll(slab);
        }
    }
}
