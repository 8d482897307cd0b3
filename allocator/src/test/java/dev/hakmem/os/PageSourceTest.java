package dev.hakmem.os;

import dev.hakmem.PageSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.ValueLayout;
import java.util.stream.Stream;

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
}
