package dev.hakmem.bench.runner;

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
 * baseline. A warm-up on an allocator instance of its own compiles the code first, so that the JIT's memory is in
 * the baseline too; the baseline is taken after that instance is closed. The measured repetitions then run on a
 * new instance. An allocator that keeps memory process-wide (a native one) may start them with the warm-up's
 * memory still cached: that lowers its growth, never hakmem's, so a comparison can only be harder for hakmem.
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
        try (NativeAllocator warmup = Peers.create(trial.allocator())) {
            if (workload.freesOnOtherThreads() && !warmup.crossThreadFree()) {
                return TrialResult.skipped(trial, trial.allocator() + " frees blocks only on the thread that"
                        + " allocated them, and " + trial.workload() + " frees them on other threads");
            }
            workload.run(warmup, trial.threads(), window(warmupSeconds));
        } catch (PeerUnavailableException e) {
            return TrialResult.skipped(trial, e.getMessage());
        }
        long baseline = Rss.currentBytes();
        boolean peakKnown = resetPeak();
        List<Double> mops = new ArrayList<>();
        long afterFree;
        try (NativeAllocator allocator = Peers.create(trial.allocator())) {
            for (int rep = 0; rep < reps; rep++) {
                long start = System.nanoTime();
                long operations = workload.run(allocator, trial.threads(), window(seconds));
                mops.add(operations * 1e3 / (System.nanoTime() - start));
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
