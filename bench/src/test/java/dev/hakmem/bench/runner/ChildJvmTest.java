package dev.hakmem.bench.runner;

import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChildJvmTest {

    @Test
    void aChildJvmRunsTheTrialAndReportsEachRepetitionAndItsMemory() {
        TrialResult result = new ChildJvm(0.05, 0.1, 2).run(new Trial(Workloads.TINY_HOT, "hakmem", 1));

        assertEquals(TrialResult.Status.OK, result.status(), result.message());
        assertEquals(2, result.mops().size());
        assertTrue(result.mops().stream().allMatch(mops -> mops > 0), result.mops().toString());
        assertTrue(result.baselineRss() > 128 * Results.MiB, "the pre-touched heap is in the baseline");
        assertTrue(result.peakGrowth() >= 0, "peak " + result.peakRss() + " vs baseline " + result.baselineRss());
    }

    @Test
    void aChildThatDiesIsReportedAsFailedWithItsLastWords() {
        TrialResult result = new ChildJvm(0.05, 0.1, 1).run(new Trial("no_such_workload", "hakmem", 1));

        assertEquals(TrialResult.Status.FAILED, result.status());
        assertTrue(result.message().contains("unknown workload 'no_such_workload'"), result.message());
    }

    @Test
    void aProfiledChildRecordsItsMeasuredWindowOnTheWorkloadThreads(@TempDir Path directory) throws IOException {
        Path recording = directory.resolve("child.jfr");
        ChildJvm child = new ChildJvm(0.2, 1, 1).profiling(recording);
        Trial trial = new Trial(Workloads.TINY_HOT, "hakmem", 1);

        List<String> command = child.command(trial);
        TrialResult result = child.run(trial);

        assertTrue(command.indexOf("-XX:+DebugNonSafepoints") > command.indexOf("-XX:+UnlockDiagnosticVMOptions"),
                command.toString());
        assertTrue(command.indexOf("-D" + MeasuredRecording.PROPERTY + "=" + recording)
                < command.indexOf(TrialMain.class.getName()), command.toString());
        assertTrue(child.shellLine(trial).startsWith("GLIBC_TUNABLES="), child.shellLine(trial));
        assertEquals(TrialResult.Status.OK, result.status(), result.message());
        ExecutionProfile profile = ExecutionProfile.read(recording, ExecutionProfile.WORKLOAD_THREAD);
        assertTrue(profile.samples() > 0, "no sample of the workload thread in " + recording);
        // The peer calls the API: its malloc or free is on the stack of every sample in hakmem.
        assertTrue(profile.inclusive(1000).stream().anyMatch(r -> r.name().startsWith("HakMem.")),
                profile.markdown(10));
    }

    @Test
    void thePeersSettingsGivenToTheRunnerHoldForItsChildren() {
        System.setProperty("hakmem.bench.frozenPolicy", "/tmp/learned policy.json");
        try {
            List<String> command = new ChildJvm(0.05, 0.1, 1).command(new Trial(Workloads.TINY_HOT, "hakmem", 1));

            assertTrue(command.contains("-Dhakmem.bench.frozenPolicy=/tmp/learned policy.json"), command.toString());
            assertTrue(command.indexOf("-Dhakmem.bench.frozenPolicy=/tmp/learned policy.json")
                    < command.indexOf(TrialMain.class.getName()), "a JVM option, before the main class");
            assertTrue(command.stream().noneMatch(arg -> arg.startsWith("-Djava.")), command.toString());
        } finally {
            System.clearProperty("hakmem.bench.frozenPolicy");
        }
    }

    @Test
    void theChartsHaveAPngPerWorkloadEvenWithMissingBars(@TempDir Path directory) throws IOException {
        List<TrialResult> results = List.of(Results.ok("json", "hakmem", 1, 3, 5.0),
                TrialResult.skipped(new Trial("json", "mimalloc", 1), "not installed"));

        List<Path> files = ResultCharts.write(directory, List.of("json"), List.of("hakmem", "mimalloc"), List.of(1, 2),
                results);

        assertEquals(List.of(directory.resolve("json.png")), files);
        byte[] png = Files.readAllBytes(files.getFirst());
        assertEquals((byte) 0x89, png[0]);
        assertEquals("PNG", new String(png, 1, 3));
    }
}
