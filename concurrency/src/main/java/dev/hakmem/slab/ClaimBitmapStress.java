package dev.hakmem.slab;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE_INTERESTING;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/** The claimed bitmap of a real {@link Slab}: one atomic OR per remote free decides who frees a block. */
public final class ClaimBitmapStress {
    private ClaimBitmapStress() {
    }

    @JCStressTest
    @Description("Remote frees of two distinct blocks whose claimed bits share one 64-bit word: both claims stick.")
    @Outcome(id = "0, 0, 2", expect = ACCEPTABLE, desc = "both freed, both pending until the owner drains")
    @Outcome(expect = FORBIDDEN, desc = "a claim lost: a block freed but still counted live, or refused")
    @State
    public static class DistinctBlocksOneWord {
        private final Slab slab = SlabFixtures.slabWithAllocated(RemoteFreeStackStress.BLOCK, 8);

        @Actor
        public void freer1(III_Result r) {
            r.r1 = slab.freeRemote(3);
        }

        @Actor
        public void freer2(III_Result r) {
            r.r2 = slab.freeRemote(4);
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = slab.pendingCount();
        }
    }

    @JCStressTest
    @Description("Two threads free one block remotely at once (a double free): exactly one claim wins, and the "
            + "block is pushed once.")
    @Outcome(id = "0, 2, 1", expect = ACCEPTABLE, desc = "the first freer won, the second was refused")
    @Outcome(id = "2, 0, 1", expect = ACCEPTABLE, desc = "the second freer won, the first was refused")
    @Outcome(expect = FORBIDDEN, desc = "both or neither freed it, or the drain did not reclaim it exactly once")
    @State
    public static class OneBlockTwice {
        private final Slab slab = SlabFixtures.slabWithAllocated(RemoteFreeStackStress.BLOCK, 8);

        @Actor
        public void freer1(III_Result r) {
            r.r1 = slab.freeRemote(5);
        }

        @Actor
        public void freer2(III_Result r) {
            r.r2 = slab.freeRemote(5);
        }

        @Arbiter
        public void owner(III_Result r) {
            r.r3 = slab.drain();
        }
    }

    @JCStressTest
    @Description("The owner frees a block locally while another thread frees it remotely (a double free across "
            + "threads), the only block in flight. Whatever the order, after the owner's drain the slab is "
            + "consistent and the block is free exactly once.")
    @Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE, desc = "local first: the remote free saw it not allocated")
    @Outcome(id = "2, 0, 1, 1", expect = ACCEPTABLE, desc = "remote first: the local free saw the claim")
    @Outcome(id = "0, 0, 1, 1", expect = ACCEPTABLE_INTERESTING,
            desc = "both passed their checks: noticed late by the drain, counted, the block listed once")
    @Outcome(expect = FORBIDDEN, desc = "the block lost or listed twice, or the slab inconsistent")
    @State
    public static class LocalAndRemoteFreeOfOneBlock {
        private final Slab slab = SlabFixtures.slabWithAllocated(RemoteFreeStackStress.BLOCK, 2);

        @Actor
        public void owner(IIII_Result r) {
            r.r1 = slab.freeLocal(0);
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r2 = slab.freeRemote(0);
        }

        @Arbiter
        public void drainAndCheck(IIII_Result r) {
            slab.drain();
            r.r4 = slab.checkInvariants() == null ? 1 : 0;
            r.r3 = Integer.bitCount(RemoteFreeStackStress.popAll(slab));
        }
    }
}
