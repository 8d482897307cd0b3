package dev.hakmem.stress;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What a {@link StressWorkload} run did and what it left behind.
 *
 * @param operations       allocator calls made (malloc, calloc, realloc, mallocAligned, free)
 * @param elapsed          from the first worker's start to the last block's free
 * @param bytesAllocated   bytes requested over the run
 * @param remoteFrees      blocks freed by a thread other than the one that allocated them
 * @param threadsStarted   worker threads started, replacements included
 * @param errors           content mismatches, broken allocator promises and unexpected exceptions
 * @param errorSamples     the first few errors, described
 * @param baselineRssBytes the process's RSS before the workload allocated anything (a new heap maps nothing before its
 *                         first allocation, so this is the RSS before the heap existed); -1 where unknown
 * @param peakRssBytes     the process's peak RSS (VmHWM) at the end; -1 where unknown
 * @param finalRssBytes    the process's RSS after every block was freed and the heap had time to purge; -1 where unknown
 * @param liveBytes        the heap's live bytes after every block was freed: 0 unless blocks leaked
 * @param liveBlocks       the heap's live blocks after every block was freed
 * @param mappedBytes      what the heap still had mapped at the end
 */
public record StressResult(long operations, Duration elapsed, long bytesAllocated, long remoteFrees,
                           long threadsStarted, long errors, List<String> errorSamples,
                           long baselineRssBytes, long peakRssBytes, long finalRssBytes,
                           long liveBytes, long liveBlocks, long mappedBytes, long committedBytes) {

    public StressResult {
        errorSamples = List.copyOf(errorSamples);
    }

    public double opsPerSecond() {
        long nanos = elapsed.toNanos();
        return nanos == 0 ? 0 : operations * 1e9 / nanos;
    }

    /** True when the run found nothing wrong and the heap ended empty. */
    public boolean clean() {
        return errors == 0 && liveBytes == 0;
    }

    /** The summary as printed at the end of a run, one line each. */
    public List<String> summaryLines() {
        return List.of(
                String.format(Locale.ROOT, "operations  %,d in %.1f s = %.2f Mops/s (%s allocated, %,d remote frees, %,d threads)",
                        operations, elapsed.toMillis() / 1e3, opsPerSecond() / 1e6, Units.bytes(bytesAllocated),
                        remoteFrees, threadsStarted),
                "rss         baseline " + Units.bytes(baselineRssBytes) + ", peak " + Units.bytes(peakRssBytes)
                        + ", final " + Units.bytes(finalRssBytes),
                String.format(Locale.ROOT, "heap        live %s (%,d blocks), mapped %s, committed %s",
                        Units.bytes(liveBytes), liveBlocks, Units.bytes(mappedBytes), Units.bytes(committedBytes)),
                String.format(Locale.ROOT, "errors      %,d", errors),
                clean() ? "result      PASS" : "result      FAIL");
    }
}
