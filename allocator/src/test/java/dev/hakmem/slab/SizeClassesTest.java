package dev.hakmem.slab;

import dev.hakmem.HakMemConfig;
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
}
