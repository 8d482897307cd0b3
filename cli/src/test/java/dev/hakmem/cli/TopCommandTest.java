package dev.hakmem.cli;

import dev.hakmem.stress.Units;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hakmem top} against real JVMs: one with a heap, one without, and a process id that is no JVM. */
class TopCommandTest {

    private record Run(int exit, String out, String err) {
    }

    private static Run top(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new HakMemCli());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of("top"));
        all.addAll(List.of(args));
        int exit = cl.execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    /** Starts {@link TopTarget} in a JVM of its own and waits until it is ready. */
    private static Process target(String what) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), TopTarget.class.getName(), what)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        assertEquals("ready", line);
        return p;
    }

    @Test
    void showsTheHeapsOfARunningJvm() throws Exception {
        Process p = target("heap");
        try {
            Run r = top(Long.toString(p.pid()), "--count", "2", "--interval-ms", "300");
            assertEquals(0, r.exit(), r.err());
            String[] lines = r.out().split("\n");
            List<String> rows = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith("heap-")) {
                    rows.add(l);
                }
            }
            assertEquals(2, rows.size(), r.out());
            assertTrue(rows.get(0).contains(" - "), "no rate on the first refresh: " + rows.get(0));
            String[] second = rows.get(1).trim().split(" +");
            assertTrue(Long.parseLong(second[second.length - 4]) > 0, "allocations per second: " + rows.get(1));
            assertTrue(rows.get(1).contains("FROZEN"), rows.get(1));
            assertTrue(r.out().contains("process " + p.pid() + ", 1 heap(s)"), r.out());
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    @Test
    void saysSoWhenTheJvmHasNoHeap() throws Exception {
        Process p = target("none");
        try {
            Run r = top(Long.toString(p.pid()), "--count", "1");
            assertEquals(1, r.exit());
            assertTrue(r.err().contains("has no hakmem heap"), r.err());
        } finally {
            p.destroy();
            p.waitFor();
        }
    }

    @Test
    void saysSoWhenItCannotAttach() {
        Run r = top("999999999", "--count", "1");
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("cannot attach to process 999999999"), r.err());
    }

    @Test
    void refusesABadInterval() {
        Run r = top("1", "--interval-ms", "5");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--interval-ms must be at least 100"), r.err());
    }

    @Test
    void bytesAreShownInBinaryUnits() {
        assertEquals("512 B", Units.bytes(512));
        assertEquals("4.9 KiB", Units.bytes(5000));
        assertEquals("3.0 MiB", Units.bytes(3L << 20));
    }
}
