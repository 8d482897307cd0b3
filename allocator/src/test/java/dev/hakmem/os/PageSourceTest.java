package dev.hakmem.os;

import dev.hakmem.PageSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PageSourceTest {
    static Stream<Arguments> sources() {
        return Stream.of(Arguments.of(PageSource.system()), Arguments.of(new ArenaPageSource()));
    }

    @ParameterizedTest
    @MethodSource("sources")
    void reservesAlignedZeroedMemoryAndDecommitZeroesIt(PageSource source) {
        long size = 4L << 20;
        long a = source.reserve(size, 2L << 20);
        try {
            assertEquals(0, a % (2L << 20));
            for (long off = 0; off < size; off += 4096) {
                assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + off));
            }
            Mem.fill(a, size, (byte) 9);
            source.decommit(a + 4096, 8192);
            assertEquals(9, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 4095));
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 4096));
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 12287));
            assertEquals(9, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 12288));
            source.commit(a + 4096, 8192);
        } finally {
            source.release(a, size);
        }
    }

    @Test
    void linuxGetsMmapAndItsFailuresCarryErrno() {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"));
        PageSource mmap = PageSource.system();
        assertTrue(mmap instanceof MmapPageSource, mmap.toString());
        OsException e = assertThrows(OsException.class, () -> mmap.release(4097, 4096));
        assertEquals(22, e.errno(), e.getMessage());
        assertTrue(e.getMessage().contains("EINVAL"), e.getMessage());
        assertEquals(12, assertThrows(OsException.class, () -> mmap.reserve(1L << 48, 4096)).errno(), "ENOMEM");
        assertThrows(IllegalArgumentException.class, () -> mmap.reserve(1000, 4096));
    }

    /** The sampled guard's watch on given-back pages: untouched, written or merely read, as mincore tells. */
    @Test
    void mmapTellsWhichPagesWereTouchedSinceTheyWereGivenBack() {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"));
        PageSource mmap = PageSource.system();
        long a = mmap.reserve(2L << 20, 2L << 20);
        try {
            assertTrue(mmap.trackResidency(a, 2L << 20));
            byte[] resident = new byte[4];
            mmap.residency(a, 4 * 4096, resident);
            assertArrayEquals(new byte[] {0, 0, 0, 0}, resident, "fresh pages are not resident");
            Mem.fill(a, 4 * 4096, (byte) 7);
            mmap.decommit(a + 4096, 3 * 4096);
            Mem.ALL.set(ValueLayout.JAVA_BYTE, a + 2 * 4096 + 100, (byte) 0);
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 3 * 4096 + 5));
            mmap.residency(a, 4 * 4096, resident);
            assertArrayEquals(new byte[] {1, 0, 1, 1}, resident, "written, given back, written with zero, read");
            assertThrows(OsException.class, () -> mmap.residency(a + 1, 4096, resident));
        } finally {
            mmap.release(a, 2L << 20);
        }
        assertEquals(false, new ArenaPageSource().trackResidency(a, 4096), "the portable source cannot tell");
    }

    @Test
    void mmapRefusesMalformedRequestsAndNamesEachFailedCall() {
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase().contains("linux"));
        PageSource mmap = PageSource.system();
        assertEquals("mmap", mmap.toString());
        assertEquals(4096, mmap.pageSize());
        for (long[] bad : new long[][]{{0, 4096}, {-4096, 4096}, {4096, 0}, {4096, 3 * 4096}, {4096, -4096}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> mmap.reserve(bad[0], bad[1]));
            assertEquals("reserve(" + bad[0] + ", " + bad[1] + ")", e.getMessage());
        }
        assertEquals("munmap(0x1001, 4096) failed: errno 22 (EINVAL)",
                assertThrows(OsException.class, () -> mmap.release(4097, 4096)).getMessage());
        assertEquals("madvise(0x1001, 4096, MADV_DONTNEED) failed: errno 22 (EINVAL)",
                assertThrows(OsException.class, () -> mmap.decommit(4097, 4096)).getMessage());
        assertEquals("mmap(" + (1L << 48) + ") failed: errno 12 (ENOMEM)",
                assertThrows(OsException.class, () -> mmap.reserve(1L << 48, 4096)).getMessage());
        assertEquals("mmap(" + ((1L << 48) + (1L << 21)) + ") failed: errno 12 (ENOMEM)",
                assertThrows(OsException.class, () -> mmap.reserve(1L << 48, 1L << 21)).getMessage(),
                "an aligned request maps its size plus the alignment, then trims");
    }

    @ParameterizedTest
    @MethodSource("sources")
    void everyAlignmentFromAPageUpIsHonouredAndTheWholeRangeIsUsable(PageSource source) {
        for (long alignment = 4096; alignment <= (8L << 20); alignment <<= 1) {
            long size = 3 * 4096;
            long a = source.reserve(size, alignment);
            try {
                assertEquals(0, a % alignment, "alignment " + alignment);
                Mem.fill(a, size, (byte) 1);
                assertEquals(1, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + size - 1));
            } finally {
                source.release(a, size);
            }
        }
    }
}
