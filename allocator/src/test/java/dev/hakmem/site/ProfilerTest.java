package dev.hakmem.site;

import dev.hakmem.HakMemConfig;
import dev.hakmem.SiteProfile;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The profiler on its own, with the clock and the threads passed in: which allocations are sampled and what they
 * stand for, the lifetimes and remote frees recorded, the window accumulator, and its own identities.
 */
class ProfilerTest {
    private static final long T0 = 1_000_000_000L;

    @Test
    void theLearningPeriodAimsAtItsSamplesAWindowBetweenTheConfiguredAndTheRestingPeriod() {
        long base = Profiler.DEFAULT_PERIOD;
        long resting = Profiler.BALANCED_PERIOD;
        long n = Profiler.WINDOW_SAMPLES;
        // As many samples as aimed at: the period stays; twice as many: it doubles; half as many: it halves.
        assertEquals(base, Profiler.nextLearningPeriod(base, n, base, resting));
        assertEquals(2 * base, Profiler.nextLearningPeriod(base, 2 * n, base, resting));
        assertEquals(base, Profiler.nextLearningPeriod(2 * base, n / 2, base, resting));
        // mixed at 512 KiB: tens of thousands of samples a window; never above the resting period, nor below the base.
        assertEquals(resting, Profiler.nextLearningPeriod(base, 38 * n, base, resting));
        assertEquals(base, Profiler.nextLearningPeriod(resting, 0, base, resting));
        assertEquals(resting, Profiler.nextLearningPeriod(resting, Long.MAX_VALUE / 2, base, resting));
        // A configured period above the resting one stays put.
        assertEquals(4 * resting, Profiler.nextLearningPeriod(4 * resting, 0, 4 * resting, resting));
        assertEquals(4 * resting, Profiler.nextLearningPeriod(4 * resting, 100 * n, 4 * resting, resting));
    }

    @Test
    void onlyAWindowAtTheLearningPeriodRescalesIt() {
        long base = 4096;
        long resting = 1L << 20;
        Profiler p = new Profiler(base, resting, 16, 1, true);
        p.learning(true, 64 * Profiler.WINDOW_SAMPLES);
        assertEquals(64 * base, p.period().bytes(), "a timed window of 64 times the samples aimed at");
        assertTrue(p.period().timed());
        p.learning(false, Profiler.WINDOW_SAMPLES);
        assertEquals(resting, p.period().bytes());
        assertFalse(p.period().timed());
        // The window just drained rested: its count says nothing of the learning period, which stays.
        p.learning(true, 0);
        assertEquals(64 * base, p.period().bytes());
        p.learning(true, 0);
        assertEquals(base, p.period().bytes(), "a timed window without a sample: back to the configured period");
        Profiler exact = new Profiler(1, 1, 16, 1, true);
        exact.learning(true, 64 * Profiler.WINDOW_SAMPLES);
        assertEquals(1, exact.period().bytes(), "a period of one byte (exact profiles) never moves");
    }

    @Test
    void modesWithoutProfilingNeverSample() {
        assertEquals(0, Profiler.periodFor(HakMemConfig.Mode.MINIMAL));
        assertEquals(0, Profiler.periodFor(HakMemConfig.Mode.FAST));
        assertEquals(Profiler.BALANCED_PERIOD, Profiler.periodFor(HakMemConfig.Mode.BALANCED));
        for (HakMemConfig.Mode m : List.of(HakMemConfig.Mode.LEARNING, HakMemConfig.Mode.RESEARCH)) {
            assertEquals(Profiler.DEFAULT_PERIOD, Profiler.periodFor(m), m.name());
        }
        Profiler off = new Profiler(0, 16, 1);
        assertEquals(Long.MAX_VALUE, off.gap(12345));
        assertNull(off.sampleBig(64L << 20));
        assertThrows(IllegalArgumentException.class, () -> new Profiler(-1, 16, 1));
    }

    @Test
    void aPeriodOfOneSamplesEveryByteWithWeightOne() {
        Profiler p = new Profiler(1, 16, 1);
        assertEquals(0, p.gap(42));
        assertEquals(1.0, p.weight(1));
        assertEquals(1.0, p.weight(1 << 20));
        assertNotNull(p.sampleBig(3 << 20));
        assertNull(p.sampleBig(0), "a request of 0 bytes holds no byte to sample");
    }

    /** The countdowns are geometric: their mean is period - 1 and P(gap >= k) = (1 - 1/period)^k. */
    @Test
    void gapsAreGeometricWithTheMeanOfThePeriod() {
        long period = 1000;
        Profiler p = new Profiler(period, 16, 7);
        long state = p.seed();
        int n = 200_000;
        double sum = 0;
        int atLeast2000 = 0;
        for (int i = 0; i < n; i++) {
            state = Profiler.advance(state);
            long g = p.gap(state);
            assertTrue(g >= 0);
            sum += g;
            atLeast2000 += g >= 2000 ? 1 : 0;
        }
        // Standard deviations: of the mean, ~1000 / sqrt(n) = 2.2; of the tail count, ~sqrt(n * 0.135) = 164.
        assertEquals(period - 1, sum / n, 15, "mean gap");
        assertEquals(n * Math.pow(1 - 1.0 / period, 2000), atLeast2000, 1000, "gaps of 2000 bytes or more");
    }

    @Test
    void theWeightIsTheInverseOfTheChanceOfHoldingASampledByte() {
        Profiler p = new Profiler(Profiler.DEFAULT_PERIOD, 16, 1);
        for (long size : new long[]{1, 16, 4096, 64 << 10, 1 << 20, 8 << 20}) {
            double chance = 1 - Math.pow(1 - 1.0 / Profiler.DEFAULT_PERIOD, size);
            assertEquals(1 / chance, p.weight(size), 1e-9 / chance, "size " + size);
        }
    }

    /** Big allocations draw their own sample with the same chance: the share sampled matches it. */
    @Test
    void bigAllocationsAreSampledWithTheSameChance() {
        Profiler p = new Profiler(1 << 20, 16, 1);
        long size = 2L << 20;
        int n = 20_000;
        int sampled = 0;
        for (int i = 0; i < n; i++) {
            sampled += p.sampleBig(size) != null ? 1 : 0;
        }
        double chance = 1 / p.weight(size);
        assertEquals(n * chance, sampled, 5 * Math.sqrt(n * chance * (1 - chance)));
    }

    @Test
    void aSiteProfileCountsItsSamplesSizesLifetimesAndRemoteFrees() {
        Profiler p = new Profiler(1, 64, 1);
        SiteState s = p.site("parser");
        long thread = 7;
        for (int i = 0; i < 10; i++) {
            assertTrue(p.recordMalloc(s, 0x1000 + 16L * i, 100 + i, 50, T0 + i, thread));
        }
        // Lifetimes 1000, 2000, ..., 6000 ns; the odd ones freed by another thread.
        for (int i = 0; i < 6; i++) {
            assertTrue(p.freed(0x1000 + 16L * i, T0 + i + 1000L * (i + 1), i % 2 == 1 ? 8 : thread));
        }
        SiteProfile prof = p.profile(s, T0 + 20_000);
        assertEquals("parser", prof.name());
        assertEquals(10, prof.samples());
        assertEquals(10, prof.allocations());
        assertEquals(100 + 101 + 102 + 103 + 104 + 105 + 106 + 107 + 108 + 109, prof.bytes());
        assertEquals(0, prof.largeBytes());
        long[] h = prof.sizeHistogram();
        assertEquals(SizeGrid.BUCKETS, h.length);
        assertEquals(10, java.util.Arrays.stream(h).sum());
        assertEquals(4, h[SizeGrid.bucketOf(100)], "100 to 103 share a bucket");
        assertEquals(6, prof.lifetimes());
        assertEquals(3500, prof.meanLifetimeNanos());
        assertEquals(3000, prof.medianLifetimeNanos());
        assertEquals(6000, prof.p90LifetimeNanos());
        assertEquals(3, prof.remoteFrees());
        assertEquals(0.5, prof.remoteFreeShare());
        assertEquals(4, prof.liveSamples());
        assertEquals(List.of(20_000L - 9, 20_000L - 8, 20_000L - 7, 20_000L - 6), boxed(prof.liveAges()));
        assertEquals(0.8, prof.survivalShare(3000), 1e-12, "3000..6000 of the freed and all 4 live, of 10");
        assertNull(p.check());
    }

    /** A block that keeps its own sample, as a big block's mapping does: marked while the profiler counts it. */
    private static final class Holder implements Profiler.SampleHolder {
        final long address;
        boolean marked;
        SiteState site;
        long born;
        long thread;

        Holder(long address) {
            this.address = address;
        }

        @Override
        public void markSampled(SiteState site, long born, long thread) {
            this.site = site;
            this.born = born;
            this.thread = thread;
            marked = true;
        }

        @Override
        public SiteState sampleSite() {
            return site;
        }

        @Override
        public long sampleBorn() {
            return born;
        }

        @Override
        public long sampleThread() {
            return thread;
        }
    }

    /**
     * A big block keeps its own sample: it is counted as remembered without the table (whose bound here is 0), timed by
     * its thread's stripe clock, freed locally or remotely or lost, and check() matches each site with the blocks that
     * hold samples: one marked without a sample logged, or a logged sample whose block lost its mark, is found.
     */
    @Test
    void aBigBlockKeepsItsOwnSampleAndTheSitesCountIt() throws InterruptedException {
        long[] clock = {T0};
        Profiler p = new Profiler(1, 1, 0, 1, false, () -> clock[0]);
        List<Holder> blocks = List.of(new Holder(0x200000), new Holder(0x400000), new Holder(0x600000));
        p.heldByBlocks(visitor -> blocks.stream().filter(h -> h.marked)
                .forEach(h -> visitor.visit(h.address, h.site, h.born, h.thread)));
        SiteState s = p.site("vm");
        for (Holder h : blocks) {
            clock[0] += 1_000_000;
            p.sampledBig(s, 2L << 20, p.period(), 0, h);
            assertTrue(h.marked);
            assertSame(s, h.sampleSite());
        }
        assertEquals(0, p.sampledAddresses().length, "not in the table");
        assertNull(p.check());

        clock[0] += 5_000_000;
        Holder local = blocks.get(0);
        local.marked = false;
        p.freedBig(local);
        Holder remote = blocks.get(1);
        remote.marked = false;
        Thread other = new Thread(() -> p.freedBig(remote));
        other.start();
        other.join();
        assertNull(p.check());
        SiteProfile prof = p.profile(s, clock[0]);
        assertEquals(3, prof.samples());
        assertEquals(3L << 21, prof.bytes());
        assertEquals(3L << 21, prof.largeBytes());
        assertEquals(2, prof.lifetimes());
        assertEquals(1, prof.remoteFrees());
        assertEquals(List.of(6_000_000L, 7_000_000L), boxed(prof.recentLifetimes()).stream().sorted().toList(),
                "born at 1 and 2 ms, freed at 8 ms: each reading exact at stride 1, in either thread's stripe");
        assertEquals(1, prof.liveSamples());
        assertEquals(List.of(5_000_000L), boxed(prof.liveAges()));

        Holder live = blocks.get(2);
        live.marked = false;
        String problem = p.check();
        assertNotNull(problem, "a sample logged as remembered whose block lost its mark");
        assertTrue(problem.contains("remembers 1 sampled blocks not yet freed, but the table and the blocks that"
                + " hold their own samples hold 0"), problem);
        live.marked = true;
        assertNull(p.check());
        live.marked = false;
        p.lostBig(live);
        assertNull(p.check());
        assertEquals(0, p.profile(s, clock[0]).liveSamples());
        blocks.get(0).marked = true;
        assertNotNull(p.check(), "a mark no sample was logged for");
    }

    @Test
    void onlyTheMostRecentLifetimesMakeTheQuantilesButTheMeanHasThemAll() {
        Profiler p = new Profiler(1, 4, 1);
        SiteState s = p.site("churn");
        int n = SiteProfile.RECENT + 500;
        for (int i = 0; i < n; i++) {
            p.recordMalloc(s, 0x40, 16, 1, T0, 1);
            // The first 500 live 1 ns, the rest 100 ns.
            assertTrue(p.freed(0x40, T0 + (i < 500 ? 1 : 100), 1));
        }
        SiteProfile prof = p.profile(s, T0);
        assertEquals(n, prof.lifetimes());
        assertEquals(SiteProfile.RECENT, prof.recentLifetimes().length);
        assertEquals(100, prof.medianLifetimeNanos());
        assertEquals(Math.round((500 * 1.0 + SiteProfile.RECENT * 100.0) / n), prof.meanLifetimeNanos());
    }

    @Test
    void theMapIsBoundedAndAForgottenAddressIsForgottenOnce() {
        Profiler p = new Profiler(1, 2, 1);
        SiteState s = p.site("s");
        assertTrue(p.recordMalloc(s, 0x10, 8, 1, T0, 1));
        assertTrue(p.recordMalloc(s, 0x20, 8, 1, T0, 1));
        assertFalse(p.recordMalloc(s, 0x30, 8, 1, T0, 1), "a third is sampled but not remembered");
        assertFalse(p.freed(0x30, T0, 1), "a block not remembered has no lifetime");
        SiteProfile prof = p.profile(s, T0);
        assertEquals(3, prof.samples());
        assertEquals(2, prof.liveSamples());
        assertTrue(p.lost(0x10));
        assertFalse(p.lost(0x10));
        assertFalse(p.freed(0x10, T0, 1));
        assertTrue(p.recordMalloc(s, 0x30, 8, 1, T0, 1), "room again");
        assertNull(p.check());
        p.clear();
        assertEquals(0, p.profile(s, T0).liveSamples());
        assertNull(p.check());
    }

    @Test
    void everySampleLandsInExactlyOneWindow() {
        Profiler p = new Profiler(1, 0, 1);
        SiteState a = p.site("a");
        p.recordMalloc(a, 0x10, 100, 30, T0, 1);
        p.recordMalloc(null, 0x20, 5000, 70, T0, 1);
        WindowSample w = p.drainWindow();
        assertNotEquals(new WindowSample(0, 0, new long[SizeGrid.BUCKETS]), w, "a window with samples is not empty");
        assertEquals(2, w.sampledMallocs());
        assertEquals(100, w.sampledNanos());
        assertEquals(1, w.sizeHistogram()[SizeGrid.bucketOf(100)]);
        assertEquals(1, w.sizeHistogram()[SizeGrid.bucketOf(5000)]);
        assertEquals(new WindowSample(0, 0, new long[SizeGrid.BUCKETS]), p.drainWindow());
        p.recordMalloc(a, 0x30, 100, 5, T0, 1);
        assertNull(p.check(), "drained + current window == the sites' samples");
        assertEquals(1, p.drainWindow().sampledMallocs());
        assertEquals(1, p.profile(p.anonymous(), T0).samples(), "a null site is the anonymous one");
    }

    @Test
    void aWindowDrainedWhileThreadsSampleLosesAndDoublesNothing() throws InterruptedException {
        Profiler p = new Profiler(1, 0, 1);
        SiteState s = p.site("s");
        int threads = 2;
        int perThread = 50_000;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    p.recordMalloc(s, 0, 1 + ThreadLocalRandom.current().nextInt(4096), 1, T0, 1);
                }
            }));
        }
        long drained = 0;
        while (workers.stream().anyMatch(Thread::isAlive)) {
            WindowSample w = p.drainWindow();
            assertEquals(w.sampledMallocs(), java.util.Arrays.stream(w.sizeHistogram()).sum());
            assertEquals(w.sampledMallocs(), w.sampledNanos());
            drained += w.sampledMallocs();
        }
        for (Thread w : workers) {
            w.join();
        }
        drained += p.drainWindow().sampledMallocs();
        assertEquals((long) threads * perThread, drained);
        assertNull(p.check());
    }

    @Test
    void sitesAreOnePerNameAndBounded() {
        Profiler p = new Profiler(1, 0, 1);
        assertSame(p.site("x"), p.site("x"));
        assertSame(p.anonymous(), p.site(Profiler.ANONYMOUS));
        for (int i = 1; i < Profiler.MAX_SITES; i++) {
            p.site("site " + i);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.site("one too many"));
        assertTrue(e.getMessage().contains("one too many"), e.getMessage());
        assertEquals(Profiler.MAX_SITES, p.profiles(T0).size(), "every named site, not the silent anonymous one");
    }

    @Test
    void profilesAreSortedByBytes() {
        Profiler p = new Profiler(1, 0, 1);
        p.recordMalloc(p.site("small"), 0, 10, 1, T0, 1);
        p.recordMalloc(p.site("large"), 0, 1 << 20, 1, T0, 1);
        p.recordMalloc(null, 0, 1000, 1, T0, 1);
        assertEquals(List.of("large", Profiler.ANONYMOUS, "small"),
                p.profiles(T0).stream().map(SiteProfile::name).toList());
        assertEquals(1 << 20, p.profile(p.site("large"), T0).largeBytes());
    }

    /**
     * check() can fail: a second sample at an address never forgotten (its free skipped the profiler) is found, near
     * the bound (entries taken one at a time) and far from it (taken in batches, the rest idle in the allowance).
     */
    @ParameterizedTest
    @ValueSource(ints = {8, Profiler.DEFAULT_CAPACITY})
    void checkFindsAMapThatDisagreesWithTheSites(int capacity) {
        Profiler p = new Profiler(1, capacity, 1);
        SiteState s = p.site("s");
        p.recordMalloc(s, 0x10, 8, 1, T0, 1);
        p.recordMalloc(s, 0x10, 8, 1, T0, 1);
        String problem = p.check();
        assertNotNull(problem, "a second sample at an address never freed overwrote the first");
        assertTrue(problem.contains("remembers 1 sampled blocks but counts 2"), problem);
    }

    /** check() can fail: a forgotten block reported twice (a fold that told its site twice) is found. */
    @Test
    void checkFindsASiteThatForgotMoreThanItRemembered() {
        Profiler p = new Profiler(1, 8, 1);
        SiteState s = p.site("s");
        p.recordMalloc(s, 0x10, 8, 1, T0, 1);
        assertTrue(p.freed(0x10, T0 + 1, 1));
        assertNull(p.check());
        synchronized (s) {
            s.forgot();
        }
        String problem = p.check();
        assertNotNull(problem, "the site forgot 2 of the 1 block it remembered");
        assertTrue(problem.contains("1 remembered, 2 forgotten"), problem);
    }

    /** check() can fail: a site told of a sample the logs never held (a fold that told it twice) is found. */
    @Test
    void checkFindsASiteCountingASampleNoLogHeld() {
        Profiler p = new Profiler(1, 8, 1);
        SiteState s = p.site("s");
        p.recordMalloc(s, 0x10, 8, 1, T0, 1);
        assertTrue(p.freed(0x10, T0 + 1, 2));
        assertNull(p.check());
        synchronized (s) {
            s.sampled(8, 1, 1, false);
        }
        String problem = p.check();
        assertNotNull(problem, "the site counts 2 samples, the logs held 1");
        assertTrue(problem.contains("the sites count 2 samples"), problem);
        assertTrue(problem.contains("but the logs held 1 samples"), problem);
    }

    /** A learning heap rests at BALANCED's period, or at its learning period if longer; a period of 1 or 0 at itself. */
    @Test
    void theRestingPeriodIsBalancedsOrTheLongerLearningOneAndOneOrZeroRestAtThemselves() {
        assertEquals(Profiler.BALANCED_PERIOD, Profiler.restingPeriodFor(Profiler.DEFAULT_PERIOD));
        assertEquals(Profiler.BALANCED_PERIOD, Profiler.restingPeriodFor(2));
        assertEquals(4 * Profiler.BALANCED_PERIOD, Profiler.restingPeriodFor(4 * Profiler.BALANCED_PERIOD));
        assertEquals(1, Profiler.restingPeriodFor(1), "exact profiles stay exact");
        assertEquals(0, Profiler.restingPeriodFor(0), "a heap that samples nothing never starts");
    }

    /** Each heap gets a fresh generator state, and a profiler made with the same seed hands out the same ones. */
    @Test
    void seedsAreFreshAndReplayedFromTheSameSeed() {
        Profiler p = new Profiler(1000, 16, 7);
        long first = p.seed();
        long second = p.seed();
        assertNotEquals(first, second, "two heaps do not share a countdown generator");
        Profiler replay = new Profiler(1000, 16, 7);
        assertEquals(List.of(first, second), List.of(replay.seed(), replay.seed()));
    }

    /**
     * The overloads timed by the stripe's clock on this thread say, like the others, whether a block is remembered
     * (not when the table is full) and whether a free found one.
     */
    @Test
    void theClockTimedOverloadsSayWhetherABlockIsRemembered() {
        Profiler p = new Profiler(1, 1, 1, 1, false, () -> T0);
        SiteState s = p.site("s");
        assertTrue(p.recordMalloc(s, 0x10, 8, p.period(), 0));
        assertFalse(p.recordMalloc(s, 0x20, 8, p.period(), 0), "the bound of 1 is reached");
        assertFalse(p.freed(0x20), "never remembered");
        assertTrue(p.freed(0x10));
        assertFalse(p.freed(0x10), "forgotten once");
        assertNull(p.check());
    }

    /** Only a timed period times a malloc: its start is the time and took the time since; an untimed one's are 0. */
    @Test
    void onlyATimedPeriodTimesAMalloc() {
        Profiler.Period untimed = new Profiler(1, 16, 1, false).period();
        assertEquals(0, untimed.start());
        assertEquals(0, untimed.took(untimed.start()));
        Profiler.Period timed = new Profiler(1, 16, 1, true).period();
        long before = System.nanoTime();
        long start = timed.start();
        long between = System.nanoTime();
        long took = timed.took(start);
        long after = System.nanoTime();
        assertTrue(before <= start && start <= between, "start reads System.nanoTime()");
        assertTrue(between - start <= took && took <= after - start, "took is the time since start: " + took);
    }

    /** The bytes in blocks above 64 KiB are an estimate weighted as the bytes are: size / p(size) per sample. */
    @Test
    void largeBytesAreWeightedLikeBytes() {
        long period = Profiler.DEFAULT_PERIOD;
        Profiler p = new Profiler(period, 16, 1);
        SiteState s = p.site("big");
        long size = 128L << 10;
        p.recordMalloc(s, 0x10_0000, size, 0, T0, 1);
        p.recordMalloc(s, 0x20_0000, 64L << 10, 0, T0, 1);
        double big = size / (1 - Math.pow(1 - 1.0 / period, size));
        double small = (64L << 10) / (1 - Math.pow(1 - 1.0 / period, 64L << 10));
        SiteProfile prof = p.profile(s, T0);
        assertEquals(big, prof.largeBytes(), 1, "128 KiB at 512 KiB: p = 0.22, weight 4.5");
        assertEquals(big + small, prof.bytes(), 1, "a 64 KiB block is not above 64 KiB");
    }

    /** check() can fail: a sampled block of a site another profiler made (not a site of this heap) is found. */
    @Test
    void checkFindsASampleOfAnotherHeapsSite() {
        Profiler p = new Profiler(1, 8, 1);
        SiteState stranger = new Profiler(1, 8, 1).site("elsewhere");
        p.recordMalloc(stranger, 0x10, 8, 1, T0, 1);
        String problem = p.check();
        assertNotNull(problem);
        assertTrue(problem.contains("site elsewhere, which is not a site of this heap"), problem);
    }

    private static List<Long> boxed(long[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }
}
