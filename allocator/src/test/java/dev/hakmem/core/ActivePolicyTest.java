package dev.hakmem.core;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.Policy;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.stats.SizeGrid;
import dev.hakmem.tiny.TinyClasses;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A policy compiled for the hot path routes every size to the smallest class its policy makes active. */
class ActivePolicyTest {
    private static final SizeClasses GRID = SizeClasses.grid();

    /** Random valid policies: every W_MAX the learner tries and some between, with and without bridge classes. */
    private static List<Policy> policies() {
        List<Policy> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(7);
        double[] wMaxes = {HakMemConfig.MIN_W_MAX, 1.125, 1.25, 1.3, 1.5, 1.75, HakMemConfig.MAX_W_MAX};
        for (double w : wMaxes) {
            for (int bridges = 0; bridges <= Policy.MAX_BRIDGE_CLASSES; bridges += 4) {
                TreeSet<Integer> b = new TreeSet<>();
                while (b.size() < bridges) {
                    int size = GRID.blockSize(r.nextInt(TinyClasses.sizes().length, GRID.count()));
                    b.add(size);
                }
                long threshold = Policy.MIN_BIG_THRESHOLD << r.nextInt(5);
                out.add(Policy.builder().wMax(w).bigThreshold(threshold)
                        .retainBytes(r.nextLong(0, 128L << 20)).purgeDelayMillis(r.nextLong(0, 2000))
                        .bridgeClasses(b.stream().mapToInt(Integer::intValue).toArray()).build());
            }
        }
        return out;
    }

    @Test
    void everySizeGoesToTheSmallestActiveClassHoldingIt() {
        for (Policy p : policies()) {
            ActivePolicy a = new ActivePolicy(GRID, p);
            assertNull(a.check(), p.toString());
            TreeSet<Integer> active = new TreeSet<>();
            Arrays.stream(TinyClasses.sizes()).forEach(active::add);
            Arrays.stream(PoolClasses.sizes(p.wMax())).forEach(active::add);
            Arrays.stream(p.bridgeClasses()).forEach(active::add);
            for (long size = 0; size <= a.bigThreshold; size += size < 4096 ? 1 : 61) {
                int cls = a.classOf(size);
                int expected = active.ceiling((int) Math.max(size, 1));
                assertEquals(expected, GRID.blockSize(cls), p + ", size " + size);
                if (size > TinyClasses.MAX && p.bridgeClasses().length == 0) {
                    assertTrue(GRID.blockSize(cls) <= size * p.wMax(), p + ", size " + size);
                }
            }
        }
    }

    /**
     * A pre-sized site's request goes to the smallest of the active classes and its pre-sized one that holds it; the
     * same size from the anonymous site to the smallest active class.
     */
    @Test
    void aPreSizedSitesRequestGoesToItsClassWhenThatIsTheSmallestHoldingIt() {
        SplittableRandom r = new SplittableRandom(13);
        for (Policy p : policies()) {
            int presize = GRID.blockSize(r.nextInt(TinyClasses.sizes().length, GRID.count()));
            ActivePolicy a = new ActivePolicy(GRID, p.toBuilder().site(new Policy.SiteRule("s", false, false, presize))
                    .build());
            assertNull(a.check(), p.toString());
            TreeSet<Integer> active = new TreeSet<>();
            Arrays.stream(TinyClasses.sizes()).forEach(active::add);
            Arrays.stream(PoolClasses.sizes(p.wMax())).forEach(active::add);
            Arrays.stream(p.bridgeClasses()).forEach(active::add);
            TreeSet<Integer> site = new TreeSet<>(active);
            site.add(presize);
            for (long size = 0; size <= a.bigThreshold; size += size < 4096 ? 1 : 61) {
                int least = (int) Math.max(size, 1);
                assertEquals(site.ceiling(least), GRID.blockSize(a.classOf(size, presize)), p + ", size " + size);
                assertEquals(active.ceiling(least), GRID.blockSize(a.classOf(size)), p + ", size " + size);
            }
        }
    }

    @Test
    void alignedRequestsGetAnAlignedClassNoSmallerThanTheActiveOne() {
        for (Policy p : policies()) {
            ActivePolicy a = new ActivePolicy(GRID, p);
            for (int log = 5; log <= SizeClasses.MAX_ALIGN_LOG; log += 3) {
                for (long size = 1; size <= a.bigThreshold; size += 997) {
                    int cls = a.alignedClassOf(size, 0, log);
                    if (cls >= 0) {
                        assertTrue(GRID.blockSize(cls) >= GRID.blockSize(a.classOf(size)));
                        assertEquals(0, GRID.blockSize(cls) % (1L << log));
                    }
                }
            }
        }
    }

    /**
     * Blocks allocated under one policy are resized and freed under the next: publishing never moves a block, and
     * the heap's invariants and accounting hold across every change.
     */
    @Test
    void blocksOutliveThePolicyTheyWereAllocatedUnder() throws Exception {
        try (HakMem heap = HakMem.create()) {
            Allocator allocator = allocatorOf(heap);
            SplittableRandom r = new SplittableRandom(11);
            List<long[]> live = new ArrayList<>();
            for (Policy p : policies()) {
                allocator.publish(p);
                assertEquals(p, allocator.policy());
                for (int i = 0; i < 200; i++) {
                    long size = r.nextLong(1, 3L << 20);
                    if (r.nextBoolean() && !live.isEmpty()) {
                        long[] b = live.remove(r.nextInt(live.size()));
                        long moved = heap.realloc(b[0], size);
                        assertTrue(heap.usableSize(moved) >= size);
                        heap.free(moved);
                    } else {
                        long a = heap.malloc(size);
                        assertTrue(heap.usableSize(a) >= size);
                        boolean big = size > p.bigThreshold();
                        assertEquals(big, heap.usableSize(a) >= (2L << 20), "size " + size + " under " + p);
                        live.add(new long[] {a, size});
                    }
                }
                heap.check();
            }
            for (long[] b : live) {
                heap.free(b[0]);
            }
            heap.check();
            assertEquals(0, heap.stats().liveBlocks());
        }
    }

    static Allocator allocatorOf(HakMem heap) throws ReflectiveOperationException {
        var f = HakMem.class.getDeclaredField("allocator");
        f.setAccessible(true);
        return (Allocator) f.get(heap);
    }
    /**
     * The requested share of a window's sampled sizes is each bucket's middle over its block, weighted by the
     * samples; a coarser W_MAX of the learner's ladder (whose classes are a subset of a finer one's) never hands out
     * less waste, and a histogram of two buckets lies between its buckets' shares.
     */
    @Test
    void theRequestedShareIsTheClassesInternalWasteOverTheSampledSizes() {
        double[] ladder = {1.0625, 1.125, 1.25, 1.5, 2};
        assertEquals(1, new ActivePolicy(GRID, Policy.defaults()).requestedShare(new long[SizeGrid.BUCKETS]));
        for (int b = 1; b < SizeGrid.BUCKETS && SizeGrid.high(b) < PoolClasses.MAX; b++) {
            long[] one = new long[SizeGrid.BUCKETS];
            one[b] = 5;
            long middle = SizeGrid.low(b) + (SizeGrid.high(b) - SizeGrid.low(b)) / 2;
            double previous = 1;
            for (double w : ladder) {
                ActivePolicy a = new ActivePolicy(GRID, Policy.builder().wMax(w).build());
                double share = a.requestedShare(one);
                assertEquals((double) middle / GRID.blockSize(a.classOf(middle)), share, 1e-12, w + ", bucket " + b);
                assertTrue(share <= previous && share > 0, w + ", bucket " + b + ": " + share + " after " + previous);
                previous = share;
                long[] two = one.clone();
                two[SizeGrid.bucketOf(100_000)] += 3;
                double other = a.requestedShare(only(SizeGrid.bucketOf(100_000)));
                double mixed = a.requestedShare(two);
                assertTrue(mixed >= Math.min(share, other) - 1e-12 && mixed <= Math.max(share, other) + 1e-12,
                        w + ", bucket " + b + ": " + mixed);
            }
        }
    }

    private static long[] only(int bucket) {
        long[] h = new long[SizeGrid.BUCKETS];
        h[bucket] = 1;
        return h;
    }
}
