package dev.hakmem.fuzz;

import dev.hakmem.FuzzHeaps;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.Policy;
import dev.hakmem.Site;
import dev.hakmem.site.Profiler;
import dev.hakmem.verify.ShadowHeap;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A heap under test with its shadow, built over a {@link TrackingPageSource} so closing it can be checked too. Its
 * policy gives rules to two of its {@link #SITES} (a long-lived one and a direct one) and pre-sizes each as the
 * policy published says.
 */
final class TestHeap implements AutoCloseable {
    /** The sites the actions allocate through: neither long-lived nor direct, long-lived, long-lived and direct. */
    static final String[] SITES = {"plain", "long-lived", "direct"};

    /**
     * {@code knobs} with the rules of {@link #SITES}: the second long-lived, the third long-lived and direct, each
     * with the pre-sized class {@code knobs} gives it, if any ({@link Gen#policy()} gives one to each).
     */
    private static Policy withSiteRules(Policy knobs) {
        return knobs.toBuilder().clearSites()
                .site(rule(knobs, 0, false, false))
                .site(rule(knobs, 1, true, false))
                .site(rule(knobs, 2, true, true))
                .build();
    }

    private static Policy.SiteRule rule(Policy knobs, int k, boolean longLived, boolean direct) {
        Policy.SiteRule given = knobs.site(SITES[k]);
        return new Policy.SiteRule(SITES[k], longLived, direct, given == null ? 0 : given.presize());
    }

    /** Three ticks of the maintenance thread (20 ms each); one reaps and reclaims. */
    private static final long SETTLE_MILLIS = 60;

    final HakMem heap;
    final ShadowHeap shadow;
    private final TrackingPageSource pages;
    private final boolean limited;
    /** One request per tier (Tiny, Mid, Large, Big) for the close-then-use checks. */
    private static final long[] CLOSE_SIZES = {24, 3000, 200_000, 3 * Gen.MIB};

    /**
     * Whether every allocation is sampled and no guard level is on, so the sites' profiles must match the shadow's
     * (full mode's blocks carry headers; a sampled mode's guarded malloc leaves the profiler's countdown alone, so its
     * block is not profiled).
     */
    private final boolean exactProfiles;

    /** The knobs the heap started with and those the chain published (see {@link #learnerSteps()}). */
    private final Set<Policy> chainKnobs = new HashSet<>();
    /** See {@link #learnerSteps()}. */
    private int learnerSteps;

    /** A second heap, for blocks that are not this one's; created on first use. */
    private HakMem other;

    TestHeap(HakMemConfig config) {
        this(config, Profiler.DEFAULT_PERIOD);
    }

    /** A heap sampling one byte in {@code samplePeriod}. */
    TestHeap(HakMemConfig config, long samplePeriod) {
        this(config, new TrackingPageSource(), samplePeriod);
    }

    /** A heap whose page source fails each call with probability {@code failureRate}. */
    TestHeap(HakMemConfig config, long faultSeed, double failureRate) {
        this(config, new TrackingPageSource(faultSeed, failureRate), Profiler.DEFAULT_PERIOD);
    }

    private TestHeap(HakMemConfig config, TrackingPageSource pages, long samplePeriod) {
        this.pages = pages;
        this.limited = config.mappedLimit() != Long.MAX_VALUE;
        this.heap = FuzzHeaps.create(config.toBuilder().pageSource(pages).build(), samplePeriod,
                withSiteRules(config.policy()));
        this.shadow = new ShadowHeap(heap);
        chainKnobs.add(knobs(heap.policy()));
        this.exactProfiles = samplePeriod == 1 && !config.guard().enabled() && !config.guard().sampling();
    }

    /** Puts {@code knobs} in force (with the sites' rules), as a learner would, under the actions' feet. */
    void publish(Policy knobs) {
        chainKnobs.add(knobs(knobs));
        FuzzHeaps.publish(heap, withSiteRules(knobs));
    }

    /**
     * How many steps ended under knobs of the learner's own choosing (a candidate on trial, or one it adopted): knobs
     * that neither the heap started with nor the chain published. A learner putting its best knobs back over the
     * chain's, or changing only site rules, does not count.
     */
    int learnerSteps() {
        return learnerSteps;
    }

    /** A policy's knobs: the policy without its site rules. */
    private static Policy knobs(Policy p) {
        return p.toBuilder().clearSites().build();
    }

    /** Site {@code k} of {@link #SITES}, or null (the anonymous site) for a negative {@code k}. */
    Site site(int k) {
        return k < 0 ? null : heap.site(SITES[k]);
    }

    /** How a step names the site it allocates through. */
    static String siteName(int k) {
        return k < 0 ? "" : "site(" + SITES[k] + ").";
    }

    /** Whether a valid allocation may fail with HakMemOutOfMemoryError: faults are injected or mapping is capped. */
    boolean mayRunOutOfMemory() {
        return limited || pages.injectsFaults();
    }

    HakMem other() {
        if (other == null) {
            other = HakMem.create();
        }
        return other;
    }

    /**
     * On the quiescent heap: the stats against the shadow's ledger (live blocks and bytes, and per tier and class the
     * mallocs and frees; when every allocation is sampled, per site the allocations, bytes, lifetimes and live
     * blocks), and mapped and committed bytes against the page source's ledger.
     */
    void reconcileStats() throws InterruptedException {
        if (!chainKnobs.contains(knobs(heap.policy()))) {
            learnerSteps++;
        }
        shadow.assertStatsAgree();
        if (exactProfiles) {
            shadow.assertSitesAgree();
        }
        assertPagesAgree();
    }

    /** {@link #reconcileStats}, and the allocator's own identities and invariants in {@code check()}. */
    void reconcile() throws InterruptedException {
        reconcileStats();
        heap.check();
    }

    /** The end of every run, on a quiescent heap: all checks, then everything freed and nothing left counted. */
    void finish() throws InterruptedException {
        shadow.verifyAll();
        reconcile();
        shadow.freeAll();
        HakMemStats stats = heap.stats();
        if (stats.liveBytes() != 0 || stats.liveBlocks() != 0) {
            throw new AssertionError("after freeing every block the heap still counts " + stats.liveBlocks()
                    + " blocks of " + stats.liveBytes() + " bytes");
        }
        reconcile();
    }

    /**
     * Closes the heap without guard mode's leak warning, which the blocks kept live on purpose for the checks after
     * the close would raise in every guarded try.
     */
    private void closeQuietly() {
        Logger log = Logger.getLogger("dev.hakmem");
        Level level = log.getLevel();
        log.setLevel(Level.SEVERE);
        try {
            heap.close();
        } finally {
            log.setLevel(level);
        }
    }

    /**
     * Fills this thread's caches in every tier (current slabs' free lists, the slab cache, the big tier's cache):
     * allocates a burst per tier, frees every other block, and returns the blocks left live.
     */
    private List<Long> warmEveryTier() {
        List<Long> live = new ArrayList<>();
        for (long size : CLOSE_SIZES) {
            for (int i = 0; i < 8; i++) {
                try {
                    long a = heap.malloc(size);
                    if (i % 2 == 0) {
                        live.add(a);
                    } else {
                        heap.free(a);
                    }
                } catch (HakMemOutOfMemoryError e) {
                    break;
                }
            }
        }
        return live;
    }

    /** What a closed heap must do from any thread: refuse every block operation, report nothing held. */
    private void useAfterClose(List<Long> live) {
        for (long a : live) {
            assertThrows(IllegalStateException.class, () -> heap.free(a), "free after close");
            assertThrows(IllegalStateException.class, () -> heap.usableSize(a), "usableSize after close");
            assertThrows(IllegalStateException.class, () -> heap.realloc(a, 1), "realloc after close");
        }
        for (long size : CLOSE_SIZES) {
            assertThrows(IllegalStateException.class, () -> heap.malloc(size), "malloc after close");
            assertThrows(IllegalStateException.class, () -> heap.calloc(1, size), "calloc after close");
            assertThrows(IllegalStateException.class, () -> heap.mallocAligned(size, 64), "aligned after close");
        }
        assertThrows(IllegalStateException.class, heap::check, "check after close");
        heap.free(0);
        HakMemStats s = heap.stats();
        if (s.mappedBytes() != 0 || s.committedBytes() != 0 || s.liveBlocks() != 0 || s.liveBytes() != 0) {
            throw new AssertionError("a closed heap still counts " + s.mappedBytes() + " bytes mapped, "
                    + s.committedBytes() + " committed, " + s.liveBlocks() + " blocks of " + s.liveBytes()
                    + " bytes live");
        }
    }

    /**
     * Waits past several ticks of the maintenance thread, which reaps the heaps of dead threads and reclaims their
     * emptied SuperSlabs (moving their counts to the heap's), then reconciles again.
     */
    void settle() throws InterruptedException {
        Thread.sleep(SETTLE_MILLIS);
        reconcile();
    }

    /**
     * {@code stats().mappedBytes()} must be what the page source has reserved and not released, and
     * {@code committedBytes()} the part of it not decommitted. The maintenance thread may be between a page source
     * call and its bookkeeping, so a difference must persist before it counts.
     */
    private void assertPagesAgree() throws InterruptedException {
        HakMemStats stats = null;
        long reserved = 0;
        long committed = 0;
        for (int attempt = 0; attempt < 20; attempt++) {
            stats = heap.stats();
            reserved = pages.reservedBytes();
            committed = pages.committedBytes();
            if (stats.mappedBytes() == reserved && stats.committedBytes() == committed) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("stats() counts " + stats.mappedBytes() + " bytes mapped, " + stats.committedBytes()
                + " committed, but the page source has " + reserved + " reserved, " + committed + " committed: "
                + pages.outstanding());
    }

    /**
     * Closes the heap and checks that it used its page source correctly, gave every mapping back, and refuses to
     * be used afterwards: on this thread, whose caches are warmed in every tier first, and on a virtual thread
     * (the shared heaps), for blocks live at the close and for fresh requests in every tier.
     */
    @Override
    public void close() {
        if (other != null) {
            other.close();
        }
        pages.stopFaults();
        List<Long> live = new ArrayList<>();
        shadow.blocks().forEach(b -> live.add(b.address()));
        live.addAll(warmEveryTier());
        closeQuietly();
        useAfterClose(live);
        try {
            Workers.run("closed", true, List.of(() -> useAfterClose(live)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while using the closed heap from a virtual thread", e);
        }
        heap.close();
        List<String> violations = pages.violations();
        if (!violations.isEmpty()) {
            throw new AssertionError("the heap misused its page source: " + violations);
        }
        List<String> outstanding = pages.outstanding();
        if (!outstanding.isEmpty()) {
            throw new AssertionError("close() left " + outstanding.size() + " mappings reserved: " + outstanding);
        }
    }
}
