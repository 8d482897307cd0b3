package dev.hakmem.heap;

import dev.hakmem.concurrency.FakeMemory;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
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
 * Real heaps, pools and SuperSlabs over fake memory: the owner's allocation and refill, adoption of a dead heap's
 * SuperSlabs and the maintenance reclaim, racing remote frees. Malloc hands out addresses and never touches them;
 * each state gives its SuperSlabs back (unregistering them) in its arbiter.
 */
public final class HeapStress {
    /** W_MAX 2: the fewest classes (about 30), so that each state's heaps stay small; 8 KiB is still a class. */
    static final SizeClasses CLASSES = new SizeClasses(2.0);
    /** 8 KiB blocks in 64 KiB slabs: 8 per slab, so a few mallocs fill one. */
    static final int CLS = CLASSES.classOf(8 << 10);
    static final int CAPACITY = CLASSES.capacity(CLS);
    /** Where an allocation came from, for the outcomes: a block index of the first slab, or one of these. */
    static final int SECOND_SLAB = 100;
    static final int NEW_SUPERSLAB = 200;

    private HeapStress() {
    }

    /** One heap set with its pool, as an Allocator builds them, over fake pages. */
    static final class Heaps {
        final Events events = new Events();
        final SuperSlabPool pool = new SuperSlabPool(0, FakeMemory.pages(),
                new MemoryAccount(Long.MAX_VALUE, Long.MAX_VALUE), events, new ClassCounters(CLASSES.count()), 0);
        final HeapSet set = new HeapSet(CLASSES, pool, events, new ClassCounters(CLASSES.count()), 1);

        ThreadHeap newHeap() {
            return new ThreadHeap(set, CLASSES, pool, Thread.currentThread(), false);
        }

        /**
         * What Free.freeRemote does after a remote free: a freer that finds the SuperSlab abandoned claims it and
         * adopts it into its own heap. Its heap is passed in rather than found through HeapSet.current(): those
         * ThreadLocal entries outlive their heap set (the value refers back to the ThreadLocal), which over
         * millions of states would exhaust the test VM's heap.
         */
        boolean freeRemoteAndAdopt(Slab s, int b, ThreadHeap freer) {
            int outcome = s.freeRemote(b);
            SuperSlab ss = s.superSlab;
            if (outcome == Slab.FREED && ss.stateVolatile() == SuperSlab.ABANDONED) {
                freer.adoptOnFree(ss);
            }
            return outcome == Slab.FREED;
        }

        /** A heap whose first slab holds {@code live} blocks, the others of its first {@code carved} freed. */
        Slab fill(ThreadHeap heap, int carved, int live) {
            long first = heap.malloc(CLS);
            for (int i = 1; i < carved; i++) {
                heap.malloc(CLS);
            }
            Slab s = slabOf(first);
            for (int b = live; b < carved; b++) {
                Free.blockLocal(s, b);
            }
            return s;
        }

        Slab slabOf(long address) {
            for (SuperSlab ss : pool.all()) {
                if (ss.contains(address)) {
                    return ss.slabAt(address);
                }
            }
            throw new IllegalStateException("no SuperSlab holds 0x" + Long.toHexString(address));
        }

        /** Where {@code address} is relative to slab {@code s}: its block index, or SECOND_SLAB, NEW_SUPERSLAB. */
        int where(long address, Slab s) {
            if (s.superSlab.contains(address)) {
                Slab t = s.superSlab.slabAt(address);
                return t == s ? s.indexOf(address) : SECOND_SLAB + t.indexOf(address);
            }
            return NEW_SUPERSLAB + slabOf(address).indexOf(address);
        }

        void release() {
            pool.releaseAll();
        }
    }

    @JCStressTest
    @Description("The owner allocates from its full current slab (drain, else refill from a new slab) while "
            + "another thread frees one of that slab's blocks remotely. The block is handed out again only if "
            + "drained, and otherwise waits on the stack: never handed out twice, never lost.")
    @Outcome(id = "3, 0, 0, 1", expect = ACCEPTABLE, desc = "drained by the allocation and handed out again")
    @Outcome(id = "100, 0, 1, 1", expect = ACCEPTABLE, desc = "refilled from a new slab; the block is pending")
    @Outcome(expect = FORBIDDEN, desc = "handed out twice, lost, or a slab inconsistent")
    @State
    public static class RefillRacesRemoteFree {
        private final Heaps heaps = new Heaps();
        private final ThreadHeap owner = heaps.newHeap();
        private final Slab slab = heaps.fill(owner, CAPACITY, CAPACITY);

        @Actor
        public void owner(IIII_Result r) {
            r.r1 = heaps.where(owner.malloc(CLS), slab);
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r2 = slab.freeRemote(3);
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = slab.pendingCount();
            r.r4 = slab.checkInvariants() == null && slab.liveCount() == CAPACITY - r.r3 ? 1 : 0;
            heaps.release();
        }
    }

    @JCStressTest
    @Description("A dead thread's SuperSlab is abandoned; two live threads race to adopt it: one through "
            + "pool.tryClaim (a freer that found it abandoned), one through pollAbandoned (a refill). Exactly one "
            + "wins.")
    @Outcome(id = "1, 0, 1, 0", expect = ACCEPTABLE, desc = "tryClaim won")
    @Outcome(id = "0, 1, 1, 0", expect = ACCEPTABLE, desc = "pollAbandoned won")
    @Outcome(expect = FORBIDDEN, desc = "both or neither won")
    @State
    public static class ClaimAbandoned {
        private final Heaps heaps = new Heaps();
        private final SuperSlab superSlab;

        public ClaimAbandoned() {
            ThreadHeap dead = heaps.newHeap();
            superSlab = heaps.fill(dead, 2, 1).superSlab;
            dead.abandonAll();
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r1 = heaps.pool.tryClaim(superSlab) ? 1 : 0;
        }

        @Actor
        public void refill(IIII_Result r) {
            r.r2 = heaps.pool.pollAbandoned() == superSlab ? 1 : 0;
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = (int) heaps.events.adoptions.sum();
            r.r4 = superSlab.stateVolatile();
            heaps.release();
        }
    }

    @JCStressTest
    @Description("A block of a dead thread's SuperSlab is freed remotely (and, as Allocator.free does, the freer "
            + "adopts the SuperSlab if it still reads ABANDONED) while a live heap's refill adopts it and "
            + "allocates. Exactly one adoption; the block is reclaimed by whoever owns the slab, or waits on its "
            + "stack; never handed out twice.")
    @Outcome(id = "1, 0, 200, 1", expect = ACCEPTABLE,
            desc = "the freer adopted and drained it; the refill found nothing to adopt and mapped anew")
    @Outcome(id = "0, 1, 1, 1", expect = ACCEPTABLE, desc = "the refill adopted, drained and handed it out")
    @Outcome(id = "0, 1, 100, 1", expect = ACCEPTABLE,
            desc = "the refill adopted before the push: allocated from a new slab, the block waits on the stack")
    @Outcome(expect = FORBIDDEN, desc = "two adoptions, a lost block, or a block handed out twice")
    @State
    public static class RemoteFreeRacesAdoption {
        private final Heaps heaps = new Heaps();
        private final ThreadHeap freer = heaps.newHeap();
        private final ThreadHeap adopter = heaps.newHeap();
        private final Slab slab;

        public RemoteFreeRacesAdoption() {
            ThreadHeap dead = heaps.newHeap();
            slab = heaps.fill(dead, CAPACITY, CAPACITY);
            dead.abandonAll();
        }

        @Actor
        public void freer() {
            heaps.freeRemoteAndAdopt(slab, 1, freer);
        }

        @Actor
        public void refill(IIII_Result r) {
            r.r3 = heaps.where(adopter.malloc(CLS), slab);
        }

        /** Block 1 is handed out again, or waits on the stack (and the refill used a new slab), or is free. */
        @Arbiter
        public void check(IIII_Result r) {
            r.r1 = slab.superSlab.ownerOpaque() == freer ? 1 : 0;
            r.r2 = slab.superSlab.ownerOpaque() == adopter ? 1 : 0;
            int live = r.r3 == 1 ? CAPACITY : CAPACITY - 1;
            int pending = r.r3 == SECOND_SLAB ? 1 : 0;
            r.r4 = heaps.events.adoptions.sum() == 1 && slab.checkInvariants() == null
                    && slab.liveCount() == live && slab.pendingCount() == pending ? 1 : 0;
            heaps.release();
        }
    }

    @JCStressTest
    @Description("The last live block of a dead thread's SuperSlab is freed remotely (adopting it if it reads "
            + "ABANDONED) while the maintenance thread reclaims abandoned SuperSlabs. After one more maintenance "
            + "pass the SuperSlab is always back in the pool: the block was not lost.")
    @Outcome(id = "1, 3, 3", expect = ACCEPTABLE, desc = "reclaimed, or adopted and given back, at once")
    @Outcome(id = "1, 1, 3", expect = ACCEPTABLE,
            desc = "the reclaim drained before the push: still abandoned, reclaimed by the next pass")
    @Outcome(expect = FORBIDDEN, desc = "the SuperSlab stuck: the block lost")
    @State
    public static class RemoteFreeRacesReclaim {
        private final Heaps heaps = new Heaps();
        private final ThreadHeap freer = heaps.newHeap();
        private final Slab slab;

        public RemoteFreeRacesReclaim() {
            ThreadHeap dead = heaps.newHeap();
            slab = heaps.fill(dead, 2, 1);
            dead.abandonAll();
        }

        @Actor
        public void freer(III_Result r) {
            r.r1 = heaps.freeRemoteAndAdopt(slab, 0, freer) ? 1 : 0;
        }

        @Actor
        public void maintenance() {
            heaps.pool.reclaimAbandoned();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r2 = slab.superSlab.stateVolatile();
            heaps.pool.reclaimAbandoned();
            r.r3 = slab.superSlab.stateVolatile();
            heaps.release();
        }
    }
}
