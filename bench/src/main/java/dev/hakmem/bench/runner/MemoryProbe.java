package dev.hakmem.bench.runner;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.PageSource;
import dev.hakmem.bench.peer.HakMemPeer;
import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.verify.Rss;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The memory probe of a trial's measured windows ({@code hakmem profile --memory}), the memory counterpart of
 * {@link MeasuredRecording}: {@link TrialMain} runs it when {@code -Dhakmem.profile.memory=FILE} names where its
 * {@link MemorySplit.Snapshot}s go; without the property it does nothing.
 * <pre>
 *   start(): one snapshot thrown away | warm-up | baseline RSS, VmHWM reset | measureFrom: "baseline" snapshot
 *           | windows, a thread reading VmRSS every {@value #PERIOD_MILLIS} ms; at each new highest: "peak" snapshot
 *           | close(): "end" snapshot, written to FILE
 * </pre>
 * A snapshot is the RSS, the NMT summary ({@link NmtSummary}), and for a hakmem peer its mappings' resident bytes by
 * part ({@link ResidentMappings}) and its stats' live and committed bytes. The throwaway snapshot before the warm-up
 * loads what a snapshot needs (JMX, the NMT report: a few hundred ms the first time), so that the probe's own classes
 * and code are in the baseline, not in the growth, and the baseline follows the warm-up as closely as in the bench:
 * what a dead warm-up thread's heap still holds at the baseline depends on that delay. The peak snapshot is taken at a
 * sample, so it can miss the kernel's peak (VmHWM) by what a period allows; the profile prints both.
 */
final class MemoryProbe implements AutoCloseable {
    static final String PROPERTY = "hakmem.profile.memory";
    static final long PERIOD_MILLIS = 50;

    /** Null when no probe was asked for. */
    private final Path file;
    /** The heap whose mappings and stats are read, or null for a peer that is not hakmem. */
    private final HakMem heap;
    private final ResidentMappings mappings;
    private final Thread sampler;
    private volatile boolean measuring;
    private volatile boolean stopped;
    // NOTE: baseline and peak are written by the caller of measureFrom before its volatile write of measuring, which
    // the sampler reads before it reads them; after that only the sampler writes peak, samples and failure, and
    // close() reads them after joining it.
    private MemorySplit.Snapshot baseline;
    private MemorySplit.Snapshot peak;
    private int samples;
    /** Peak snapshots taken during the windows, and the time they took: what the probe cost the workload at most. */
    private int snapshots;
    private long snapshotNanos;
    /** What stopped the sampler early, rethrown by close(), or null. */
    private RuntimeException failure;

    private MemoryProbe(Path file, HakMem heap, ResidentMappings mappings) {
        this.file = file;
        this.heap = heap;
        this.mappings = mappings;
        this.sampler = file == null ? null : Thread.ofPlatform().daemon().name("hakmem-memory-probe")
                .unstarted(this::sample);
    }

    /** Whether this JVM was asked for a probe: its hakmem heap must then get a {@link #pages()} source. */
    static boolean requested() {
        return System.getProperty(PROPERTY) != null;
    }

    /** The page source a hakmem peer must map through for its mappings to be in the split. */
    static ResidentMappings pages() {
        return new ResidentMappings(PageSource.system());
    }

    /**
     * The probe that {@link #PROPERTY} asks for, idle until {@link #measureFrom}, or nothing; before the warm-up.
     *
     * @param mappings the source {@code allocator}'s heap maps through when it is a hakmem peer, else null
     */
    static MemoryProbe start(NativeAllocator allocator, ResidentMappings mappings) {
        String target = System.getProperty(PROPERTY);
        if (target == null) {
            return new MemoryProbe(null, null, null);
        }
        HakMem heap = allocator instanceof HakMemPeer p && mappings != null ? p.heap() : null;
        MemoryProbe probe = new MemoryProbe(Path.of(target), heap, mappings);
        probe.snapshot("warm");
        probe.sampler.start();
        return probe;
    }

    /** Takes the baseline snapshot at the bench's baseline and starts sampling. */
    void measureFrom(long baselineRss) {
        if (file == null) {
            return;
        }
        baseline = snapshot("baseline", baselineRss);
        peak = baseline;
        measuring = true;
    }

    private void sample() {
        try {
            while (!stopped) {
                LockSupport.parkNanos(PERIOD_MILLIS * 1_000_000);
                if (measuring && !stopped) {
                    samples++;
                    long rss = Rss.currentBytes();
                    if (rss > peak.rss()) {
                        long start = System.nanoTime();
                        peak = snapshot("peak", rss);
                        snapshots++;
                        snapshotNanos += System.nanoTime() - start;
                    }
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private MemorySplit.Snapshot snapshot(String name) {
        return snapshot(name, Rss.currentBytes());
    }

    private MemorySplit.Snapshot snapshot(String name, long rss) {
        NmtSummary nmt = NmtSummary.capture();
        if (heap == null) {
            return new MemorySplit.Snapshot(name, rss, Rss.fileBytes(), -1, -1, Map.of(), nmt.committed());
        }
        Map<String, Long> resident = mappings.resident(heap);
        HakMemStats stats = heap.stats();
        return new MemorySplit.Snapshot(name, rss, Rss.fileBytes(), stats.liveBytes(), stats.committedBytes(),
                resident, nmt.committed());
    }

    /** Stops sampling, takes the end snapshot and writes the three to the file. */
    @Override
    public void close() {
        if (file == null) {
            return;
        }
        stopped = true;
        LockSupport.unpark(sampler);
        try {
            sampler.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the memory probe", e);
        }
        if (failure != null) {
            throw new IllegalStateException("the memory probe failed: " + failure, failure);
        }
        if (baseline == null) {
            throw new IllegalStateException("the memory probe was closed before its baseline");
        }
        MemorySplit split = new MemorySplit(baseline, peak, snapshot("end"),
                new MemorySplit.Probe(samples, PERIOD_MILLIS, snapshots, snapshotNanos / 1_000_000));
        try {
            Files.write(file, split.toLines());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the memory probe's snapshots to " + file, e);
        }
    }
}
