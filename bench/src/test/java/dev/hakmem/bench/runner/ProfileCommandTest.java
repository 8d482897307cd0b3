package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProfileCommandTest {
    /**
     * A bench CSV as {@code hakmem bench} writes it: tiny_hot t=1 misses (hakmem 70, mimalloc 100, glibc 60) and its
     * RSS growth is twice mimalloc's (4 MiB against 2), t=2 meets (120 against tcmalloc 110); larson has no native
     * result, json's hakmem failed, and mir misses with its hakmem row after the peers' (0.50 against jemalloc).
     * random_mixed_8192 is faster than mimalloc but grows 3 MiB against 2 at t=1 (an RSS miss only), and 1 MiB
     * against 0.25 at t=2 (within the JVM's noise: met).
     */
    private static final String CSV = String.join("\r\n",
            ResultCsv.HEADER,
            "tiny_hot,hakmem,1,ok,70.0000,69.0000;70.0000;71.0000,,104857600,109051904,4194304,104857600,104857600,,,",
            "tiny_hot,mimalloc,1,ok,100.0000,100.0000,,104857600,106954752,2097152,104857600,104857600,,,",
            "tiny_hot,glibc,1,ok,60.0000,60.0000,,104857600,106954752,2097152,104857600,104857600,,,",
            "tiny_hot,arena-shared,1,skipped,,,,,,,,,,,\"frees only on its thread, \"\"larson\"\"\"",
            "tiny_hot,hakmem,2,ok,120.0000,120.0000,,104857600,,,104857600,104857600,,,",
            "tiny_hot,tcmalloc,2,ok,110.0000,110.0000,,104857600,,,104857600,104857600,,,",
            "larson,hakmem,1,ok,10.0000,10.0000,,104857600,,,104857600,104857600,,,",
            "larson,netty-pooled,1,ok,1.0000,1.0000,,104857600,,,104857600,104857600,,,",
            "json,hakmem,1,failed,,,,,,,,,,,\"exit code 1: boom\"",
            "json,mimalloc,1,ok,5.0000,5.0000,,104857600,,,104857600,104857600,,,",
            "mir,jemalloc,2,ok,4.0000,4.0000,,104857600,,,104857600,104857600,,,",
            "mir,hakmem,2,ok,2.0000,2.0000,,104857600,,,104857600,104857600,,,",
            "random_mixed_8192,hakmem,1,ok,9.0000,9.0000,,104857600,108003328,3145728,104857600,104857600,,,",
            "random_mixed_8192,mimalloc,1,ok,8.0000,8.0000,,104857600,106954752,2097152,104857600,104857600,,,",
            "random_mixed_8192,hakmem,2,ok,9.0000,9.0000,,104857600,105906176,1048576,104857600,104857600,,,",
            "random_mixed_8192,mimalloc,2,ok,8.0000,8.0000,,104857600,105119744,262144,104857600,104857600,,,")
            + "\r\n";

    private static List<ProfileCommand.Cell> cells(String... args) {
        ProfileCommand command = new ProfileCommand();
        new CommandLine(command).parseArgs(args);
        return command.cells();
    }

    @Test
    void theMissesOfABenchCsvAreHakmemsCellsBelowTheBestNativeAllocatorOrAboveMimallocsGrowth(
            @TempDir Path directory) throws IOException {
        Path csv = Files.writeString(directory.resolve("bench.csv"), CSV);

        List<ProfileCommand.Cell> cells = cells("--misses", csv.toString());

        assertEquals(List.of(new ProfileCommand.Cell(new Trial(Workloads.TINY_HOT, "hakmem", 1),
                        "hakmem / best native (mimalloc) Mops/s 0.70 (target >= 1.00: MISSED); hakmem / mimalloc peak"
                                + " RSS growth (4.0 / 2.0 MiB) 2.00 (target <= 1.25: MISSED)", true, true),
                new ProfileCommand.Cell(new Trial("mir", "hakmem", 2),
                        "hakmem / best native (jemalloc) Mops/s 0.50 (target >= 1.00: MISSED)", true, false),
                new ProfileCommand.Cell(new Trial(Workloads.RANDOM_MIXED_8192, "hakmem", 1),
                        "hakmem / mimalloc peak RSS growth (3.0 / 2.0 MiB) 1.50 (target <= 1.25: MISSED)", false,
                        true)), cells);
    }

    @Test
    void withMemoryTheMissesAreTheRssMissesEachWithAMemoryProfileOnly(@TempDir Path directory) throws IOException {
        Path csv = Files.writeString(directory.resolve("bench.csv"), CSV);

        List<ProfileCommand.Cell> cells = cells("--misses", csv.toString(), "--memory");

        assertEquals(List.of(new Trial(Workloads.TINY_HOT, "hakmem", 1),
                new Trial(Workloads.RANDOM_MIXED_8192, "hakmem", 1)), cells.stream().map(ProfileCommand.Cell::trial)
                .toList());
        assertTrue(cells.stream().allMatch(cell -> cell.memory() && !cell.cpu()), cells.toString());
        assertTrue(cells("--workloads", "larson", "--memory").stream().allMatch(cell -> cell.memory() && !cell.cpu()));
        assertTrue(cells("--workloads", "larson").stream().allMatch(cell -> cell.cpu() && !cell.memory()));
    }

    @Test
    void aProfileRunWritesASectionPerCellWithItsTablesAndKeepsTheRecording(@TempDir Path directory)
            throws IOException {
        StringWriter printed = new StringWriter();
        CommandLine commandLine = new CommandLine(new ProfileCommand()).setOut(new PrintWriter(printed));

        int exit = commandLine.execute("--workloads", Workloads.TINY_HOT, "--threads", "1", "--seconds", "0.5",
                "--warmup", "0.1", "--top", "3", "--out", directory.toString());

        assertEquals(0, exit, printed.toString());
        List<Path> written = filesIn(directory);
        assertEquals(2, written.size(), written.toString());
        assertTrue(written.get(0).toString().endsWith("-tiny_hot-hakmem-t1.jfr"), written.toString());
        String md = Files.readString(written.get(1));
        assertTrue(md.contains("\n## tiny_hot hakmem t=1\n"), md);
        assertTrue(md.contains("| part | samples | share |"), md);
        assertTrue(md.contains("| frame:line | samples | share |"), md);
        assertTrue(md.contains("| method | samples | share | self | self share |"), md);
        assertTrue(md.contains("dev.hakmem.bench.runner.TrialMain tiny_hot hakmem 1 0.1 0.5 1`"), md);
        assertTrue(printed.toString().contains(md), "the summary is printed too");
    }

    @Test
    void aMemoryProfileSplitsTheChildsGrowthAndKeepsItsSnapshots(@TempDir Path directory) throws IOException {
        StringWriter printed = new StringWriter();
        CommandLine commandLine = new CommandLine(new ProfileCommand()).setOut(new PrintWriter(printed));

        int exit = commandLine.execute("--memory", "--workloads", Workloads.RANDOM_MIXED_8192, "--threads", "1",
                "--seconds", "0.5", "--warmup", "0.1", "--out", directory.toString());

        assertEquals(0, exit, printed.toString());
        List<Path> written = filesIn(directory);
        assertEquals(2, written.size(), written.toString());
        Path snapshots = written.get(0);
        String md = Files.readString(written.get(1));
        assertTrue(snapshots.toString().endsWith("-random_mixed_8192-hakmem-t1-memory.txt"), written.toString());
        assertTrue(md.contains("\n## random_mixed_8192 hakmem t=1, memory\n"), md);
        assertTrue(md.contains("-XX:NativeMemoryTracking=summary -Dhakmem.profile.memory=" + snapshots), md);
        assertTrue(md.contains("| part | MiB at peak | MiB at end | share of the peak growth |"), md);
        assertTrue(md.contains("| hakmem slabs TINY |"), md);
        assertTrue(md.contains("| remainder (unaccounted) |"), md);
        MemorySplit split = MemorySplit.parse(Files.readAllLines(snapshots));
        // The child's own NMT report, read in-process through the MBean: the fixed heap of ChildJvm's -Xms256m.
        assertEquals(256L << 20, split.baseline().nmt().get("Java Heap"), split.baseline().toString());
        assertTrue(split.peak().rss() >= split.baseline().rss(), "the peak is the highest sample, or the baseline");
        assertEquals(0, split.end().live(), "the workload freed every block: " + split.end());
        Set<String> kinds = Set.of(ResidentMappings.FREE_SLOTS, ResidentMappings.POOLED, ResidentMappings.BIG_LIVE,
                ResidentMappings.BIG_CACHED, ResidentMappings.OTHER, ResidentMappings.UNREGISTERED);
        for (MemorySplit.Snapshot s : List.of(split.baseline(), split.peak(), split.end())) {
            assertTrue(s.hakmem().keySet().stream().allMatch(part -> kinds.contains(part)
                    || part.matches("slab (TINY|MID|LARGE) \\d+")), s.toString());
            assertTrue(s.hakmem().values().stream().allMatch(bytes -> bytes >= 0 && bytes % 4096 == 0),
                    "whole pages: " + s);
        }
    }

    @Test
    void namedCellsGoByWorkloadThenThreadsThenAllocator() {
        assertEquals(List.of(new Trial("larson", "hakmem", 2), new Trial("larson", "hakmem-guard", 2),
                        new Trial("json", "hakmem", 2), new Trial("json", "hakmem-guard", 2)),
                cells("--workloads", "larson,json", "--allocators", "hakmem,hakmem-guard", "--threads", "2").stream()
                        .map(ProfileCommand.Cell::trial).toList());
        assertEquals(List.of(new Trial(Workloads.TINY_HOT, "hakmem", 1), new Trial(Workloads.TINY_HOT, "hakmem", 2)),
                cells("--workloads", Workloads.TINY_HOT).stream().map(ProfileCommand.Cell::trial).toList());
    }

    @Test
    void cellsAreNamedOrTakenFromACsvNotBothAndABadCsvIsRefusedWithAReason(@TempDir Path directory)
            throws IOException {
        assertTrue(assertThrows(ParameterException.class, ProfileCommandTest::cells).getMessage()
                .contains("give --workloads"));
        assertTrue(assertThrows(ParameterException.class, () -> cells("--misses", "x.csv", "--threads", "1"))
                .getMessage().contains("without --workloads, --allocators and --threads"));
        assertTrue(assertThrows(ParameterException.class, () -> cells("--workloads", "tiny_hott")).getMessage()
                .contains("unknown workload 'tiny_hott'"));
        Path missing = directory.resolve("missing.csv");
        assertTrue(assertThrows(ParameterException.class, () -> cells("--misses", missing.toString())).getMessage()
                .contains("cannot read " + missing));
        Path rounds = Files.writeString(directory.resolve("bench-rounds.csv"), "round," + ResultCsv.HEADER + "\r\n");
        assertTrue(assertThrows(ParameterException.class, () -> cells("--misses", rounds.toString())).getMessage()
                .contains("give the cells' CSV"));
        Path torn = Files.writeString(directory.resolve("torn.csv"), CSV.substring(0, CSV.indexOf("tiny_hot,glibc")
                + 20));
        assertTrue(assertThrows(ParameterException.class, () -> cells("--misses", torn.toString())).getMessage()
                .contains("row 4 has"));
    }

    /** The files a run wrote into {@code directory}, sorted by name. */
    private static List<Path> filesIn(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.sorted().toList();
        }
    }
}
