package dev.hakmem.verify;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class RssTest {

    @Test
    void parsesKilobyteLines() {
        List<String> status = List.of("Name:\tjava", "VmHWM:\t  204800 kB", "VmRSS:\t  102400 kB", "Threads:\t12");
        assertEquals(102400L * 1024, Rss.parse(status, "VmRSS:"));
        assertEquals(204800L * 1024, Rss.parse(status, "VmHWM:"));
        assertEquals(-1, Rss.parse(status, "VmSwap:"));
        assertEquals(-1, Rss.parse(List.of("VmRSS:\tlots kB"), "VmRSS:"));
    }

    @Test
    void touchingMemoryRaisesRss() {
        assumeTrue(Files.isReadable(Path.of("/proc/self/status")), "needs Linux /proc");
        long size = 64L << 20;
        long before = Rss.currentBytes();
        assertTrue(before > 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(size, 4096);
            Pattern.fill(seg.address(), size, 1);
            long during = Rss.currentBytes();
            assertTrue(during - before >= size / 2, "RSS went from " + before + " to " + during);
            assertTrue(Rss.peakBytes() >= during, "peak below current");
        }
    }
}
