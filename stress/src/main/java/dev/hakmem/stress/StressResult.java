package dev.hakmem.stress;

import dev.hakmem.verify.FaultInjectingPageSource.Op;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a {@link StressWorkload} run did and what it left behind.
 *
 * @param operations        allocator calls made (malloc, calloc, realloc, mallocAligned, free)
 * @param elapsed           from the first worker's start to the last block's free
 * @param bytesAllocated    bytes requested over the run
 * @param remoteFrees       blocks freed by a thread other than the one that allocated them
 * @param threadsStarted    worker threads started, replacements included
 * @param outOfMemoryErrors HakMemOutOfMemoryErrors the workers met: expected under fault injection, not errors
 * @param errors            content mismatches, broken allocator promises, unexpected exceptions, and planted heap
 *                          errors missed, reported twice or misattributed
 * @param errorSamples      the first few errors, described
 * @param baselineRssBytes  the process's RSS before the workload allocated anything (a new heap maps nothing before
 *                          its first allocation, so this is the RSS before the heap existed); -1 where unknown
 * @param peakRssBytes      the process's peak RSS (VmHWM) at the end; -1 where unknown
 * @param finalRssBytes     the process's RSS after every block was freed and the heap had time to purge; -1 where
 *                          unknown
 * @param liveBytes         the heap's live bytes after every block was freed: 0 unless blocks leaked, or planted
 *                          errors left their victims allocated
 * @param liveBlocks        the heap's live blocks after every block was freed
 * @param mappedBytes       what the heap still had mapped at the end
 * @param committedBytes    the part of it not given back to the OS
 * @param planted           the heap errors planted in guard mode, or null when none were
 * @param faults            the page-source faults injected, or null when there was no fault injection
 */
public record StressResult(long operations, Duration elapsed, long bytesAllocated, long remoteFrees,
                           long threadsStarted, long outOfMemoryErrors, long errors, List<String> errorSamples,
                           long baselineRssBytes, long peakRssBytes, long finalRssBytes,
                           long liveBytes, long liveBlocks, long mappedBytes, long committedBytes,
                           Planted planted, Faults faults) {

    public StressResult {
        errorSamples = List.copyOf(errorSamples);
    }

    /** One kind of planted heap error: each must be detected exactly once. */
    public record KindCount(String kind, long planted, long detected, long missed, long repeated) {
    }

    /**
     * The heap errors planted in guard mode.
     *
     * @param kinds       per kind of error
     * @param heldBlocks  victims that stay allocated for good: an underflow destroys the header that says how big
     *                    the block is, and a refused interior-pointer free leaves the block allocated
     * @param heldBytes   their requested bytes
     * @param lostBlocks  blocks the allocator allocated but whose address it lost (each is an error)
     * @param lostBytes   their requested bytes
     * @param wafByCheck  writes after free first reported by {@code HakMem.check()}
     * @param wafOnLeave  writes after free first reported when the victim left the quarantine
     * @param checks      {@code HakMem.check()} calls made while the workers ran, the final one included
     * @param allocatorBlocks   blocks allocated underneath guard mode at the end (per-tier live blocks): each guarded
     *                          block, quarantined block and block out of circulation is one
     * @param quarantined       blocks left in the quarantine at the end, by the workload's flush
     * @param outOfCirculation  victims whose block the allocator keeps for good (condemned, headerless, refused,
     *                          kept after a write after free)
     */
    public record Planted(List<KindCount> kinds, long heldBlocks, long heldBytes, long lostBlocks, long lostBytes,
                          long wafByCheck, long wafOnLeave, long checks, long allocatorBlocks, long quarantined,
                          long outOfCirculation) {
        public Planted {
            kinds = List.copyOf(kinds);
        }

        /**
         * Allocator blocks nothing explains. The program's live blocks are the held victims and the lost blocks,
         * both among the blocks out of circulation or lost, so they are not added again. Blocks that left the
         * quarantine without going back to the allocator would show here.
         */
        public long unaccountedAllocatorBlocks() {
            return allocatorBlocks - quarantined - outOfCirculation - lostBlocks;
        }

        public long total() {
            return kinds.stream().mapToLong(KindCount::planted).sum();
        }

        /** Every planted error detected, and none reported twice. */
        public boolean allDetectedOnce() {
            return kinds.stream().allMatch(k -> k.missed() == 0 && k.repeated() == 0 && k.detected() == k.planted());
        }
    }

    /** Page-source calls made and faults injected, per operation. */
    public record Faults(Map<Op, Long> calls, Map<Op, Long> injected) {
        public Faults {
            calls = Map.copyOf(new EnumMap<>(calls));
            injected = Map.copyOf(new EnumMap<>(injected));
        }

        public long injectedTotal() {
            return injected.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    public double opsPerSecond() {
        long nanos = elapsed.toNanos();
        return nanos == 0 ? 0 : operations * 1e9 / nanos;
    }

    /** Live bytes at the end that neither a planted error nor a block the allocator lost explains: leaked bytes. */
    public long unaccountedBytes() {
        return planted == null ? liveBytes : liveBytes - planted.heldBytes() - planted.lostBytes();
    }

    public long unaccountedBlocks() {
        return planted == null ? liveBlocks : liveBlocks - planted.heldBlocks() - planted.lostBlocks();
    }

    /** True when the run found nothing wrong, every planted error was detected once, and nothing leaked. */
    public boolean clean() {
        return errors == 0 && unaccountedBytes() == 0 && unaccountedBlocks() == 0
                && (planted == null || planted.allDetectedOnce() && planted.unaccountedAllocatorBlocks() == 0);
    }

    /** The summary as printed at the end of a run. */
    public List<String> summaryLines() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "operations  %,d in %.1f s = %.2f Mops/s (%s allocated, %,d remote frees, %,d threads)",
                operations, elapsed.toMillis() / 1e3, opsPerSecond() / 1e6, Units.bytes(bytesAllocated),
                remoteFrees, threadsStarted));
        lines.add("rss         baseline " + Units.bytes(baselineRssBytes) + ", peak " + Units.bytes(peakRssBytes)
                + ", final " + Units.bytes(finalRssBytes));
        lines.add(String.format(Locale.ROOT, "heap        live %s (%,d blocks), mapped %s, committed %s",
                Units.bytes(liveBytes), liveBlocks, Units.bytes(mappedBytes), Units.bytes(committedBytes)));
        if (planted != null) {
            lines.add(String.format(Locale.ROOT, "            of the live: %s (%,d blocks) held by planted errors' "
                            + "victims, %s (%,d blocks) lost by the allocator, %s (%,d blocks) unaccounted",
                    Units.bytes(planted.heldBytes()), planted.heldBlocks(), Units.bytes(planted.lostBytes()),
                    planted.lostBlocks(), Units.bytes(unaccountedBytes()), unaccountedBlocks()));
            lines.add(String.format(Locale.ROOT, "allocator   %,d blocks underneath guard mode: %,d left in the "
                            + "quarantine, %,d victims out of circulation, %,d lost, %,d unaccounted",
                    planted.allocatorBlocks(),
                    planted.quarantined(), planted.outOfCirculation(), planted.lostBlocks(),
                    planted.unaccountedAllocatorBlocks()));
            lines.add(String.format(Locale.ROOT, "planted     %-28s %8s %9s %7s %9s", "kind", "planted", "detected",
                    "missed", "repeated"));
            for (KindCount k : planted.kinds()) {
                lines.add(String.format(Locale.ROOT, "            %-28s %,8d %,9d %,7d %,9d", k.kind(), k.planted(),
                        k.detected(), k.missed(), k.repeated()));
            }
            lines.add(String.format(Locale.ROOT, "            writes after free first reported: %,d by heap.check() "
                    + "(%,d calls), %,d on leaving the quarantine", planted.wafByCheck(), planted.checks(),
                    planted.wafOnLeave()));
        }
        if (faults != null) {
            StringBuilder perOp = new StringBuilder();
            long calls = 0;
            for (Op op : Op.values()) {
                calls += faults.calls().getOrDefault(op, 0L);
                perOp.append(perOp.isEmpty() ? "" : ", ").append(op.name().toLowerCase(Locale.ROOT)).append(' ')
                        .append(faults.injected().getOrDefault(op, 0L)).append('/')
                        .append(faults.calls().getOrDefault(op, 0L));
            }
            lines.add(String.format(Locale.ROOT, "faults      %,d of %,d page-source calls failed (%s); %,d "
                    + "out-of-memory errors met (expected)", faults.injectedTotal(), calls, perOp, outOfMemoryErrors));
        }
        lines.add(String.format(Locale.ROOT, "errors      %,d", errors));
        lines.add(clean() ? "result      PASS" : "result      FAIL");
        return lines;
    }
}
