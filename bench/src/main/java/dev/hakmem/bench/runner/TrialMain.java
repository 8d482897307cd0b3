package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.PeerUnavailableException;
import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.workload.Budget;
import dev.hakmem.bench.workload.Workload;
import dev.hakmem.bench.workload.Workloads;
import dev.hakmem.verify.Rss;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of one trial: {@code TrialMain workload allocator threads warmup-seconds seconds reps}. It prints
 * one line, {@link TrialResult#toLine()} or a skip, on stdout.
 *
 * <p>Memory: the parent starts it with a fixed, pre-touched Java heap, so that the heap is resident before the
 * baseline. A warm-up on the same allocator instance compiles the code first, so that the JIT's memory is in the
 * baseline too, and leaves every allocator with the memory it keeps after a free of everything: the native ones
 * keep theirs process-wide whatever we do, so a warm-up on an instance of its own, closed before the baseline,
 * would hand them a warm start that a closed hakmem heap cannot have. The growth is then what the measured
 * repetitions add on top of that. With {@code -Dhakmem.profile.recording=FILE} the measured repetitions are recorded
 * by JFR ({@link MeasuredRecording}); with {@code -Dhakmem.profile.memory=FILE} a probe splits their RSS growth
 * ({@link MemoryProbe}), and a hakmem heap maps through {@link ResidentMappings} for it.
 */
public final class TrialMain {
    /** Writing 5 here resets VmHWM to the current RSS (Linux 4.0 and later). */
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private TrialMain() {
    }

    public static void main(String[] args) {
        Trial trial = new Trial(args[0], args[1], Integer.parseInt(args[2]));
        double warmupSeconds = Double.parseDouble(args[3]);
        double seconds = Double.parseDouble(args[4]);
        int reps = Integer.parseInt(args[5]);
        System.out.println(run(trial, warmupSeconds, seconds, reps).toLine());
    }

    private static TrialResult run(Trial trial, double warmupSeconds, double seconds, int reps) {
        Workload workload = Workloads.named(trial.workload());
        NativeAllocator allocator;
        ResidentMappings pages = MemoryProbe.requested() ? MemoryProbe.pages() : null;
        try {
            allocator = pages == null ? Peers.create(trial.allocator())
                    : ScopedValue.where(HakMemPeer.PAGES, pages).call(() -> Peers.create(trial.allocator()));
        } catch (PeerUnavailableException e) {
            return TrialResult.skipped(trial, e.getMessage());
        }
        long baseline;
        boolean peakKnown;
        List<Double> mops = new ArrayList<>();
        long afterFree;
        try (allocator) {
            if (workload.freesOnOtherThreads() && !allocator.crossThreadFree()) {
                return TrialResult.skipped(trial, trial.allocator() + " frees blocks only on the thread that"
                        + " allocated them, and " + trial.workload() + " frees them on other threads");
            }
            // Before the warm-up: the probe's first snapshot loads JMX and NMT's report, which takes long enough
            // after it for the maintenance thread to reclaim the warm-up threads' dead heaps, where the bench's
            // baseline follows the warm-up at once.
            MemoryProbe memory = MemoryProbe.start(allocator, pages);
            workload.run(allocator, trial.threads(), window(warmupSeconds));
            baseline = Rss.currentBytes();
            peakKnown = resetPeak();
            try (memory; MeasuredRecording recording = MeasuredRecording.start()) {
                memory.measureFrom(baseline);
                for (int rep = 0; rep < reps; rep++) {
                    long start = System.nanoTime();
                    long operations = workload.run(allocator, trial.threads(), window(seconds));
                    mops.add(operations * 1e3 / (System.nanoTime() - start));
                }
            }
            afterFree = Rss.currentBytes();
        }
        long afterClose = Rss.currentBytes();
        return new TrialResult(trial, TrialResult.Status.OK, "", mops, baseline,
                peakKnown ? Rss.peakBytes() : -1, afterFree, afterClose);
    }

    private static Budget window(double seconds) {
        return Budget.until(System.nanoTime() + (long) (seconds * 1e9));
    }

    /** Starts VmHWM afresh at the baseline; false where the kernel does not let us, and the peak is then unknown. */
    private static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }
}
