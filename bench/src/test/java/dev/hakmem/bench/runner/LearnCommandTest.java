package dev.hakmem.bench.runner;

import dev.hakmem.Policy;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearnCommandTest {

    /** Runs the command; returns its exit code, its output appended to {@code text}. */
    private static int learn(StringWriter text, String... args) {
        CommandLine cli = new CommandLine(new LearnCommand());
        cli.setOut(new PrintWriter(text));
        cli.setErr(new PrintWriter(text));
        return cli.execute(args);
    }

    /** A short run of every phase: a line per window, a progress line per phase, and the three files that parse. */
    @Test
    void aShortRunPrintsEveryWindowAndWritesTheWindowsTheChartAndAPolicyThatLoads(@TempDir Path out)
            throws IOException {
        StringWriter text = new StringWriter();
        Path saved = out.resolve("saved/frozen-policy.json");

        int exit = learn(text, "--cycles", "1", "--phase-seconds", "0.3", "--window-ms", "20", "--seed", "7",
                "--out", out.toString(), "--policy-out", saved.toString());

        String output = text.toString();
        assertEquals(0, exit, output);
        List<Workload> phases = Workloads.PHASES;
        for (int i = 0; i < phases.size(); i++) {
            assertTrue(output.contains("-- phase " + (i + 1) + " of 5: " + phases.get(i).name() + " (cycle 1 of 1)"),
                    output);
        }
        List<String> rows = Files.readAllLines(out.resolve("windows.csv"));
        assertEquals(LearnedWindow.CSV_HEADER, rows.getFirst());
        // 1.5 s of 20 ms windows: the maintenance thread's 20 ms tick closes them, at about one per tick.
        assertTrue(rows.size() > 30, rows.size() + " rows");
        int columns = LearnedWindow.CSV_HEADER.split(",").length;
        for (int i = 1; i < rows.size(); i++) {
            assertEquals(i - 1, Long.parseLong(rows.get(i).split(",")[0]), "windows in order, none lost");
            assertEquals(columns, rows.get(i).split(",", -1).length, rows.get(i));
        }
        for (Workload phase : phases) {
            assertTrue(rows.stream().anyMatch(r -> r.split(",")[1].contains(phase.name())), phase.name());
        }
        assertTrue(output.contains(rows.size() - 1 + " windows ("), output);
        byte[] png = Files.readAllBytes(out.resolve("learn.png"));
        assertEquals("PNG", new String(png, 1, 3));
        String json = Files.readString(out.resolve("policy.json"));
        Policy best = Policy.fromJson(json);
        assertEquals(json, Files.readString(saved));
        assertTrue(output.contains("best policy: " + PolicyText.describe(best)), output);
    }

    @Test
    void optionsOutOfRangeAreRefusedNamingTheOption() {
        StringWriter text = new StringWriter();
        assertEquals(2, learn(text, "--cycles", "0"));
        assertTrue(text.toString().contains("--cycles must be at least 1: 0"), text.toString());
        assertEquals(2, learn(text, "--window-ms", "5"));
        assertTrue(text.toString().contains("--window-ms: learnWindowMillis must be in [10, 600000]: 5"),
                text.toString());
        assertEquals(2, learn(text, "--memory-weight", "11"));
        assertTrue(text.toString().contains("--memory-weight: memoryWeight must be in [0, 10.0]: 11.0"),
                text.toString());
        assertEquals(2, learn(text, "--compare", "--phase-seconds", "0.5", "--window-ms", "250"));
        assertTrue(text.toString().contains("--compare needs --phase-seconds of at least 4 windows"), text.toString());
        assertEquals(2, learn(text, "--phases", "json"));
        assertTrue(text.toString().contains("--phases needs --compare"), text.toString());
        assertEquals(2, learn(text, "--compare", "--phases", "json,jsn", "--phase-seconds", "0.1", "--window-ms",
                "20"));
        assertTrue(text.toString().contains("--phases: no phase jsn; the phases are [json, mir, vm, mixed,"
                + " lifetime_mix]"), text.toString());
        assertEquals(2, learn(text, "--compare", "--phases", "vm,vm", "--phase-seconds", "0.1", "--window-ms",
                "20"));
        assertTrue(text.toString().contains("--phases: vm named twice"), text.toString());
        assertEquals(2, learn(text, "--compare", "--rounds", "0"));
        assertTrue(text.toString().contains("--rounds must be at least 1: 0"), text.toString());
        assertEquals(2, learn(text, "--rounds", "3"));
        assertTrue(text.toString().contains("--rounds needs --compare"), text.toString());
    }

    /** {@code --phases} picks the compare's phases in its order; without it the compare searches all of them. */
    @Test
    void comparedPhasesAreTheNamedOnesInTheirOrderOrAll() {
        LearnCommand chosen = new LearnCommand();
        new CommandLine(chosen).parseArgs("--compare", "--phases", "lifetime_mix,json");
        assertEquals(List.of("lifetime_mix", "json"), chosen.comparedPhases().stream().map(Workload::name).toList());
        LearnCommand all = new LearnCommand();
        new CommandLine(all).parseArgs("--compare");
        assertEquals(Workloads.PHASES, all.comparedPhases());
    }
}
