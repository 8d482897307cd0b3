package dev.hakmem.os;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class PageFaultsTest {

    @Test
    void parsesMinorPlusMajorFaultsAfterACommandNameWithSpacesAndParentheses() {
        String line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 1500 7 30 2 12 3 0 0 20 0 1 0 100 1000 50";
        assertEquals(1500 + 30, PageFaults.parse(line));
        assertEquals(1234 + 56, PageFaults.parse(
                "4242 (a (strange) name) S 1 4242 4242 0 -1 4194560 1234 0 56 0 10 20 0 0 20 0 1 0"));
    }

    @Test
    void refusesWhatIsNotAStatLine() {
        assertEquals(-1, PageFaults.parse("no parenthesis 1 2 3"));
        assertEquals(-1, PageFaults.parse("1 (x) S 1 2"));
        assertEquals(-1, PageFaults.parse("1 (x) S 1 2 3 4 5 6 seven 8 9"));
        assertEquals(-1, PageFaults.parse("1 (x) S 1 1 1 0 -1 0 many 0 56 0"));
    }

    @Test
    void touchingFreshPagesCountsFaults() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/stat")), "Linux only");
        long before = PageFaults.sinceStart();
        try (Arena arena = Arena.ofConfined()) {
            var s = arena.allocate(64L << 20, 4096);
            for (long off = 0; off < s.byteSize(); off += 4096) {
                s.set(java.lang.foreign.ValueLayout.JAVA_BYTE, off, (byte) 1);
            }
        }
        long after = PageFaults.sinceStart();
        assertTrue(before >= 0 && after - before >= 1000, before + " -> " + after);
    }
}
