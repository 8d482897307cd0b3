package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemorySplitTest {
    private static final long KiB = 1024;
    private static final long MiB = 1024 * KiB;

    /**
     * From a 100 MiB baseline: at the peak RSS is up 10 MiB, of which Tiny 64 B slabs 6, Mid 2 KiB slabs 1, the
     * Compiler 1 and Class 10 KiB (a small category), and file pages 0.5; at the end 3 MiB, all of it pooled
     * SuperSlabs.
     */
    private static final MemorySplit SPLIT = new MemorySplit(
            new MemorySplit.Snapshot("baseline", 100 * MiB, 40 * MiB, 0, 0, Map.of(),
                    Map.of("Java Heap", 256 * MiB, "Compiler", MiB, "Class", 0L)),
            new MemorySplit.Snapshot("peak", 110 * MiB, 40 * MiB + 512 * KiB, 6 * MiB, 8 * MiB,
                    Map.of("slab TINY 64", 6 * MiB, "slab MID 2048", MiB),
                    Map.of("Java Heap", 256 * MiB, "Compiler", 2 * MiB, "Class", 10 * KiB)),
            new MemorySplit.Snapshot("end", 103 * MiB, 40 * MiB, 0, 4 * MiB, Map.of(ResidentMappings.POOLED, 3 * MiB),
                    Map.of("Java Heap", 256 * MiB, "Compiler", MiB, "Class", 10 * KiB)),
            new MemorySplit.Probe(20, 50, 4, 12));

    @Test
    void theRowsAreEachPartsGrowthAndTheRemainderWhatNoneAccountsFor() {
        assertEquals(List.of(new MemorySplit.Row("hakmem slabs MID", MiB, 0),
                        new MemorySplit.Row("hakmem slabs TINY", 6 * MiB, 0),
                        new MemorySplit.Row("hakmem superslabs pooled", 0, 3 * MiB)),
                SPLIT.hakmemRows());
        assertEquals(List.of(new MemorySplit.Row("JVM Compiler", MiB, 0),
                new MemorySplit.Row("JVM, the other categories (each under 64 KiB)", 10 * KiB, 10 * KiB)),
                SPLIT.jvmRows());
        assertEquals(new MemorySplit.Row("remainder (unaccounted)", 2 * MiB - 10 * KiB, -10 * KiB), SPLIT.remainder());
        String md = SPLIT.markdown(11 * MiB);
        assertTrue(md.contains("| hakmem slabs TINY | 6.00 | 0.00 | 60% |"), md);
        assertTrue(md.contains("| **RSS growth** | 10.00 | 3.00 | 100% |"), md);
        assertTrue(md.contains("11.00 MiB by VmHWM"), md);
        assertTrue(md.contains("its 4 snapshots took 12 ms"), md);
        assertTrue(md.contains("Of the remainder, 0.50 MiB at the peak and 0.00 MiB at the end are pages that map"
                + " files"), md);
        assertTrue(md.contains("last byte) 1.00 MiB"), md);
        assertTrue(md.contains("| TINY 64 B | 0.00 | 6.00 | 0.00 |"), md);
    }

    @Test
    void theChildsLinesReadBackAsTheSameSplit() {
        assertEquals(SPLIT, MemorySplit.parse(SPLIT.toLines()));
    }

    @Test
    void aTornOrForeignFileIsRefusedWithTheLine() {
        List<String> lines = SPLIT.toLines();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemorySplit.parse(lines.subList(0, 2)))
                .getMessage().contains("not baseline, peak and end"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MemorySplit.parse(List.of("RESULT mops=1")))
                .getMessage().contains("not a memory probe line: RESULT mops=1"));
    }
}
