package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NmtSummaryTest {
    private static final long KiB = 1024;

    /** The DiagnosticCommand MBean's vmNativeMemory summary of a JDK 25.0.3 JVM with -Xms256m -Xmx256m. */
    private static String fixture() throws IOException {
        try (InputStream in = NmtSummaryTest.class.getResourceAsStream("nmt-summary-jdk25.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void everyCategoryOfARealSummaryIsReadWithItsCommittedBytes() throws IOException {
        NmtSummary summary = NmtSummary.parse(fixture());

        assertEquals(256 * 1024 * KiB, summary.of("Java Heap"));
        assertEquals(1761 * KiB, summary.of("Class"), "the category's line, not its Metadata sub-line");
        assertEquals(778 * KiB, summary.of("Thread"));
        assertEquals(863 * KiB, summary.of("Compiler"));
        assertEquals(13908 * KiB, summary.of("Shared class space"), "a line with more fields after committed");
        assertEquals(10665 * KiB, summary.of("Metaspace"));
        assertEquals(1 * KiB, summary.of("Object Monitors"), "the last category");
        assertEquals(0, summary.of("JVMCI"), "a category the report omits is 0");
        assertEquals(21, summary.committed().size(), summary.committed().keySet().toString());
        assertTrue(summary.committed().keySet().stream().noneMatch(name -> name.contains("Total")));
    }

    @Test
    void aReportThatIsNotASummarySaysWhatItWas() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> NmtSummary.parse("Native memory tracking is not enabled\n")).getMessage()
                .contains("Native memory tracking is not enabled"));
        assertThrows(IllegalArgumentException.class, () -> NmtSummary.parse("Native Memory Tracking:\n\nnothing\n"));
    }

    @Test
    void capturingInAJvmWithoutTrackingNamesTheFlag() {
        // Surefire's JVM runs without -XX:NativeMemoryTracking (ProfileCommandTest reads a child's that runs with it).
        assertTrue(assertThrows(IllegalStateException.class, NmtSummary::capture).getMessage()
                .contains("-XX:NativeMemoryTracking=summary"));
    }
}
