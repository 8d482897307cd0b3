package dev.hakmem.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIIII_Result;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * A late second free of a block racing the owner's drain of that block (DESIGN.md "Remote free"). The drain clears
 * a block's <i>allocated</i> bit before it releases its <i>claimed</i> bit, so a second free whose claim wins after
 * that release reads allocated == 0 and is refused. Were the two writes done the other way round (or the claim
 * released by a plain write), a second free could win the claim, still read allocated == 1 and push the block while
 * the drain lists it as free: a block both free and pending, then handed out twice.
 *
 * <p>Every test checks the slab's whole invariant ({@link Slab#checkInvariants}) as soon as the actors are done,
 * before any further drain (a drain repairs what a racing double free left, so checking after it would hide the
 * mistake), then drains and hands out every free block, each of which must come exactly once.
 */
public final class DrainRacesSecondFreeStress {
    /** 4 KiB blocks: 16 per slab, so a hand-out mask fits an int (all 16: 65535) and a drain has 16 to race over. */
    static final int BLOCK = 4 << 10;
    static final int BLOCKS = 16;

    private DrainRacesSecondFreeStress() {
    }

    /**
     * Frees every block remotely {@code times} times in a row, from block 15 down to 0: the order in which a drain
     * takes blocks pushed from 0 up, so that the frees keep pace with a racing drain. Returns how many were FREED.
     */
    static int freeDescending(Slab s, int times) {
        int freed = 0;
        for (int b = BLOCKS - 1; b >= 0; b--) {
            for (int t = 0; t < times; t++) {
                if (s.freeRemote(b) == Slab.FREED) {
                    freed++;
                }
            }
        }
        return freed;
    }

    /** 1 when the slab's invariants hold, else 0. */
    static int intact(Slab s) {
        return s.checkInvariants() == null ? 1 : 0;
    }

    @JCStressTest
    @Description("Every block is freed remotely once and waits on the remote stack; the owner drains while another "
            + "thread frees every block a second time, in the order the drain takes them. Every second free must be "
            + "refused (claimed, or no longer allocated) and the slab must stay consistent.")
    @Outcome(id = "16, 0, 1, 65535", expect = ACCEPTABLE,
            desc = "the drain took all 16, every second free refused, each block handed out once")
    @Outcome(expect = FORBIDDEN, desc = "a second free won a drained block (free and pending at once), or a block "
            + "lost or handed out twice")
    @State
    public static class LateSecondFreesFollowTheDrain {
        private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, BLOCKS);

        public LateSecondFreesFollowTheDrain() {
            for (int b = 0; b < BLOCKS; b++) {
                slab.freeRemote(b);
            }
        }

        @Actor
        public void owner(IIII_Result r) {
            r.r1 = slab.drain();
        }

        @Actor
        public void lateFreer(IIII_Result r) {
            r.r2 = freeDescending(slab, 1);
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = intact(slab);
            slab.drain();
            r.r4 = RemoteFreeStackStress.popAll(slab);
        }
    }

    @JCStressTest
    @Description("Another thread frees every block remotely twice in a row (each second free a double free) while "
            + "the owner drains. Each block must be freed exactly once and reclaimed by exactly one drain (the "
            + "racing one or the arbiter's), and the slab must stay consistent. (Two threads each freeing every "
            + "block while the owner drains needs three actors, more than jcstress schedules on two CPUs: "
            + "SecondFreeRacesDrainLincheckTest models that.)")
    @Outcome(id = "16, 16, 1, 65535", expect = ACCEPTABLE,
            desc = "each block freed once, reclaimed once, handed out once")
    @Outcome(expect = FORBIDDEN, desc = "a second free won (a block freed twice), a first free refused, a block "
            + "lost, reclaimed or handed out twice, or the slab inconsistent")
    @State
    public static class FirstAndSecondFreeRaceTheDrain {
        private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, BLOCKS);
        /** Written by the owner actor, read by the arbiter (which happens-after every actor). */
        private int drained;

        @Actor
        public void owner() {
            drained = slab.drain();
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r1 = freeDescending(slab, 2);
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = intact(slab);
            r.r2 = drained + slab.drain();
            r.r4 = RemoteFreeStackStress.popAll(slab);
        }
    }

    @JCStressTest
    @Description("Block 0 waits on the remote stack; the owner drains, hands a block out again (LIFO: block 0) and "
            + "frees it locally, while another thread frees block 0 a second time. The late free is refused, or "
            + "lands on the block while it is handed out again (a plain remote free; the owner's own free is then "
            + "refused as already claimed). Either way block 0 is never handed out twice and the slab is consistent "
            + "once drained; before that drain it may be inconsistent only in the two tolerated ways below.")
    @Outcome(id = "2, 0, 0, 1, 1", expect = ACCEPTABLE, desc = "the late free saw the first free's claim")
    @Outcome(id = "1, 0, 0, 1, 1", expect = ACCEPTABLE, desc = "the late free saw block 0 no longer allocated")
    @Outcome(id = "0, 0, 2, 1, 1", expect = ACCEPTABLE,
            desc = "the late free landed while block 0 was handed out again; the owner's free saw its claim")
    @Outcome(id = "1, -1, -1, 0, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "the late free's transient claim (undone, refused) made the owner's pop skip block 0: off the "
            + "free list until the requested rebuild, which the next drain does")
    @Outcome(id = "1, 0, 2, 1, 0", expect = ACCEPTABLE_INTERESTING,
            desc = "the late free's transient claim (undone, refused) made the owner's own free of block 0 fail as "
            + "already claimed: block 0 stays allocated, the cost of the double free in user code")
    @Outcome(id = "0, 0, 0, 0, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "the late free claimed between the owner's free's claim check and its write: both passed (the "
            + "tolerated local-and-remote double free), pending and free at once until the drain repairs it")
    @Outcome(expect = FORBIDDEN, desc = "the late free won the block the drain was freeing (free and pending at "
            + "once, then the pop skips it), or block 0 listed twice, or the slab inconsistent")
    @State
    public static class LateSecondFreeRacesDrainAndReuse {
        /** Block 1 stays handed out, so only block 0 is ever on the free list. */
        private final Slab slab = SlabFixtures.slabWithAllocated(BLOCK, 2);

        public LateSecondFreeRacesDrainAndReuse() {
            slab.freeRemote(0);
        }

        @Actor
        public void owner(IIIII_Result r) {
            slab.drain();
            int b = slab.popFree();
            r.r2 = b;
            r.r3 = b < 0 ? -1 : slab.freeLocal(b);
        }

        @Actor
        public void lateFreer(IIIII_Result r) {
            r.r1 = slab.freeRemote(0);
        }

        @Arbiter
        public void check(IIIII_Result r) {
            r.r4 = intact(slab);
            slab.drain();
            r.r5 = RemoteFreeStackStress.popAll(slab);
        }
    }
}
