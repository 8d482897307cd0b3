package dev.hakmem.slab;

import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats.Tier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SizeClassesTest {

    @ParameterizedTest
    @ValueSource(doubles = {HakMemConfig.MIN_W_MAX, 1.125, 1.25, 1.5, HakMemConfig.MAX_W_MAX})
    void everySizeMapsToTheSmallestClassThatHoldsIt(double wMax) {
        SizeClasses sc = new SizeClasses(wMax);
        int c = 0;
        for (long size = 0; size <= sc.maxSize(); size++) {
            while (sc.blockSize(c) < size) {
                c++;
            }
            assertEquals(c, sc.classOf(size), "size " + size);
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {HakMemConfig.MIN_W_MAX, 1.125, 1.25, 1.5, HakMemConfig.MAX_W_MAX})
    void poolClassesNeverRoundUpByMoreThanWMax(double wMax) {
        SizeClasses sc = new SizeClasses(wMax);
        for (int c = 1; c < sc.count(); c++) {
            int prev = sc.blockSize(c - 1);
            int cur = sc.blockSize(c);
            assertTrue(cur > prev);
            assertEquals(0, cur % 16, "16-byte multiple");
            if (prev >= 1024) {
                assertTrue(cur <= prev * wMax, prev + " -> " + cur);
            }
            assertTrue(sc.capacity(c) >= 2 && sc.capacity(c) <= 4096, "capacity of " + cur);
        }
        assertEquals(1 << 20, sc.blockSize(sc.count() - 1));
    }

    @ParameterizedTest
    @ValueSource(doubles = {HakMemConfig.MIN_W_MAX, 1.25, HakMemConfig.MAX_W_MAX})
    void reciprocalDivisionIsExactOverEveryOffsetOfEverySlab(double wMax) {
        SizeClasses sc = new SizeClasses(wMax);
        for (int c = 0; c < sc.count(); c++) {
            int bs = sc.blockSize(c);
            long recip = SizeClasses.reciprocal(bs);
            for (long off = 0; off < (1L << sc.slabShift(c)); off++) {
                long q = (off * recip) >>> SizeClasses.RECIP_SHIFT;
                if (q != off / bs) {
                    throw new AssertionError("block size " + bs + ", offset " + off + ": " + q);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(doubles = {1.125, 1.25})
    void alignedClassesHoldTheSizeAndAlignEveryBlock(double wMax) {
        SizeClasses sc = new SizeClasses(wMax);
        for (int log = 0; log <= SizeClasses.MAX_ALIGN_LOG; log++) {
            for (long size = 0; size <= sc.maxSize(); size += 61) {
                int c = sc.alignedClassOf(size, log);
                if (c >= 0) {
                    assertTrue(sc.blockSize(c) >= size);
                    assertEquals(0, sc.blockSize(c) % (1L << log));
                    assertTrue((1L << log) <= (1L << sc.slabShift(c)));
                } else {
                    assertTrue(log > 4, "small alignments are always served: size " + size + " log " + log);
                }
            }
        }
    }

    /**
     * Every Mid class's slab is the smallest from 64 KiB up that holds {@link SizeClasses#MID_BLOCKS} blocks, or the
     * whole SuperSlab; Tiny's are 64 KiB and Large's the SuperSlab.
     */
    @ParameterizedTest
    @ValueSource(doubles = {HakMemConfig.MIN_W_MAX, 1.125, 1.25, 1.5, HakMemConfig.MAX_W_MAX})
    void everyMidSlabHoldsMidBlocksInTheSmallestSlabThatCan(double wMax) {
        SizeClasses sc = new SizeClasses(wMax);
        for (int c = 0; c < sc.count(); c++) {
            int shift = sc.slabShift(c);
            String what = "class " + c + " of " + sc.blockSize(c) + " B in slabs of 2^" + shift;
            switch (sc.tier(c)) {
                case TINY -> assertEquals(SizeClasses.SMALL_SHIFT, shift, what);
                case LARGE -> assertEquals(SizeClasses.LARGE_SHIFT, shift, what);
                default -> {
                    assertTrue(sc.capacity(c) >= SizeClasses.MID_BLOCKS || shift == SizeClasses.LARGE_SHIFT, what);
                    assertTrue(shift == SizeClasses.SMALL_SHIFT
                            || (1 << (shift - 1)) / sc.blockSize(c) < SizeClasses.MID_BLOCKS, what + ": too large");
                }
            }
        }
    }

    /** The tiers as HakMemStats.Tier documents them, and each tier's slab size, at the exact bounds. */
    @Test
    void tiersAndSlabSizesChangeExactlyAtTheirBounds() {
        SizeClasses sc = new SizeClasses(1.25);
        int tinyMax = sc.classOf(1024);
        assertEquals(1024, sc.blockSize(tinyMax));
        assertEquals(Tier.TINY, sc.tier(tinyMax));
        assertEquals(Tier.MID, sc.tier(sc.classOf(1025)));
        int midMax = sc.classOf(64 << 10);
        assertEquals(64 << 10, sc.blockSize(midMax));
        assertEquals(Tier.MID, sc.tier(midMax));
        assertEquals(SizeClasses.LARGE_SHIFT, sc.slabShift(midMax), "32 blocks of 64 KiB fill a SuperSlab");
        int large = sc.classOf((64 << 10) + 1);
        assertEquals(Tier.LARGE, sc.tier(large));
        assertEquals(SizeClasses.LARGE_SHIFT, sc.slabShift(large));
        int small = sc.classOf(8 << 10);
        assertEquals(8 << 10, sc.blockSize(small));
        assertEquals(SizeClasses.SMALL_SHIFT + 2, sc.slabShift(small), "32 blocks of 8 KiB: 256 KiB");
        assertEquals(SizeClasses.SMALL_SHIFT + 3, sc.slabShift(sc.classOf((8 << 10) + 1)), "just over 8 KiB: 512 KiB");
        assertEquals(SizeClasses.SMALL_SHIFT, sc.slabShift(tinyMax));
        assertEquals(SizeClasses.SMALL_SHIFT, sc.slabShift(sc.classOf(1025)), "over 32 blocks in 64 KiB");
        int top = sc.classOf(sc.maxSize());
        assertEquals(top, sc.alignedClassOf(sc.maxSize(), 20),
                "1 MiB blocks are aligned to 1 MiB");
        assertEquals(-1, sc.alignedClassOf(16, SizeClasses.MAX_ALIGN_LOG + 1));
        assertTrue(sc.toString().startsWith("SizeClasses[16, 32, "), sc.toString());
    }
}
