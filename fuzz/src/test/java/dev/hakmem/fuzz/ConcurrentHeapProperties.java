package dev.hakmem.fuzz;

import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemStats;
import dev.hakmem.verify.ShadowHeap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Several threads run random scripts on one shared heap and pass blocks to each other through a queue, so many
 * frees are remote. Then the threads die holding blocks, and a second set of threads frees, reallocates and keeps
 * them (blocks of dead threads' heaps); the main thread frees the rest. The shadow heap checks every step: contents
 * across every realloc, including those of blocks another thread allocated, across tier boundaries, while their
 * owner reuses the memory freed around them. At the end the stats are reconciled with the shadow's ledger, once the
 * threads are dead and again once the maintenance thread has reclaimed what they left.
 */
@AddLifecycleHook(FuzzScale.class)
class ConcurrentHeapProperties {

    enum Kind {
        MALLOC, SITE_MALLOC, CALLOC, ALIGNED, REALLOC, FREE, GIVE, TAKE_AND_FREE, TAKE_AND_KEEP, TAKE_AND_REALLOC
    }

    /** One step of a thread's script; {@code pick} chooses among the thread's own blocks, modulo their count. */
    record Op(Kind kind, long size, int pick) {
        @Override
        public String toString() {
            return kind + "(" + size + ", #" + pick + ")";
        }
    }

    /** How long the reaper may take to notice dead threads: it ticks every few tens of milliseconds. */
    private static final long REAP_TIMEOUT_NANOS = 10_000_000_000L;

    /**
     * With {@code awaitReaping}, the heirs start only once the dead owners' heaps were abandoned, so their frees and
     * allocations adopt abandoned SuperSlabs; without it they mostly race the reaper. With a failure rate, the page
     * source fails at random: an allocation may then throw HakMemOutOfMemoryError, and nothing else may go wrong.
     */
    @Property(tries = 40)
    void remoteFreesAndAbandonedBlocksMatchTheShadow(@ForAll("configs") HakMemConfig config,
                                                     @ForAll("scripts") List<List<Op>> scripts,
                                                     @ForAll boolean virtualThreads,
                                                     @ForAll boolean awaitReaping,
                                                     @ForAll long faultSeed,
                                                     @ForAll("failureRates") double failureRate)
            throws InterruptedException {
        TestHeap test = new TestHeap(config, faultSeed, failureRate);
        boolean stuck = false;
        try {
            Queue<Long> handoff = new ConcurrentLinkedQueue<>();
            List<Runnable> owners = new ArrayList<>();
            for (List<Op> script : scripts) {
                owners.add(() -> runScript(test, script, handoff));
            }
            Workers.run("owner", virtualThreads, owners);
            if (awaitReaping && !virtualThreads) {
                awaitReaping(test, config);
            }

            List<Runnable> heirs = new ArrayList<>();
            for (List<Op> script : scripts) {
                heirs.add(() -> inherit(test, script, handoff));
            }
            Workers.run("heir", virtualThreads, heirs);

            HakMemStats.Events events = test.heap.stats().events();
            Statistics.label("remote frees").collect(events.remoteFrees() > 0 ? "some" : "none");
            Statistics.label("adoptions").collect(events.adoptions() > 0 ? "some" : "none");
            test.finish();
            test.settle();
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

    /** Waits until every platform heap the owners created (all of them dead now) has been abandoned. */
    private static void awaitReaping(TestHeap test, HakMemConfig config) throws InterruptedException {
        long deadline = System.nanoTime() + REAP_TIMEOUT_NANOS;
        HakMemStats.Events events = test.heap.stats().events();
        long platformHeaps = events.heapsCreated() - config.sharedHeaps();
        while (events.heapsAbandoned() < platformHeaps) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("the heaps of dead threads were not abandoned within "
                        + REAP_TIMEOUT_NANOS / 1_000_000_000 + " s: " + events);
            }
            Thread.sleep(5);
            events = test.heap.stats().events();
        }
    }

    /** A thread's script; what it still holds at the end goes to the queue, to be freed after the thread died. */
    private static void runScript(TestHeap test, List<Op> script, Queue<Long> handoff) {
        ScriptSteps steps = new ScriptSteps(test, handoff, new AtomicLong());
        for (Op op : script) {
            switch (op.kind()) {
                case MALLOC -> steps.malloc(op.size());
                case SITE_MALLOC -> steps.siteMalloc(op.pick(), op.size());
                case CALLOC -> steps.calloc(op.size());
                case ALIGNED -> steps.mallocAligned(op.size(), 1L << (4 + op.pick() % 19));
                case REALLOC -> steps.realloc(op.pick(), op.size());
                case FREE -> steps.free(op.pick());
                case GIVE -> steps.give(op.pick());
                case TAKE_AND_FREE -> steps.takeAndFree();
                case TAKE_AND_KEEP -> steps.takeAndKeep();
                case TAKE_AND_REALLOC -> steps.takeAndRealloc(op.size());
            }
        }
        steps.handOffTheRest();
    }

    /**
     * Drains the queue: frees a third, reallocates a third, keeps a third next to fresh blocks of its own (the
     * blocks it keeps are freed by the main thread once it has died).
     */
    private static void inherit(TestHeap test, List<Op> script, Queue<Long> handoff) {
        ShadowHeap shadow = test.shadow;
        ScriptSteps steps = new ScriptSteps(test, handoff, new AtomicLong());
        for (int n = 0; ; n++) {
            Long a = handoff.poll();
            if (a == null) {
                return;
            }
            long size = script.isEmpty() ? n : script.get(n % script.size()).size();
            switch (n % 3) {
                case 0 -> shadow.free(a);
                case 1 -> steps.allocate(() -> shadow.realloc(a, size));
                default -> steps.allocate(() -> shadow.malloc(size));
            }
        }
    }

    @Provide
    Arbitrary<HakMemConfig> configs() {
        return Gen.config();
    }

    @Provide
    Arbitrary<Double> failureRates() {
        return Gen.failureRate();
    }

    @Provide
    Arbitrary<List<List<Op>>> scripts() {
        Arbitrary<Kind> kinds = Arbitraries.frequency(
                Tuple.of(24, Kind.MALLOC), Tuple.of(6, Kind.SITE_MALLOC), Tuple.of(4, Kind.CALLOC),
                Tuple.of(4, Kind.ALIGNED),
                Tuple.of(10, Kind.REALLOC), Tuple.of(18, Kind.FREE), Tuple.of(12, Kind.GIVE),
                Tuple.of(12, Kind.TAKE_AND_FREE), Tuple.of(6, Kind.TAKE_AND_KEEP),
                Tuple.of(8, Kind.TAKE_AND_REALLOC));
        Arbitrary<Op> ops = Combinators.combine(kinds, Gen.size(), Gen.pick()).as(Op::new);
        return ops.list().ofMaxSize(150).list().ofMinSize(2).ofMaxSize(4);
    }
}
