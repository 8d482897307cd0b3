package dev.hakmem.fuzz;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.InvalidFreeException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many virtual threads over few shared heaps (1 or 2, each under its lock) keep allocating, freeing and reallocating
 * while the heaps fail under them: the mapped limit runs out, the page source fails at random, requests are too
 * large, and bad addresses are freed. Every failure must leave its shared heap usable for the next virtual thread:
 * the lock released, no half-built state, nothing stranded. The shadow heap checks every block; at the end fresh
 * virtual threads must still be served by every shared heap, {@code check()} must find every heap's bookkeeping whole
 * (which includes that no shared heap's lock is held), the refusals must be counted exactly, and the stats and the
 * page source's ledger must agree with the shadow.
 */
@AddLifecycleHook(FuzzScale.class)
class SharedHeapProperties {

    enum Kind {
        MALLOC, SITE_MALLOC, CALLOC, REALLOC, FREE, GIVE, TAKE_AND_FREE, INTERIOR_FREE, WILD_FREE, ARRAY_FREE,
        TOO_LARGE
    }

    /** One step of a virtual thread's script; {@code pick} chooses among its own blocks, modulo their count. */
    record Op(Kind kind, long size, int pick) {
        @Override
        public String toString() {
            return kind + "(" + size + ", #" + pick + ")";
        }
    }

    /** What the virtual threads saw fail, for the statistics and the reconciliation at the end. */
    private static final class Failures {
        final AtomicLong outOfMemory = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
    }

    @Property(tries = 30)
    void sharedHeapsStayUsableAfterEveryFailure(@ForAll("configs") HakMemConfig config,
                                                @ForAll("scripts") List<List<Op>> scripts,
                                                @ForAll long faultSeed,
                                                @ForAll("failureRates") double failureRate)
            throws InterruptedException {
        TestHeap test = new TestHeap(config, faultSeed, failureRate);
        boolean stuck = false;
        try {
            Failures failures = new Failures();
            Queue<Long> handoff = new ConcurrentLinkedQueue<>();
            List<Runnable> threads = new ArrayList<>();
            for (List<Op> script : scripts) {
                threads.add(() -> runScript(test, script, handoff, failures));
            }
            Workers.run("shared", true, threads);
            Statistics.label("ran out of memory under the lock").collect(failures.outOfMemory.get() > 0 ? "some" : "none");

            test.heap.check();
            // Every shared heap still serves fresh virtual threads (consecutive ones cover every heap): a leaked
            // lock would hang them, and Workers reports where.
            List<Runnable> fresh = new ArrayList<>();
            for (int i = 0; i < 4 * config.sharedHeaps(); i++) {
                fresh.add(() -> {
                    ScriptSteps steps = new ScriptSteps(test, handoff, failures.outOfMemory);
                    steps.malloc(48);
                    steps.realloc(0, 3000);
                    steps.handOffTheRest();
                });
            }
            Workers.run("fresh", true, fresh);
            for (Long a; (a = handoff.poll()) != null; ) {
                test.shadow.free(a);
            }
            assertRefusalsCounted(test.heap, failures.refused.get());
            test.finish();
        } catch (Workers.StuckError e) {
            stuck = true;
            throw e;
        } finally {
            // A stuck thread may still be inside the heap: unmapping under it could crash the JVM, so leak it.
            if (!stuck) {
                test.close();
            }
        }
    }

    /**
     * Each refused address counts once: in guard mode as a violation, otherwise as an invalid free. (None is a double
     * free: a virtual thread never frees what another may have been handed since.)
     */
    private static void assertRefusalsCounted(HakMem heap, long refused) {
        long counted = heap.config().guard().enabled() ? heap.violations() : heap.stats().events().invalidFrees();
        if (counted != refused) {
            throw new AssertionError(refused + " addresses were refused but the heap counted " + counted);
        }
        if (!heap.config().guard().enabled() && heap.stats().events().doubleFrees() != 0) {
            throw new AssertionError("a double free was counted, and none was made: " + heap.stats().events());
        }
    }

    private static void runScript(TestHeap test, List<Op> script, Queue<Long> handoff, Failures failures) {
        ScriptSteps steps = new ScriptSteps(test, handoff, failures.outOfMemory);
        for (Op op : script) {
            switch (op.kind()) {
                case MALLOC -> steps.malloc(op.size());
                case SITE_MALLOC -> steps.siteMalloc(op.pick(), op.size());
                case CALLOC -> steps.calloc(op.size());
                case REALLOC -> steps.realloc(op.pick(), op.size());
                case FREE -> steps.free(op.pick());
                case GIVE -> steps.give(op.pick());
                case TAKE_AND_FREE -> steps.takeAndFree();
                case INTERIOR_FREE -> {
                    if (!steps.mine.isEmpty()) {
                        long a = steps.mine.get(op.pick() % steps.mine.size());
                        if (test.shadow.block(a).requested() >= 32) {
                            refused(failures, "interior free(0x" + Long.toHexString(a) + " + 16)",
                                    () -> test.heap.free(a + 16));
                        }
                    }
                }
                // A 16-aligned address far below any mapping: no heap has it, nothing may read it.
                case WILD_FREE -> refused(failures, "wild free", () -> test.heap.free(0x10_000L + 16L * op.pick()));
                case ARRAY_FREE -> refused(failures, "free of a heap segment",
                        () -> test.heap.free(MemorySegment.ofArray(new byte[16])));
                case TOO_LARGE -> {
                    try {
                        test.heap.malloc(1L << 50);
                    } catch (HakMemOutOfMemoryError e) {
                        continue;
                    }
                    throw new AssertionError("malloc(2^50) succeeded");
                }
            }
        }
        steps.handOffTheRest();
    }

    /** A bad address: must throw InvalidFreeException (not a double free) and be counted once. */
    private static void refused(Failures failures, String what, Runnable call) {
        try {
            call.run();
        } catch (DoubleFreeException e) {
            throw new AssertionError(what + " was reported as a double free", e);
        } catch (InvalidFreeException e) {
            failures.refused.incrementAndGet();
            return;
        }
        throw new AssertionError(what + " was accepted");
    }

    /** One or two shared heaps; a mapped limit of a few SuperSlabs (or none), so allocations fail under the lock. */
    @Provide
    Arbitrary<HakMemConfig> configs() {
        return Combinators.combine(Gen.config(), Arbitraries.integers().between(1, 2),
                        Arbitraries.of(8 * Gen.MIB, 16 * Gen.MIB, 48 * Gen.MIB, Long.MAX_VALUE))
                .as((c, shared, limit) -> c.toBuilder().sharedHeaps(shared).mappedLimit(limit).build());
    }

    @Provide
    Arbitrary<Double> failureRates() {
        return Gen.failureRate();
    }

    /** 4 to 16 virtual threads over the one or two shared heaps. */
    @Provide
    Arbitrary<List<List<Op>>> scripts() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(24, Kind.MALLOC), Tuple.of(6, Kind.SITE_MALLOC), Tuple.of(4, Kind.CALLOC),
                Tuple.of(10, Kind.REALLOC),
                Tuple.of(16, Kind.FREE), Tuple.of(8, Kind.GIVE), Tuple.of(8, Kind.TAKE_AND_FREE),
                Tuple.of(3, Kind.INTERIOR_FREE), Tuple.of(2, Kind.WILD_FREE), Tuple.of(2, Kind.ARRAY_FREE),
                Tuple.of(2, Kind.TOO_LARGE));
        Arbitrary<Op> ops = Combinators.combine(kinds, Gen.size(), Gen.pick()).as(Op::new);
        return ops.list().ofMaxSize(100).list().ofMinSize(4).ofMaxSize(16);
    }
}
