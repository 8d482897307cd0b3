package dev.hakmem.sampled;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.GuardOptions;
import dev.hakmem.HakMemException;
import dev.hakmem.PageSource;
import dev.hakmem.os.Mem;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;

import java.util.concurrent.ConcurrentLinkedQueue;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * Sampled guard mode's slots under races: a sampled block freed by a thread that did not allocate it while the
 * allocating thread samples again, the background scan racing a free (the scan must never see a half-poisoned slot
 * and report a write after free that did not happen), and two racing frees of one sampled block. Real memory: each
 * state takes a chunk for its slots on its first sample and gives it back in its arbiter; the chunks are mapped once
 * and recycled ({@link #PAGES}), since a mapping per state would leave jcstress a few dozen states a second.
 */
public final class SampledGuardStress {
    /** Chunks given back, reused before any new one is mapped: no two live states share one. */
    private static final ConcurrentLinkedQueue<Long> SPARE = new ConcurrentLinkedQueue<>();
    private static final PageSource PAGES = new PageSource() {
        @Override
        public long reserve(long size, long alignment) {
            Long spare = SPARE.poll();
            if (spare != null) {
                return spare;
            }
            long fresh = PageSource.system().reserve(size, alignment);
            PageSource.system().commit(fresh, size);
            return fresh;
        }

        @Override
        public void commit(long address, long size) {
        }

        @Override
        public void decommit(long address, long size) {
        }

        @Override
        public void release(long address, long size) {
            SPARE.add(address);
        }

        @Override
        public long pageSize() {
            return PageSource.system().pageSize();
        }
    };

    private SampledGuardStress() {
    }

    static SampledGuard newGuard() {
        return new SampledGuard(0, PAGES, new MemoryAccount(Long.MAX_VALUE, 0), GuardOptions.sampled(1)
                .withScanMillis(1), new Events(), e -> { });
    }

    /** 1 when {@link SampledGuard#check} passes (slots intact, bookkeeping whole, nothing pending), else 0. */
    static int checked(SampledGuard guard) {
        try {
            guard.check();
            return 1;
        } catch (HakMemException e) {
            return 0;
        } finally {
            guard.close();
        }
    }

    @JCStressTest
    @Description("One thread samples a block and publishes it, then samples, fills and frees a block of its own, "
            + "while the other thread takes the published block and frees it: no violation, and the slots and "
            + "bookkeeping stay whole.")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "both frees checked and poisoned their slots")
    @Outcome(expect = FORBIDDEN, desc = "a false report, or the bookkeeping broke")
    @State
    public static class FreedByAnotherThread {
        private final SampledGuard guard = newGuard();
        /**
         * The block the sampler allocated, 0 until it publishes it (volatile: the freer sees the address only after
         * the sample that made it). Allocated by an actor, not in the state's constructor, which may run on the
         * freer's thread: so the free is always another thread's.
         */
        private volatile long block;

        @Actor
        public void sampler() {
            block = guard.malloc(64, false, 16);
            long own = guard.malloc(100, false, 16);
            Mem.fill(own, 100, (byte) 0x5A);
            guard.free(own);
        }

        @Actor
        public void remoteFreer() {
            long b;
            while ((b = block) == 0) {
                Thread.onSpinWait();
            }
            guard.free(b);
        }

        @Arbiter
        public void check(II_Result r) {
            r.r1 = (int) guard.violations();
            r.r2 = checked(guard);
        }
    }

    @JCStressTest
    @Description("The background scan runs while a sampled block in a page slot is freed (checked, poisoned in "
            + "place: this fixture's page source does not watch residency, so the page is kept; queued): the scan "
            + "sees the slot live or freed, never between, so it reports nothing (the small slots' frees race in "
            + "FreedByAnotherThread).")
    @Outcome(id = "0, 1", expect = ACCEPTABLE, desc = "no false report")
    @Outcome(expect = FORBIDDEN, desc = "the scan reported a corruption that did not happen, or the bookkeeping broke")
    @State
    public static class ScanRacesFree {
        private final SampledGuard guard = newGuard();
        private final long block = guard.malloc(1600, false, 16);

        @Actor
        public void freer() {
            guard.free(block);
        }

        @Actor
        public void scanner() {
            guard.scan(System.nanoTime() + 1_000_000_000L);
        }

        @Arbiter
        public void check(II_Result r) {
            r.r1 = (int) guard.violations();
            r.r2 = checked(guard);
        }
    }

    @JCStressTest
    @Description("Two threads free one sampled block at once (a double free in user code): exactly one free "
            + "succeeds, the other is reported as a double free, and the slot is freed once.")
    @Outcome(id = {"1, 0, 1", "0, 1, 1"}, expect = ACCEPTABLE, desc = "one free won, the other was a double free")
    @Outcome(expect = FORBIDDEN, desc = "both or neither freed it, or the bookkeeping broke")
    @State
    public static class DoubleFree {
        private final SampledGuard guard = newGuard();
        private final long block = guard.malloc(48, false, 16);

        private int free() {
            try {
                guard.free(block);
                return 1;
            } catch (DoubleFreeException e) {
                return 0;
            }
        }

        @Actor
        public void freer1(III_Result r) {
            r.r1 = free();
        }

        @Actor
        public void freer2(III_Result r) {
            r.r2 = free();
        }

        @Arbiter
        public void check(III_Result r) {
            r.r3 = checked(guard);
        }
    }
}
