package dev.hakmem.bench.runner;

import dev.hakmem.bench.runner.ExecutionProfile.Frame;
import dev.hakmem.bench.runner.ExecutionProfile.Row;
import dev.hakmem.profiled.BusyLoop;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExecutionProfileTest {
    private static final String HOT = "profiled.BusyLoop.hot";

    /**
     * A real recording: "workload-0" spends most of its time in {@code hot} (recursing, so four frames of it on a
     * stack), a little in {@code warm}; a thread named "decoy" runs {@code hot} alone at the same time.
     */
    @Test
    void theHotMethodOfTheWorkloadThreadsIsOnTopAndEachStackCountsItOnce(@TempDir Path directory)
            throws IOException, InterruptedException {
        Path file = directory.resolve("busy.jfr");
        try (Recording recording = new Recording()) {
            recording.enable(ExecutionProfile.EXECUTION_SAMPLE).withPeriod(Duration.ofMillis(2)).withStackTrace();
            recording.start();
            long end = System.nanoTime() + 1_500_000_000L;
            BooleanSupplier more = () -> System.nanoTime() < end;
            Thread workload = Thread.ofPlatform().name("workload-0").start(() -> BusyLoop.run(more));
            Thread decoy = Thread.ofPlatform().name("decoy").start(() -> BusyLoop.decoy(more));
            workload.join();
            decoy.join();
            recording.stop();
            recording.dump(file);
        }

        ExecutionProfile profile = ExecutionProfile.read(file, ExecutionProfile.WORKLOAD_THREAD);

        long samples = profile.samples();
        assertTrue(samples >= 50, "too few samples to judge: " + samples);
        assertTrue(profile.otherThreads() > 0, "the decoy thread was sampled and left out");
        List<Row> frames = profile.topFrames(100);
        assertTrue(frames.getFirst().name().startsWith(HOT + ":"), frames.toString());
        long hotSelf = frames.stream().filter(r -> r.name().startsWith(HOT + ":")).mapToLong(Row::samples).sum();
        // The bottom frame or the caller would not be hot, nor would a ranking upside down.
        assertTrue(hotSelf >= 0.6 * samples, hotSelf + " of " + samples + "\n" + profile.markdown(10));

        List<Row> inclusive = profile.inclusive(100);
        // Every stack holds run; the decoy's do not, and would bring run's share to about a half.
        assertTrue(count(inclusive, "profiled.BusyLoop.run") >= 0.95 * samples, inclusive.toString());
        // Four frames of hot per stack count once: as many samples as hot's own, where a count per frame is 4x.
        assertEquals(hotSelf, count(inclusive, HOT), inclusive.toString());
        assertTrue(inclusive.stream().noneMatch(r -> r.name().contains("decoy")), inclusive.toString());

        Row part = profile.parts().getFirst();
        assertEquals("profiled", part.name());
        assertTrue(part.samples() >= 0.95 * samples, profile.parts().toString());
        assertEquals(hotSelf, profile.selfByMethod().get(HOT), profile.selfByMethod().toString());
        assertTrue(profile.markdown(5).contains("| `" + frames.getFirst().name() + "` | " + frames.getFirst().samples()
                + " | "), profile.markdown(5));
        assertTrue(profile.markdown(5).contains("| `" + HOT + "` | " + hotSelf + " | "), profile.markdown(5));
    }

    private static long count(List<Row> rows, String name) {
        return rows.stream().filter(r -> r.name().equals(name)).mapToLong(Row::samples).findFirst().orElse(0);
    }

    @Test
    void aSampleBelongsToItsTopmostAllocatorFrameElseToItsTopFramesPackage() {
        Frame varHandle = new Frame("java.lang.invoke.VarHandleGuards", "guard_LJ_J", 10);
        Frame slab = new Frame("dev.hakmem.slab.Slab", "popFree", 200);
        Frame core = new Frame("dev.hakmem.core.Allocator", "malloc", 300);
        Frame api = new Frame("dev.hakmem.HakMem", "malloc", 40);
        Frame peer = new Frame("dev.hakmem.bench.peer.CMallocPeer", "malloc", 50);
        Frame workload = new Frame("dev.hakmem.bench.workload.OpTable", "replaceStride", 60);
        Frame netty = new Frame("io.netty.buffer.PoolThreadCache", "allocate", 70);

        assertEquals("slab", ExecutionProfile.part(List.of(varHandle, slab, core, api, workload)));
        assertEquals("core", ExecutionProfile.part(List.of(core, api, workload)));
        assertEquals("api", ExecutionProfile.part(List.of(api, workload)));
        assertEquals("JDK/FFM under bench.peer", ExecutionProfile.part(List.of(varHandle, peer, workload)));
        assertEquals("JDK/FFM under bench.workload", ExecutionProfile.part(List.of(varHandle, workload)));
        assertEquals("JDK/FFM", ExecutionProfile.part(List.of(varHandle)));
        assertEquals("bench.peer", ExecutionProfile.part(List.of(peer, workload)));
        assertEquals("bench.workload", ExecutionProfile.part(List.of(workload)));
        assertEquals("io.netty", ExecutionProfile.part(List.of(netty, peer, workload)));
        assertEquals("slab.Slab.popFree", slab.name());
        assertEquals("java.lang.invoke.VarHandleGuards.guard_LJ_J", varHandle.name());
    }
}
