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
 * Double frees racing the owner. HakMem promises that a wrong free is refused (or, for racing frees, counted) and
 * leaves the heap intact; these tests check that the other blocks survive it. Both found bugs, since fixed: a
 * refused remote free's transient claim made the owner's popFree rebuild its list without the block (now a free of
 * a block that is not allocated is refused before it claims, and a racing undo asks the owner to rebuild), and a
 * block on both lists let one link overwrite the other (the two lists now have separate link arrays).
 */
public final class SharedLinksStress {
    private SharedLinksStress() {
    }

    @JCStressTest
    @Description("Block 1 is legitimately on the remote stack and block 2 on the local free stack when block 0 is "
            + "freed locally by the owner and remotely by another thread at once (a double free); the owner then "
            + "hands out a block; later it drains and hands out everything. Blocks 1 and 2 must come back exactly "
            + "once and the slab must stay consistent, whatever the double free did.")
    @Outcome(id = "0, 1, 0, 6, 1", expect = ACCEPTABLE, desc = "local first: the remote free saw it not allocated")
    @Outcome(id = "2, 0, 2, 3, 1", expect = ACCEPTABLE, desc = "remote first: the local free saw the claim")
    @Outcome(id = "0, 0, 0, 7, 1", expect = ACCEPTABLE,
            desc = "the remote free landed after block 0 was handed out again: a plain free of that block")
    @Outcome(id = "0, 1, 2, 3, 1", expect = ACCEPTABLE,
            desc = "the pop saw the refused free's transient claim and took block 2; block 0 stays free")
    @Outcome(id = "0, 0, 2, 3, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "both frees passed their checks: noticed late by the drain, the slab consistent")
    @Outcome(expect = FORBIDDEN, desc = "the double free corrupted other blocks: lost, handed out twice, or the "
            + "slab inconsistent")
    @State
    public static class DoubleFreeAcrossThreads {
        private final Slab slab = SlabFixtures.slabWithAllocated(RemoteFreeStackStress.BLOCK, 3);

        public DoubleFreeAcrossThreads() {
            slab.freeLocal(2);
            slab.freeRemote(1);
        }

        @Actor
        public void owner(IIIII_Result r) {
            r.r1 = slab.freeLocal(0);
            r.r3 = slab.popFree();
        }

        @Actor
        public void freer(IIIII_Result r) {
            r.r2 = slab.freeRemote(0);
        }

        @Arbiter
        public void drainAndCheck(IIIII_Result r) {
            slab.drain();
            r.r4 = RemoteFreeStackStress.popAll(slab);
            r.r5 = slab.checkInvariants() == null ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("Another thread frees block 0 again after the owner freed it (a double free, refused) while the "
            + "owner pops its free list. Block 0 must stay free.")
    @Outcome(id = "0, 1, 0, 1", expect = ACCEPTABLE, desc = "popped, then the free was refused")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE,
            desc = "popped, then the free landed on the handed-out block: a plain remote free")
    @Outcome(id = "-1, 1, 1, 1", expect = ACCEPTABLE,
            desc = "the pop saw the refused free's transient claim and passed; block 0 is still free")
    @Outcome(expect = FORBIDDEN, desc = "block 0 lost or the slab inconsistent")
    @State
    public static class RefusedFreeRacesPop {
        private final Slab slab = SlabFixtures.slabWithAllocated(RemoteFreeStackStress.BLOCK, 2);

        public RefusedFreeRacesPop() {
            slab.freeLocal(0);
        }

        @Actor
        public void owner(IIII_Result r) {
            r.r1 = slab.popFree();
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r2 = slab.freeRemote(0);
        }

        @Arbiter
        public void drainAndCheck(IIII_Result r) {
            slab.drain();
            r.r3 = RemoteFreeStackStress.popAll(slab);
            r.r4 = slab.checkInvariants() == null ? 1 : 0;
        }
    }
}
