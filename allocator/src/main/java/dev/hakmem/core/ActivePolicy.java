package dev.hakmem.core;

import dev.hakmem.Policy;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.stats.SizeGrid;
import dev.hakmem.tiny.TinyClasses;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * A {@link Policy} compiled for the hot path: which of the grid's classes a request goes to, and where the Big tier
 * starts. Immutable; the allocator publishes a new one with one volatile store and every call reads it once.
 *
 * <p>The heap's classes are fixed at start-up on the finest grid (W_MAX 1.0625: every pool size with 5 significant
 * bits). A policy activates a subset of them: W_MAX's classes, which lie on that grid for every W_MAX, plus its
 * bridge classes. Requests go to the smallest active class that holds them; the inactive classes' slabs stay valid,
 * so a block allocated under one policy is freed under any other, and a new policy applies to slabs carved after it.
 *
 * <pre>
 *   grid:    1088 1152 1216 1280 1344 1408 1472 1536 ...   (every class exists, most stay empty)
 *   W_MAX 1.25:              1280                1536 ...   (active: requests of 1025..1280 go to 1280)
 *   + bridge 1152:      1152 1280                1536 ...   (requests of 1025..1152 now go to 1152)
 *   site presized 1472:                     1472 1536 ...   (that site's requests of 1281..1472 go to 1472)
 * </pre>
 *
 * A site's rule may pre-size one class ({@link Policy.SiteRule#presize()}): for that site's requests it is one more
 * active class, a bridge of its own, so a site whose requests sit at one size is served from the grid class just
 * above it rather than from W_MAX's class further up (issue 10). Other sites and the anonymous one never see it.
 */
final class ActivePolicy {
    final Policy policy;
    /** Requests above this go to the Big tier. Invariant: == policy.bigThreshold(). */
    final long bigThreshold;
    private final SizeClasses grid;
    /**
     * Entry i: the class of {@code i * 16} bytes, up to Tiny's largest. The grid's own table, copied so that the hot
     * path reaches it in one load from the policy. Invariant: equals the grid's.
     */
    private final short[] tinyIndex;
    /** The active pool sizes, ascending: W_MAX's classes and the bridge classes. */
    private final int[] active;
    /**
     * Entry i: the grid class of the smallest active pool size of at least {@code i * GRANULE} bytes. Invariant: for
     * every i, that class's block size is in {@link #active} and no smaller active size holds {@code i * GRANULE}.
     */
    private final short[] poolIndex;

    ActivePolicy(SizeClasses grid, Policy policy) {
        this.policy = policy;
        this.grid = grid;
        this.bigThreshold = policy.bigThreshold();
        this.active = IntStream.concat(Arrays.stream(PoolClasses.sizes(policy.wMax())),
                Arrays.stream(policy.bridgeClasses())).sorted().distinct().toArray();
        tinyIndex = new short[TinyClasses.MAX / 16 + 1];
        for (int i = 0; i < tinyIndex.length; i++) {
            tinyIndex[i] = (short) grid.tinyClassOf(i * 16L);
        }
        poolIndex = new short[PoolClasses.MAX / PoolClasses.GRANULE + 1];
        int a = 0;
        for (int i = 0; i < poolIndex.length; i++) {
            long size = (long) i * PoolClasses.GRANULE;
            while (active[a] < size) {
                a++;
            }
            poolIndex[i] = (short) grid.classOf(active[a]);
        }
    }

    /** The class of a size in [0, {@link #bigThreshold}]. */
    int classOf(long size) {
        return size <= TinyClasses.MAX
                ? tinyIndex[(int) (size + 15) >>> 4]
                : poolIndex[(int) (size + PoolClasses.GRANULE - 1) >>> 6];
    }

    /**
     * The class of a size in [0, {@link #bigThreshold}] for a site pre-sized at {@code presize} bytes (0: none, or a
     * size of the grid): that class when it holds the size and is smaller than the active class, else the active
     * class.
     */
    int classOf(long size, int presize) {
        int cls = classOf(size);
        return size <= presize && presize < grid.blockSize(cls) ? grid.classOf(presize) : cls;
    }

    /**
     * The share of the bytes handed out that their requests asked for, for mallocs of the sampled sizes
     * {@code sizeHistogram} ({@link SizeGrid} buckets) under this policy's classes: 1 less the classes' internal
     * waste, which the live bytes (counted in whole blocks) do not show. Samples are drawn per byte, so a bucket's
     * count already weighs its sizes by their bytes; each stands for its bucket's middle size. Sizes above the big
     * threshold (rounded to pages only) and empty requests count as fully used; 1 when nothing was sampled.
     */
    double requestedShare(long[] sizeHistogram) {
        double requested = 0;
        double handedOut = 0;
        for (int b = 0; b < sizeHistogram.length; b++) {
            long middle = SizeGrid.low(b) + (SizeGrid.high(b) - SizeGrid.low(b)) / 2;
            if (sizeHistogram[b] == 0 || middle == 0) {
                continue;
            }
            long block = middle <= bigThreshold ? grid.blockSize(classOf(middle)) : middle;
            requested += sizeHistogram[b];
            handedOut += sizeHistogram[b] * (double) block / middle;
        }
        return handedOut == 0 ? 1 : requested / handedOut;
    }

    /** The first broken invariant (see the fields), or null. */
    String check() {
        if (bigThreshold != policy.bigThreshold()) {
            return "the compiled big threshold " + bigThreshold + " is not the policy's " + policy.bigThreshold();
        }
        for (int i = 0; i < tinyIndex.length; i++) {
            if (tinyIndex[i] != grid.tinyClassOf(i * 16L)) {
                return "requests of " + i * 16 + " bytes go to class " + tinyIndex[i] + ", not Tiny's class "
                        + grid.tinyClassOf(i * 16L);
            }
        }
        for (int i = TinyClasses.MAX / PoolClasses.GRANULE + 1; i < poolIndex.length; i++) {
            long size = (long) i * PoolClasses.GRANULE;
            int at = Arrays.binarySearch(active, grid.blockSize(poolIndex[i]));
            if (at < 0 || active[at] < size || (at > 0 && active[at - 1] >= size)) {
                return "requests of " + size + " bytes go to the " + grid.blockSize(poolIndex[i]) + "-byte class, not "
                        + "the smallest active class holding them (active: " + Arrays.toString(active) + ")";
            }
        }
        int[] presizes = policy.sites().values().stream().mapToInt(Policy.SiteRule::presize).filter(s -> s != 0)
                .distinct().toArray();
        for (int presize : presizes) {
            String problem = checkPresized(presize);
            if (problem != null) {
                return problem;
            }
        }
        return null;
    }

    /**
     * Every size's class for a site pre-sized at {@code presize}: the smallest of its active class (checked above)
     * and the pre-sized one that holds the size; each pool granule is tested at its edge and halfway inside.
     */
    private String checkPresized(int presize) {
        if (grid.blockSize(grid.classOf(presize)) != presize) {
            return "the pre-sized " + presize + " bytes are not a class of the grid";
        }
        for (long size = 0; size <= PoolClasses.MAX; size += size <= TinyClasses.MAX ? 1 : PoolClasses.GRANULE / 2) {
            int cls = classOf(size, presize);
            int active = grid.blockSize(classOf(size));
            long expected = presize >= size ? Math.min(presize, active) : active;
            if (grid.blockSize(cls) != expected) {
                return "a site pre-sized at " + presize + " bytes gets " + grid.blockSize(cls) + "-byte blocks for "
                        + size + " bytes, not " + expected;
            }
        }
        return null;
    }

    /**
     * The smallest class at least as large as the class of {@code size} for a site pre-sized at {@code presize} (see
     * {@link #classOf(long, int)}) whose blocks are all aligned to 2^log, or -1.
     */
    int alignedClassOf(long size, int presize, int alignLog) {
        return grid.alignedClassFrom(classOf(size, presize), alignLog);
    }
}
