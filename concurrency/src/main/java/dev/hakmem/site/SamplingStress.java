package dev.hakmem.site;

import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SlabFixtures;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;
import org.openjdk.jcstress.infra.results.III_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Concurrent updates of the profile (Profiler): the marks of sampled blocks in a slab, set by the owner's sampling
 * malloc and cleared by any thread's free, with the count the free path reads; and the samples of one site recorded
 * by two threads while the learner drains the window. Each update must land exactly once: a lost update of the count
 * sends every free of the slab down the slow path for good (or lets a sampled block's free miss its mark), a
 * doubled one loses a lifetime, and a sample lost or counted in two windows skews the learner.
 */
public final class SamplingStress {
    private static final long T0 = 1_000_000_000L;

    private SamplingStress() {
    }

    /** 1 when the slab's invariants (its count of sampled blocks equals its marks, each on a live block) hold. */
    static int intact(Slab s) {
        return s.checkInvariants() == null ? 1 : 0;
    }

    @JCStressTest
    @Description("Block 0 is marked sampled; two threads free it at once (a double free in user code), each first "
            + "clearing its mark. Exactly one must find the mark, and the slab's count must drop exactly once.")
    @Outcome(id = {"1, 0, 1, 0", "0, 1, 1, 0"}, expect = ACCEPTABLE, desc = "one freer took the mark")
    @Outcome(expect = FORBIDDEN, desc = "both or neither took it, or the count drifted")
    @State
    public static class DoubleFreeOfASampledBlock {
        private final Slab slab = SlabFixtures.slabWithAllocated(64, 2);

        public DoubleFreeOfASampledBlock() {
            slab.markSampled(0);
        }

        @Actor
        public void freer1(IIII_Result r) {
            r.r1 = slab.unmarkSampled(0) ? 1 : 0;
        }

        @Actor
        public void freer2(IIII_Result r) {
            r.r2 = slab.unmarkSampled(0) ? 1 : 0;
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = intact(slab);
            r.r4 = slab.sampledOpaque();
        }
    }

    @JCStressTest
    @Description("The owner marks block 1, just sampled, while another thread frees block 0, marked before. The "
            + "count must end at 1 with block 1 the only mark: a lost update of the count would leave it at 0 (block "
            + "1's free would then skip its mark) or 2 (every free of the slab on the slow path for good).")
    @Outcome(id = "1, 1, 1", expect = ACCEPTABLE, desc = "both updates landed")
    @Outcome(expect = FORBIDDEN, desc = "an update of the count or of the marks was lost")
    @State
    public static class MarkRacesUnmark {
        private final Slab slab = SlabFixtures.slabWithAllocated(64, 2);

        public MarkRacesUnmark() {
            slab.markSampled(0);
        }

        @Actor
        public void owner() {
            slab.markSampled(1);
        }

        @Actor
        public void freer(III_Result r) {
            r.r1 = slab.unmarkSampled(0) ? 1 : 0;
        }

        @Arbiter
        public void check(III_Result r) {
            r.r2 = intact(slab) == 1 && slab.isSampled(1) && !slab.isSampled(0) ? 1 : 0;
            r.r3 = slab.sampledOpaque();
        }
    }

    @JCStressTest
    @Description("A thread records two samples of one site and frees a sampled block of it in between, while the "
            + "learner drains the window. Each sample must be in exactly one window and counted once by the site, "
            + "the freed block's lifetime recorded once, and the profiler's identities must hold.")
    @Outcome(id = {"0, 2, 1, 1", "1, 1, 1, 1", "2, 0, 1, 1"}, expect = ACCEPTABLE,
            desc = "the drain took 0, 1 or 2 of the samples; the rest were in the next window")
    @Outcome(expect = FORBIDDEN, desc = "a sample lost or counted twice, a lifetime lost, or the identities broken")
    @State
    public static class SamplesRaceTheWindowsDrain {
        private final Profiler profiler = new Profiler(1, 16, 1);
        private final SiteState site = profiler.site("site");

        public SamplesRaceTheWindowsDrain() {
            profiler.recordMalloc(site, 0x100, 64, 1, T0, 1);
            profiler.drainWindow();
        }

        @Actor
        public void allocating() {
            profiler.recordMalloc(site, 0x200, 64, 1, T0, 1);
            profiler.freed(0x100, T0 + 5, 2);
            profiler.recordMalloc(site, 0x300, 100_000, 1, T0, 1);
        }

        @Actor
        public void learner(IIII_Result r) {
            r.r1 = (int) profiler.drainWindow().sampledMallocs();
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r2 = (int) profiler.drainWindow().sampledMallocs();
            dev.hakmem.SiteProfile p = profiler.profile(site, T0 + 10);
            r.r3 = p.samples() == 3 && p.lifetimes() == 1 && p.remoteFrees() == 1 && p.liveSamples() == 2
                    && p.bytes() == 64 + 64 + 100_000 ? 1 : 0;
            r.r4 = profiler.check() == null ? 1 : 0;
        }
    }

    @JCStressTest
    @Description("The bound at its edge: one entry, held by a sampled block that one thread frees before sampling "
            + "another, while a second thread samples a third. The freed room goes back to the bound (near it, a "
            + "stripe keeps no allowance): exactly one of the two new samples is remembered, and the bound's count "
            + "equals the blocks remembered.")
    @Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one of the two took the freed room")
    @Outcome(expect = FORBIDDEN, desc = "the bound exceeded, the freed room lost, or its count broken")
    @State
    public static class SamplesRaceAFreeAtTheBound {
        private final Profiler profiler = new Profiler(1, 1, 1);
        private final SiteState site = profiler.site("site");

        public SamplesRaceAFreeAtTheBound() {
            profiler.recordMalloc(site, 0x100, 64, 1, T0, 1);
        }

        @Actor
        public void sampler(III_Result r) {
            r.r1 = profiler.recordMalloc(site, 0x200, 64, 1, T0, 1) ? 1 : 0;
        }

        @Actor
        public void freer(III_Result r) {
            profiler.freed(0x100, T0 + 5, 2);
            r.r2 = profiler.recordMalloc(site, 0x300, 64, 1, T0, 2) ? 1 : 0;
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = profiler.check() == null ? 1 : 0;
        }
    }
}
