package dev.hakmem.fuzz;

import dev.hakmem.HakMemStats;
import dev.hakmem.verify.ShadowHeap;
import net.jqwik.api.statistics.Statistics;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The state an action chain works on: a {@link TestHeap}, its live blocks in allocation order (so that a pick
 * shrinks towards the oldest block), the segments among them, recently freed addresses for stale frees, and a log
 * of what each step actually did, addresses included.
 */
final class ChainState {

    private static final int FREED_KEPT = 16;
    private static final int LOG_KEPT = 60;
    private static final int CHECK_EVERY = 8;

    final TestHeap test;
    private final List<Long> blocks = new ArrayList<>();
    private final Map<Long, MemorySegment> segments = new HashMap<>();
    private final ArrayDeque<Long> freed = new ArrayDeque<>();
    private final ArrayDeque<String> log = new ArrayDeque<>();
    private int steps;

    ChainState(TestHeap test) {
        this.test = test;
    }

    boolean hasBlocks() {
        return !blocks.isEmpty();
    }

    boolean hasFreed() {
        return !freed.isEmpty();
    }

    long pick(int pick) {
        return blocks.get(Math.floorMod(pick, blocks.size()));
    }

    /** Runs {@code body} on the picked live block; with no live block the step does nothing. */
    void withBlock(int pick, LongConsumer body) {
        if (blocks.isEmpty()) {
            log("no live block: skipped");
        } else {
            body.accept(pick(pick));
        }
    }

    long pickFreed(int pick) {
        return freed.stream().skip(Math.floorMod(pick, freed.size())).findFirst().orElseThrow();
    }

    void added(long address, String op) {
        blocks.add(address);
        log(op + " -> 0x" + Long.toHexString(address));
    }

    void addedSegment(MemorySegment segment, String op) {
        segments.put(segment.address(), segment);
        added(segment.address(), op);
    }

    /** Frees a live block the way it was allocated: segments through {@code free(MemorySegment)}. */
    void free(long address) {
        MemorySegment segment = segments.remove(address);
        log((segment != null ? "freeSegment(0x" : "free(0x") + Long.toHexString(address) + ")");
        if (segment != null) {
            test.shadow.freeSegment(segment);
        } else {
            test.shadow.free(address);
        }
        blocks.remove(Long.valueOf(address));
        rememberFreed(address);
    }

    /** Reallocates through the shadow (which checks the contents that must survive), counting the tiers crossed. */
    void realloc(long address, long newSize) {
        log("realloc(0x" + Long.toHexString(address) + ", " + newSize + ")");
        HakMemStats.Tier from = ShadowHeap.tierOf(test.shadow.block(address).usable());
        long moved = test.shadow.realloc(address, newSize);
        Statistics.label("realloc").collect(from + " -> " + ShadowHeap.tierOf(test.shadow.block(moved).usable()));
        log("  -> 0x" + Long.toHexString(moved));
        segments.remove(address);
        blocks.set(blocks.indexOf(address), moved);
        if (moved != address) {
            rememberFreed(address);
        }
    }

    /** Remembers a freed address for later stale frees. */
    void rememberFreed(long address) {
        if (freed.size() == FREED_KEPT) {
            freed.removeFirst();
        }
        freed.addLast(address);
    }

    /**
     * Forgets every remembered free of {@code address}: its block was condemned, and a stale free of a condemned
     * block is a corruption report, not the invalid free {@code staleFree} expects.
     */
    void forgetFreed(long address) {
        freed.removeIf(a -> a == address);
    }

    void log(String line) {
        if (log.size() == LOG_KEPT) {
            log.removeFirst();
        }
        log.addLast(line);
    }

    /**
     * The chain's invariant after every step: {@link TestHeap#reconcileStats}, and every {@link #CHECK_EVERY} steps
     * the whole {@code check()}, which walks every block (its counters cannot drift back unnoticed: they persist).
     */
    void reconcile() {
        try {
            if (++steps % CHECK_EVERY == 0) {
                test.reconcile();
            } else {
                test.reconcileStats();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** jqwik prints the final state of a failed chain: the steps as it executed them. */
    @Override
    public String toString() {
        return test.shadow.liveCount() + " live blocks; last steps as executed:\n  " + String.join("\n  ", log);
    }
}
