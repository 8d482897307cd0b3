package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultCsvTest {

    @Test
    void oneRowPerTrialWithTheMedianTheRepetitionsAndTheRatioToHakmem() {
        List<TrialResult> results = List.of(
                Results.ok("larson", "hakmem", 1, 4, 10.0, 12.0, 11.0),
                Results.ok("larson", "mimalloc", 1, 2, 22.0, 20.0, 21.0),
                TrialResult.skipped(new Trial("larson", "arena-confined", 1), "frees only on its thread, \"larson\""));

        String[] lines = ResultCsv.format(results).split("\r\n");

        assertEquals(ResultCsv.HEADER, lines[0]);
        assertEquals("larson,hakmem,1,ok,11.0000,10.0000;12.0000;11.0000,1.0000,104857600,109051904,4194304,"
                + "104857600,104857600,1.0000,1.0000,", lines[1]);
        assertEquals("larson,mimalloc,1,ok,21.0000,22.0000;20.0000;21.0000,1.9091,104857600,106954752,2097152,"
                + "104857600,104857600,1.0000,1.0000,", lines[2]);
        assertEquals("larson,arena-confined,1,skipped,,,,,,,,,,,\"frees only on its thread, \"\"larson\"\"\"",
                lines[3]);
        assertEquals(4, lines.length);
    }

    @Test
    void whatFormatWritesParseReadsBackTheRepetitionsOrTheRoundsAndTheUnknownsAsUnknown() {
        List<TrialResult> results = List.of(
                Results.ok("larson", "hakmem", 2, 4, 10.5, 12.25, 11.0),
                new TrialResult(new Trial("larson", "glibc", 2), TrialResult.Status.OK, "", List.of(3.0), 100, -1, 90,
                        -1),
                TrialResult.skipped(new Trial("larson", "arena-confined", 2), "frees only on its thread, \"larson\"\r\n"),
                TrialResult.failed(new Trial("larson", "jemalloc", 2), "exit code 134: a,b"));

        assertEquals(results, ResultCsv.parse(ResultCsv.format(results)));
        assertEquals(results, ResultCsv.parse(ResultCsv.formatCells(results, Map.of(), 3)));
    }

    @Test
    void aFileThatIsNotAResultsCsvIsRefusedWithWhatIsWrong() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResultCsv.parse("")).getMessage()
                .contains("empty file"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResultCsv.parse("a,b\r\n1,2\r\n"))
                .getMessage().contains("no column 'workload'"));
        String badThreads = ResultCsv.format(List.of(Results.ok("json", "hakmem", 1, 1, 2.0))).replace(",1,ok,", ",one,ok,");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResultCsv.parse(badThreads)).getMessage()
                .startsWith("row 2: "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ResultCsv.parse(ResultCsv.HEADER + "\r\n\"open"))
                .getMessage().contains("not closed"));
    }

    @Test
    void plainFieldsStayUnquoted() {
        assertEquals("mid_large_mt_1m", ResultCsv.field("mid_large_mt_1m"));
        assertEquals("\"a\nb\"", ResultCsv.field("a\nb"));
    }
}
