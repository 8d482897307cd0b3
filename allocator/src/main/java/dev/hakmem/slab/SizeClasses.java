package dev.hakmem.slab;

import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats.Tier;
import dev.hakmem.pool.PoolClasses;
import dev.hakmem.tiny.TinyClasses;

import java.util.Arrays;

/**
 * Every size class served from slabs: Tiny's, then the pools' (which depend on W_MAX). A heap builds
 * {@link #grid()}, the pools' classes at the smallest W_MAX, which hold every other W_MAX's classes; its policy
 * picks the ones in use (see {@code core.ActivePolicy}). Maps a size to its class in
 * O(1) with two lookup tables, and gives each class its slab geometry.
 *
 * <p>Slab sizes: Tiny blocks live in 64 KiB slabs (32 per SuperSlab), Large ones (above 64 KiB) in a whole 2 MiB
 * SuperSlab. A Mid class's slab is the smallest power of two from 64 KiB up that holds {@link #MID_BLOCKS} of its
 * blocks, at most the whole SuperSlab ({@link #midShift}):
 * <pre>
 *   block     1-2 KiB   2-4 KiB   4-8 KiB   8-16 KiB   16-32 KiB   32-64 KiB
 *   slab      64 KiB    128 KiB   256 KiB   512 KiB    1 MiB       2 MiB
 *   blocks    64-32     64-32     64-32     64-32      64-32       64-32
 * </pre>
 * A slab always holds at least two blocks and at most 4096, so block indices fit in a {@code char}.
 */
public final class SizeClasses {
    public static final int SMALL_SHIFT = 16;
    public static final int LARGE_SHIFT = 21;
    /** Exact division by block size through multiplication: {@code off / bs == (off * recip) >>> RECIP_SHIFT}. */
    static final int RECIP_SHIFT = 42;
    /** Alignments up to the SuperSlab size can be served from slabs. */
    public static final int MAX_ALIGN_LOG = LARGE_SHIFT;
    /**
     * The fewest blocks a Mid slab holds (unless it fills a SuperSlab, which 32 blocks of 32 to 64 KiB do). A class's
     * live blocks spread over fewer slabs the more each holds, so more of its frees land on the current slab, whose
     * free stack the next malloc pops, and fewer mallocs pay a refill (issue 11, mid_large_mt_64k: 256 live blocks of
     * 8 to 64 KiB over 13 classes. With slabs of 8 blocks of 64 KiB, as 512 KiB held, the four largest classes each
     * spread about 36 live blocks over five slabs: one malloc in six refilled, and slabs emptied, retired and were
     * carved again, in other classes' slots too. With 32, one in 130 refills). A slab's size bounds only its
     * address space: a carve touches a slab's pages block by block, as a class reaches a new peak of live blocks,
     * and a Mid class reuses any of its slabs' freed blocks before it carves (see {@code ThreadHeap}).
     */
    public static final int MID_BLOCKS = 32;

    private final int count;
    private final int[] blockSize;
    private final int[] slabShift;
    private final Tier[] tier;
    private final short[] tinyIndex;
    private final short[] poolIndex;
    /** [log2 alignment][class] -> smallest class at least as large whose blocks all have that alignment, or -1. */
    private final short[][] alignedClass;

    public SizeClasses(double wMax) {
        int[] tiny = TinyClasses.sizes();
        int[] pool = PoolClasses.sizes(wMax);
        count = tiny.length + pool.length;
        if (count > Short.MAX_VALUE) {
            throw new IllegalArgumentException("too many size classes for W_MAX " + wMax + ": " + count);
        }
        blockSize = new int[count];
        System.arraycopy(tiny, 0, blockSize, 0, tiny.length);
        System.arraycopy(pool, 0, blockSize, tiny.length, pool.length);
        slabShift = new int[count];
        tier = new Tier[count];
        for (int c = 0; c < count; c++) {
            int bs = blockSize[c];
            tier[c] = bs <= TinyClasses.MAX ? Tier.TINY : bs <= PoolClasses.MID_MAX ? Tier.MID : Tier.LARGE;
            slabShift[c] = tier[c] == Tier.TINY ? SMALL_SHIFT : tier[c] == Tier.MID ? midShift(bs) : LARGE_SHIFT;
        }
        tinyIndex = new short[TinyClasses.MAX / 16 + 1];
        fillIndex(tinyIndex, 16, 0);
        poolIndex = new short[PoolClasses.MAX / PoolClasses.GRANULE + 1];
        fillIndex(poolIndex, PoolClasses.GRANULE, tiny.length);
        alignedClass = new short[MAX_ALIGN_LOG + 1][count];
        for (int k = 0; k <= MAX_ALIGN_LOG; k++) {
            long align = 1L << k;
            for (int c = count - 1; c >= 0; c--) {
                boolean fits = blockSize[c] % align == 0 && align <= (1L << slabShift[c]);
                alignedClass[k][c] = (short) (fits ? c : c == count - 1 ? -1 : alignedClass[k][c + 1]);
            }
        }
    }

    /** A Mid class's slab size, log2: the smallest from 64 KiB up that holds {@link #MID_BLOCKS}, at most 2 MiB. */
    static int midShift(int blockSize) {
        int shift = SMALL_SHIFT;
        while (shift < LARGE_SHIFT && (1 << shift) / blockSize < MID_BLOCKS) {
            shift++;
        }
        return shift;
    }

    /** The classes of the finest W_MAX: a superset of every other W_MAX's classes. */
    public static SizeClasses grid() {
        return new SizeClasses(HakMemConfig.MIN_W_MAX);
    }

    /** Entry i holds the smallest class of at least {@code i * granule} bytes, searching from class {@code from}. */
    private void fillIndex(short[] index, int granule, int from) {
        int c = from;
        for (int i = 0; i < index.length; i++) {
            long size = (long) i * granule;
            while (c < count && blockSize[c] < size) {
                c++;
            }
            index[i] = (short) Math.min(c, count - 1);
        }
    }

    public int count() {
        return count;
    }

    /** The largest size served from slabs; larger requests go to the Big tier. */
    public long maxSize() {
        return PoolClasses.MAX;
    }

    /** The class of a size in [0, maxSize()]. Tiny: one table on 16-byte steps; pools: one on 64-byte steps. */
    public int classOf(long size) {
        return size <= TinyClasses.MAX
                ? tinyClassOf(size)
                : poolIndex[(int) (size + PoolClasses.GRANULE - 1) >>> 6];
    }

    /** The class of a size in [0, 1 KiB]. */
    public int tinyClassOf(long size) {
        return tinyIndex[(int) (size + 15) >>> 4];
    }

    /** The smallest class holding {@code size} bytes whose every block is aligned to {@code 2^alignLog}, or -1. */
    public int alignedClassOf(long size, int alignLog) {
        return alignedClassFrom(classOf(size), alignLog);
    }

    /** The smallest class from {@code cls} up whose every block is aligned to {@code 2^alignLog}, or -1. */
    public int alignedClassFrom(int cls, int alignLog) {
        return alignLog > MAX_ALIGN_LOG ? -1 : alignedClass[alignLog][cls];
    }

    public int blockSize(int cls) {
        return blockSize[cls];
    }

    public int slabShift(int cls) {
        return slabShift[cls];
    }

    public Tier tier(int cls) {
        return tier[cls];
    }

    /** Blocks per slab of this class. */
    public int capacity(int cls) {
        return (1 << slabShift[cls]) / blockSize[cls];
    }

    /** {@code floor(2^42 / bs) + 1}: exact for every offset below 2^21 and block size below 2^21. */
    static long reciprocal(int blockSize) {
        return (1L << RECIP_SHIFT) / blockSize + 1;
    }

    @Override
    public String toString() {
        return "SizeClasses" + Arrays.toString(blockSize);
    }
}
