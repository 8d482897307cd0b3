package dev.hakmem;

import dev.hakmem.sampled.SampledGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The sampled guard's {@code check()} verifies its bookkeeping (the invariants of {@link SampledGuard}'s class
 * comment), the net under every state transition: each test breaks one invariant the way a bug would, through the
 * guard's private fields (as {@code SlabCheckTest} breaks a slab's), and expects {@code check()} to name it; then it
 * restores the field and expects {@code check()} to pass, so that the broken invariant, and only it, was reported.
 * Each fails if its branch of the validator is removed or its reconciliation miscounts. The guard's own
 * {@code check()} is called, not the heap's, whose reconciliation of the memory account would report a miscount of
 * given-back pages first.
 */
class SampledGuardBookkeepingTest {
    private static final MethodHandles.Lookup GUARD;
    private static final Class<?> SAMPLE;

    static {
        try {
            GUARD = MethodHandles.privateLookupIn(SampledGuard.class, MethodHandles.lookup());
            SAMPLE = Class.forName(SampledGuard.class.getName() + "$Sample");
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static VarHandle field(Class<?> owner, String name, Class<?> type) {
        try {
            return GUARD.findVarHandle(owner, name, type);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static final VarHandle STATE = field(SampledGuard.class, "state", byte[].class);
    private static final VarHandle CLOSED = field(SampledGuard.class, "closed", boolean[].class);
    private static final VarHandle DROPPED = field(SampledGuard.class, "dropped", boolean[].class);
    private static final VarHandle DROPPED_SLOTS = field(SampledGuard.class, "droppedSlots", int.class);
    private static final VarHandle FRESH_PAGES = field(SampledGuard.class, "freshPages", int.class);
    private static final VarHandle FRESH_SMALL = field(SampledGuard.class, "freshSmall", int.class);
    private static final VarHandle LIVE = field(SampledGuard.class, "live", int.class);
    private static final VarHandle QUARANTINE = field(SampledGuard.class, "quarantine", ArrayDeque.class);
    private static final VarHandle PLACED_AT_END = field(SampledGuard.class, "placedAtEnd", long.class);
    private static final VarHandle PLACED_AT_START = field(SampledGuard.class, "placedAtStart", long.class);
    private static final VarHandle SAMPLES = field(SampledGuard.class, "samples", SAMPLE.arrayType());
    private static final VarHandle USER = field(SAMPLE, "user", long.class);
    private static final VarHandle SIZE = field(SAMPLE, "size", long.class);
    /** The first small slot: a block of up to 992 B takes small slots 128, 129, ... in turn. */
    private static final int FIRST_SMALL = 128;

    private final HakMem heap = HakMem.create(HakMemConfig.builder().guard(GuardOptions.sampled(1)).build());
    private final SampledGuard guard = heap.allocator().sampledGuard();

    @AfterEach
    void close() {
        heap.close();
    }

    /** {@code check()} reports the bookkeeping broken by {@code breaking}, ending {@code tail}; then passes again. */
    private void assertReported(Runnable breaking, Runnable restoring, String tail) {
        assertReported(guard, breaking, restoring, tail);
    }

    private static void assertReported(SampledGuard guard, Runnable breaking, Runnable restoring, String tail) {
        guard.check();
        breaking.run();
        String m = assertThrows(HeapCorruptionException.class, guard::check).getMessage();
        assertTrue(m.startsWith("sampled guard's bookkeeping: ") && m.endsWith(tail), m);
        restoring.run();
        guard.check();
    }

    private byte[] state() {
        return (byte[]) STATE.get(guard);
    }

    private Object sample(int i) {
        return ((Object[]) SAMPLES.get(guard))[i];
    }

    @Test
    void slotsHandedOutWithoutAChunk() {
        assertReported(() -> {
            FRESH_PAGES.set(guard, 1);
            FRESH_SMALL.set(guard, 1);
        }, () -> {
            FRESH_PAGES.set(guard, 0);
            FRESH_SMALL.set(guard, 0);
        }, "is not mapped and registered as the guard's while 2 slots were handed out");
    }

    /** Condemned (3), not live: verifying a live slot that never held a block would read its block at address 0. */
    @Test
    void aSlotUsedPastTheSlotsHandedOut() {
        heap.malloc(100);
        assertReported(() -> state()[FIRST_SMALL + 1] = 3, () -> state()[FIRST_SMALL + 1] = 0,
                "slot 129 is used but the slots before 129 of its kind were handed out");
    }

    @Test
    void aClosedSlotWithoutGuardPages() {
        boolean[] closed = (boolean[]) CLOSED.get(guard);
        heap.malloc(100);
        assertReported(() -> closed[0] = true, () -> closed[0] = false,
                "slot 0 is inaccessible, but in state 0 with guard pages off");
    }

    /** With guard pages on, only page slots are closed: a small slot closed is reported, though it is unused. */
    @Test
    void aSmallSlotClosedWithGuardPages(@TempDir Path dir) {
        assumeTrue(PageSource.system().canProtect(), "guard pages need mprotect");
        try (HakMem paged = HakMem.create(HakMemConfig.builder()
                .guard(GuardOptions.sampled(1).withGuardPages(dir.resolve("pages.txt"))).build())) {
            SampledGuard pagedGuard = paged.allocator().sampledGuard();
            boolean[] closed = (boolean[]) CLOSED.get(pagedGuard);
            paged.malloc(100);
            assertReported(pagedGuard, () -> closed[FIRST_SMALL] = true, () -> closed[FIRST_SMALL] = false,
                    "slot 128 is inaccessible, but in state 0");
        }
    }

    /**
     * A small slot keeps its page: one marked given back is reported, though its state would allow it. Condemned, so
     * that no verification asks its residency first (only page slots have one).
     */
    @Test
    void aSmallSlotsPageGivenBack() {
        boolean[] dropped = (boolean[]) DROPPED.get(guard);
        heap.free(heap.malloc(100));
        assertReported(() -> {
            dropped[FIRST_SMALL] = true;
            state()[FIRST_SMALL] = 3;
        }, () -> {
            dropped[FIRST_SMALL] = false;
            state()[FIRST_SMALL] = 2;
        }, "slot 128's page was given back, but the slot is in state 3");
    }

    @Test
    void aMiscountOfPagesGivenBack() {
        heap.free(heap.malloc(1400));
        assertReported(() -> DROPPED_SLOTS.set(guard, 0), () -> DROPPED_SLOTS.set(guard, 1),
                "it counts 0 slots given back, but 1 are");
    }

    @Test
    void aMiscountOfLiveBlocks() {
        heap.malloc(100);
        assertReported(() -> LIVE.set(guard, 2), () -> LIVE.set(guard, 1),
                "it counts 2 live sampled blocks (at most 16) of 100 bytes, but 1 slots are live, holding 100 bytes");
    }

    /**
     * 16 live sampled blocks are the most there may be (the 17th malloc is not sampled), and a valid state: the
     * bound is not off by one.
     */
    @Test
    void sixteenLiveBlocksAreValid() {
        for (int i = 0; i < 17; i++) {
            heap.malloc(100);
        }
        assertReported(() -> LIVE.set(guard, 17), () -> LIVE.set(guard, 16),
                "it counts 17 live sampled blocks (at most 16) of 1600 bytes, but 16 slots are live, holding 1600"
                        + " bytes");
    }

    @Test
    void aFreedSlotInTheWrongQuarantine() {
        heap.free(heap.malloc(100));
        ArrayDeque<?> pages = (ArrayDeque<?>) QUARANTINE.get(guard);
        @SuppressWarnings("unchecked")
        ArrayDeque<Integer> pageQueue = (ArrayDeque<Integer>) pages;
        assertReported(() -> pageQueue.add(FIRST_SMALL), pageQueue::clear,
                "its quarantines hold [128] and [128] but 1 slots are freed");
    }

    /** A block placed one byte into either margin: the margins' reconciliation, at each end. */
    @Test
    void aBlockWithLessThanSixteenCanaryBytesOnEitherSide() {
        long a = heap.malloc(100);
        long slot = a & -1024;
        Object s = sample(FIRST_SMALL);
        String part = "sampled block 0x%x of %d B leaves less than 16 canary bytes in its slot";
        assertReported(() -> USER.set(s, slot + 15), () -> USER.set(s, a), part.formatted(slot + 15, 100));
        assertReported(() -> SIZE.set(s, slot + 1024 - 15 - a), () -> SIZE.set(s, 100L),
                part.formatted(a, slot + 1024 - 15 - a));
    }

    /** Of exactly 64 placements, none at the end: the coin is stuck. */
    @Test
    void aStuckPlacement() {
        assertReported(() -> {
            PLACED_AT_START.set(guard, 64L);
            PLACED_AT_END.set(guard, 0L);
        }, () -> PLACED_AT_END.set(guard, 1L),
                "of 64 sampled blocks, 0 were placed at the end of their slot: the placement is not random");
    }
}
