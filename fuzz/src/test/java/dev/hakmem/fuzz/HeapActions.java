package dev.hakmem.fuzz;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.Policy;
import dev.hakmem.verify.ShadowHeap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.Transformer;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The steps of the action chains. Each action draws its arguments up front and resolves block picks against the
 * state when it runs, so a shrunk chain still runs. Descriptions name a live block as {@code #pick} (the pick-th
 * oldest, modulo the live count); a failed chain's final state lists the steps with their real addresses.
 */
final class HeapActions {

    /** Longer than the maintenance thread's tick (20 ms). */
    private static final long PAUSE_MILLIS = 30;
    /** Blocks of a learner's window ({@link #learnerWindow}). */
    private static final int BURST_BLOCKS = 1024;

    private HeapActions() {
    }

    // ---- valid operations ----

    /** malloc through the heap (the anonymous site) or one of the test heap's sites. */
    static Action<ChainState> malloc() {
        return action(Combinators.combine(Gen.site(), Gen.size()).as((site, size) -> {
            String op = TestHeap.siteName(site) + "malloc(" + size + ")";
            return step(op, s -> s.added(s.test.shadow.malloc(s.test.site(site), size), op));
        }));
    }

    /** calloc with a count of 0..16 and the element size chosen so the product falls in the tiers too. */
    static Action<ChainState> calloc() {
        return action(Combinators.combine(Gen.site(), Arbitraries.longs().between(0, 16), Gen.size())
                .as((site, count, total) -> {
                    long elem = count == 0 ? total : total / count;
                    String op = TestHeap.siteName(site) + "calloc(" + count + ", " + elem + ")";
                    return step(op, s -> s.added(s.test.shadow.calloc(s.test.site(site), count, elem), op));
                }));
    }

    static Action<ChainState> mallocAligned() {
        return action(Combinators.combine(Gen.size(), Gen.alignment()).as((size, align) -> {
            String op = "mallocAligned(" + size + ", " + align + ")";
            return step(op, s -> s.added(s.test.shadow.mallocAligned(size, align), op));
        }));
    }

    static Action<ChainState> allocateSegment() {
        return action(Combinators.combine(Gen.site(), Gen.size(), Gen.alignment()).as((site, size, align) -> {
            String op = TestHeap.siteName(site) + "allocate(" + size + ", " + align + ")";
            return step(op, s -> s.addedSegment(s.test.shadow.allocateSegment(s.test.site(site), size, align), op));
        }));
    }

    /** A new policy in force, as the learner publishes one: blocks already allocated stay valid under it. */
    static Action<ChainState> publishPolicy() {
        return action(Gen.policy().map(p -> step("publish(" + p + ")", s -> s.test.publish(p))));
    }

    /** Grows, shrinks or keeps a block's size; a new size of 0 comes up as an edge case of the tiny range. */
    static Action<ChainState> realloc() {
        return action(Combinators.combine(Gen.pick(), Gen.size()).as((pick, size) ->
                step("realloc(#" + pick + ", " + size + ")", s -> s.withBlock(pick, a -> s.realloc(a, size)))));
    }

    static Action<ChainState> reallocToZero() {
        return action(Gen.pick().map(pick ->
                step("realloc(#" + pick + ", 0)", s -> s.withBlock(pick, a -> s.realloc(a, 0)))));
    }

    static Action<ChainState> reallocFromNull() {
        return action(Gen.size().map(size -> {
            String op = "realloc(0, " + size + ")";
            return step(op, s -> s.added(s.test.shadow.realloc(0, size), op));
        }));
    }

    static Action<ChainState> free() {
        return action(Gen.pick().map(pick ->
                step("free(#" + pick + ")", s -> s.withBlock(pick, s::free))));
    }

    static Action<ChainState> freeNull() {
        return action(Arbitraries.just(step("free(0)", s -> {
            s.log("free(0)");
            s.test.heap.free(0);
        })));
    }

    /**
     * Sleeps past a tick of the allocator's maintenance thread, so that it purges, trims and reclaims in the middle
     * of the chain (with a zero purge delay, every empty SuperSlab and cached mapping is given back).
     */
    static Action<ChainState> pause() {
        return action(Arbitraries.just(step("pause(" + PAUSE_MILLIS + " ms)", s -> {
            s.log("pause");
            try {
                Thread.sleep(PAUSE_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        })));
    }

    /**
     * On a learning heap, the operations of a window the learner scores: {@link #BURST_BLOCKS} blocks of one size,
     * each allocated and freed at once through the shadow (twice the learner's 1000 operations a window; an allocation
     * the page source refuses is skipped where the chain allows it). At its next tick the heap's maintenance thread
     * closes the window and puts the learner's next policy in force (a candidate on trial, or its choice) while the
     * chain goes on: the real learner changing the policy under the chain's feet, where {@link #publishPolicy} is the
     * chain's own thread. Does nothing on a heap that does not learn.
     */
    static Action<ChainState> learnerWindow() {
        return action(Arbitraries.longs().between(1, 4 * Gen.KIB).map(size -> {
            String op = "learnerWindow(" + BURST_BLOCKS + " x " + size + ")";
            return step(op, s -> {
                if (s.test.heap.config().mode() != HakMemConfig.Mode.LEARNING) {
                    return;
                }
                s.log(op);
                for (int i = 0; i < BURST_BLOCKS; i++) {
                    try {
                        s.test.shadow.free(s.test.shadow.malloc(size));
                    } catch (HakMemOutOfMemoryError e) {
                        if (!s.test.mayRunOutOfMemory()) {
                            throw e;
                        }
                    }
                }
            });
        }));
    }

    // ---- bad inputs: each must be refused with the documented exception and leave every live block intact ----

    /**
     * Frees a fresh block twice in a row. A slab block's second free must be a DoubleFreeException (the slab's
     * bitmap knows the block); a Big block's mapping may already be gone or cached, so any InvalidFreeException will
     * do there.
     */
    static Action<ChainState> doubleFree() {
        return action(Gen.size().map(size -> step("doubleFree(" + size + ")", s -> {
            long a = s.test.shadow.malloc(size);
            s.log("malloc(" + size + ") -> 0x" + Long.toHexString(a));
            // Slab blocks hold at most 1 MiB, big mappings 2 MiB or more: the policy in force decided which. Full
            // guard mode with no quarantine hands the block back at once, and the block it asked for is the request
            // and under 64 bytes of header and canary: a slab one for certain only below the smallest big threshold
            // any policy sets (its usable size is the request's, which does not show the tier).
            var guard = s.test.heap.config().guard();
            long usable = s.test.heap.usableSize(a);
            boolean slab = guard.enabled() && guard.quarantineBytes() == 0
                    ? usable + 64 <= Policy.MIN_BIG_THRESHOLD : usable <= Gen.MIB;
            s.test.shadow.free(a);
            s.rememberFreed(a);
            s.log("free(0x" + Long.toHexString(a) + ") twice");
            Class<? extends InvalidFreeException> expected =
                    slab ? DoubleFreeException.class : InvalidFreeException.class;
            refusedFree(s, expected, "second free(0x" + Long.toHexString(a) + ") of a " + size + "-byte block",
                    () -> s.test.heap.free(a));
        })));
    }

    /**
     * In full guard mode, one byte of a block written just after its free: {@code HakMem.check()} must report that
     * block at that exact offset, whatever the size and the offset (the first and last words, or anywhere), so every
     * byte of a quarantined block is verified; then the block is condemned and the next check passes. Off guard mode
     * (or with no quarantine) there is nothing to verify and the step is skipped.
     */
    static Action<ChainState> writeAfterFree() {
        Arbitrary<Integer> where = Arbitraries.integers().between(0, 3);
        return action(Combinators.combine(Gen.size(), where, Arbitraries.longs().between(0, Long.MAX_VALUE))
                .as((size, at, any) -> step("writeAfterFree(" + size + ", " + at + ")", s -> {
                    var guard = s.test.heap.config().guard();
                    if (!guard.enabled() || guard.sampling() || guard.quarantineBytes() == 0 || size == 0) {
                        s.log("writeAfterFree: no full guard mode or an empty block: skipped");
                        return;
                    }
                    long a = s.test.shadow.malloc(size);
                    // Not remembered as freed, and forgotten if an earlier block there was: the block is condemned,
                    // and a stale free of it is a corruption report.
                    s.test.shadow.free(a);
                    s.forgetFreed(a);
                    // The first word, the last word, the last byte, or anywhere.
                    long off = switch (at) {
                        case 0 -> any % Math.min(size, 8);
                        case 1 -> size - 1 - any % Math.min(size, 8);
                        case 2 -> size - 1;
                        default -> any % size;
                    };
                    s.log("free(0x" + Long.toHexString(a) + "), then its byte at offset " + off + " written");
                    MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
                    all.set(ValueLayout.JAVA_BYTE, a + off, (byte) ~all.get(ValueLayout.JAVA_BYTE, a + off));
                    HeapCorruptionException e = assertThrows(HeapCorruptionException.class, s.test.heap::check,
                            "a write after free at offset " + off + " of a " + size + "-byte block");
                    if (e.address() != a || !e.getMessage().contains("was modified at offset " + off + "\n")) {
                        throw new AssertionError("write after free at offset " + off + " of 0x" + Long.toHexString(a)
                                + " (" + size + " B) reported as: " + e.getMessage(), e);
                    }
                    s.test.heap.check();
                })));
    }

    /** An address freed earlier in the chain and not handed out again: free, realloc and usableSize refuse it. */
    static Action<ChainState> staleFree() {
        return action(Combinators.combine(Gen.pick(), Arbitraries.integers().between(0, 2))
                .as((pick, op) -> step("stale " + opName(op) + "(freed #" + pick + ")", s -> {
                    if (!s.hasFreed()) {
                        s.log("stale: nothing freed yet: skipped");
                        return;
                    }
                    long a = s.pickFreed(pick);
                    if (s.test.shadow.isLive(a)) {
                        s.log("stale 0x" + Long.toHexString(a) + " was handed out again: skipped");
                        return;
                    }
                    s.log("stale " + opName(op) + "(0x" + Long.toHexString(a) + ")");
                    refusedOp(s, op, "stale " + opName(op) + "(0x" + Long.toHexString(a) + ")", a);
                })));
    }

    /** A pointer into a live block of at least 32 bytes: 8 bytes in (the classic mistake), or anywhere inside. */
    static Action<ChainState> interiorFree() {
        Arbitrary<Long> offsets = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.just(8L)),
                Tuple.of(1, Arbitraries.longs().between(1, 8 * Gen.MIB)));
        return action(Combinators.combine(Gen.pick(), offsets,
                        Arbitraries.integers().between(0, 2))
                .as((pick, offset, op) -> step("interior " + opName(op) + "(#" + pick + " + " + offset + ")", s -> {
                    ShadowHeap.Block b = s.hasBlocks() ? s.test.shadow.block(s.pick(pick)) : null;
                    if (b == null || b.requested() < 32) {
                        s.log("interior: no live block of 32 bytes or more: skipped");
                        return;
                    }
                    long a = b.address() + 1 + (offset - 1) % (b.usable() - 1);
                    String what = "interior " + opName(op) + "(0x" + Long.toHexString(a) + ") into " + b;
                    s.log(what);
                    InvalidFreeException e = refusedOp(s, op, what, a);
                    if (e instanceof DoubleFreeException) {
                        throw new AssertionError(what + " was reported as a double free", e);
                    }
                })));
    }

    /** Addresses that are none of ours: wild longs, the JVM's native memory, another heap's block, a heap segment. */
    static Action<ChainState> foreignFree() {
        Arbitrary<Long> wild = Arbitraries.oneOf(
                Arbitraries.longs(),
                Arbitraries.longs().between(1, 1L << 47).map(a -> a & -16L),
                Arbitraries.of(1L, 16L, 4096L, -16L, Long.MIN_VALUE, Long.MAX_VALUE & -16L));
        return action(Combinators.combine(Arbitraries.integers().between(0, 4), wild,
                        Arbitraries.integers().between(0, 2))
                .as((kind, address, op) -> step(foreignName(kind, address, op), s -> foreign(s, kind, address, op))));
    }

    private static String foreignName(int kind, long wild, int op) {
        return switch (kind) {
            case 0, 1 -> "foreign " + opName(op) + "(0x" + Long.toHexString(wild) + ")";
            case 2 -> "foreign " + opName(op) + "(JVM native memory)";
            case 3 -> "foreign " + opName(op) + "(another heap's block)";
            default -> "foreign free(heap segment)";
        };
    }

    private static void foreign(ChainState s, int kind, long wild, int op) {
        HakMem heap = s.test.heap;
        switch (kind) {
            case 0, 1 -> {
                if (wild == 0 || s.test.shadow.isLive(wild)) {
                    s.log("foreign: 0x" + Long.toHexString(wild) + " is null or live: skipped");
                    return;
                }
                s.log("foreign " + opName(op) + "(0x" + Long.toHexString(wild) + ")");
                refusedOp(s, op, opName(op) + "(0x" + Long.toHexString(wild) + ")", wild);
            }
            case 2 -> {
                try (Arena arena = Arena.ofConfined()) {
                    long jvm = arena.allocate(64, 16).address();
                    s.log("foreign " + opName(op) + "(JVM native 0x" + Long.toHexString(jvm) + ")");
                    refusedOp(s, op, opName(op) + " of the JVM's native memory", jvm);
                }
            }
            case 3 -> {
                // A live block of another heap: refused here, and still intact and freeable there.
                HakMem other = s.test.other();
                long b = other.malloc(64);
                s.log("foreign " + opName(op) + "(0x" + Long.toHexString(b) + " of another heap)");
                refusedOp(s, op, opName(op) + " of another heap's block", b);
                other.free(b);
            }
            default -> {
                // free(MemorySegment) only: the other operations take addresses.
                s.log("free(heap segment)");
                refusedFree(s, InvalidFreeException.class, "free(MemorySegment.ofArray(...))",
                        () -> heap.free(MemorySegment.ofArray(new byte[16])));
            }
        }
    }

    static Action<ChainState> negativeSize() {
        return action(Combinators.combine(Arbitraries.integers().between(0, 6),
                        Arbitraries.longs().between(Long.MIN_VALUE, -1), Gen.pick())
                .as((kind, neg, pick) -> step("negative size " + neg + " (kind " + kind + ")", s -> {
                    HakMem heap = s.test.heap;
                    Executable call = switch (kind) {
                        case 0 -> () -> heap.malloc(neg);
                        case 1 -> () -> heap.calloc(neg, 16);
                        case 2 -> () -> heap.calloc(16, neg);
                        case 3 -> () -> heap.mallocAligned(neg, 64);
                        case 4 -> () -> heap.allocate(neg, 16);
                        case 5 -> () -> heap.realloc(0, neg);
                        default -> {
                            if (!s.hasBlocks()) {
                                yield () -> heap.malloc(neg);
                            }
                            long a = s.pick(pick);
                            yield () -> heap.realloc(a, neg);
                        }
                    };
                    s.log("negative size " + neg + " (kind " + kind + ")");
                    refused(s, IllegalArgumentException.class, "size " + neg + " (kind " + kind + ")", call);
                })));
    }

    static Action<ChainState> badAlignment() {
        Arbitrary<Long> notPowerOfTwo = Arbitraries.oneOf(
                Arbitraries.of(0L, -1L, -16L, 3L, 24L, 48L, Long.MIN_VALUE, Long.MAX_VALUE),
                Arbitraries.longs().filter(a -> a <= 0 || Long.bitCount(a) != 1));
        return action(Combinators.combine(Gen.size(), notPowerOfTwo, Arbitraries.of(true, false))
                .as((size, align, segment) -> {
                    String op = (segment ? "allocate(" : "mallocAligned(") + size + ", " + align + ")";
                    return step(op, s -> {
                        s.log(op);
                        refused(s, IllegalArgumentException.class, op, segment
                                ? () -> s.test.heap.allocate(size, align)
                                : () -> s.test.heap.mallocAligned(size, align));
                    });
                }));
    }

    static Action<ChainState> callocOverflow() {
        Arbitrary<Long> positive = Arbitraries.longs().between(2, Long.MAX_VALUE);
        return action(Combinators.combine(positive, positive)
                .filter((count, size) -> Math.multiplyHigh(count, size) != 0 || count * size < 0)
                .as((count, size) -> {
                    String op = "calloc(" + count + ", " + size + ")";
                    return step(op, s -> {
                        s.log(op);
                        refused(s, IllegalArgumentException.class, op, () -> s.test.heap.calloc(count, size));
                    });
                }));
    }

    /** Sizes no tier can map (beyond the 48-bit address space) fail cleanly with HakMemOutOfMemoryError. */
    static Action<ChainState> hugeSize() {
        return action(Combinators.combine(Arbitraries.longs().between(1L << 48, Long.MAX_VALUE),
                        Arbitraries.integers().between(0, 2))
                .as((size, kind) -> {
                    String op = switch (kind) {
                        case 0 -> "malloc(" + size + ")";
                        case 1 -> "calloc(1, " + size + ")";
                        default -> "mallocAligned(" + size + ", 4096)";
                    };
                    return step(op, s -> {
                        s.log(op);
                        HakMem heap = s.test.heap;
                        refused(s, HakMemOutOfMemoryError.class, op, switch (kind) {
                            case 0 -> () -> heap.malloc(size);
                            case 1 -> () -> heap.calloc(1, size);
                            default -> () -> heap.mallocAligned(size, 4096);
                        });
                    });
                }));
    }

    // ---- helpers ----

    private static String opName(int op) {
        return switch (op) {
            case 0 -> "free";
            case 1 -> "realloc";
            default -> "usableSize";
        };
    }

    private static void apply(HakMem heap, int op, long address) {
        switch (op) {
            case 0 -> heap.free(address);
            case 1 -> heap.realloc(address, 16);
            default -> heap.usableSize(address);
        }
    }

    /** free, realloc or usableSize of an address that is not a live block: an InvalidFreeException. */
    private static InvalidFreeException refusedOp(ChainState s, int op, String what, long address) {
        return op == 0
                ? refusedFree(s, InvalidFreeException.class, what, () -> s.test.heap.free(address))
                : refusedPointer(s, InvalidFreeException.class, what, false, () -> apply(s.test.heap, op, address));
    }

    private static <T extends InvalidFreeException> T refusedFree(ChainState s, Class<T> type, String what,
                                                                  Executable call) {
        return refusedPointer(s, type, what, true, call);
    }

    /**
     * A refused address, which the heap must count as documented: in guard mode as one more violation (free,
     * realloc or usableSize alike); otherwise, for a free, as one more invalid free, and one more double free if it
     * is one.
     */
    private static <T extends InvalidFreeException> T refusedPointer(ChainState s, Class<T> type, String what,
                                                                     boolean isFree, Executable call) {
        HakMem heap = s.test.heap;
        long violationsBefore = heap.violations();
        HakMemStats.Events before = heap.stats().events();
        T e = refused(s, type, what, call);
        HakMemStats.Events after = heap.stats().events();
        if (heap.config().guard().enabled()) {
            if (heap.violations() != violationsBefore + 1) {
                throw new AssertionError(what + " threw " + e.getClass().getSimpleName() + " but violations() went"
                        + " from " + violationsBefore + " to " + heap.violations());
            }
        } else if (isFree) {
            long doubles = e instanceof DoubleFreeException ? 1 : 0;
            if (after.invalidFrees() - before.invalidFrees() != 1
                    || after.doubleFrees() - before.doubleFrees() != doubles) {
                throw new AssertionError(what + " threw " + e.getClass().getSimpleName() + " but the events went"
                        + " from invalidFrees " + before.invalidFrees() + ", doubleFrees " + before.doubleFrees()
                        + " to " + after.invalidFrees() + ", " + after.doubleFrees());
            }
        }
        return e;
    }

    /** Runs a call that must throw {@code type}, then checks that every live block and the heap survived it. */
    private static <T extends Throwable> T refused(ChainState s, Class<T> type, String what, Executable call) {
        T e = assertThrows(type, call, what + " must throw " + type.getSimpleName());
        s.test.shadow.verifyAll();
        s.test.heap.check();
        return e;
    }

    /** A step; running out of memory is one of its legitimate outcomes when the heap may run out. */
    private static Transformer<ChainState> step(String description, Consumer<ChainState> body) {
        return Transformer.mutate(description, s -> {
            try {
                body.accept(s);
            } catch (HakMemOutOfMemoryError e) {
                if (!s.test.mayRunOutOfMemory()) {
                    throw e;
                }
                s.log("  out of memory: " + e.getMessage());
            }
        });
    }

    /**
     * An action without a precondition: jqwik marks steps whose precondition read the state as boundaries it shrinks
     * around, so a chain of such steps hardly shrinks. Steps that need a live block do nothing when there is none.
     */
    private static Action.Independent<ChainState> action(Arbitrary<Transformer<ChainState>> transformers) {
        return () -> transformers;
    }
}
