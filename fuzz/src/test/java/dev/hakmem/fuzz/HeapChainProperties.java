package dev.hakmem.fuzz;

import dev.hakmem.HakMemConfig;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.statistics.Statistics;

import java.util.function.Supplier;

/**
 * Single-threaded random operation sequences against a fresh heap, checked step by step by the shadow heap. A
 * failure shrinks to a short chain; its "final state" lists the steps as executed, with addresses.
 */
@AddLifecycleHook(FuzzScale.class)
class HeapChainProperties {

    /** The statistics' label of a chain that ran steps under knobs its heap's learner chose. */
    private static final String CHANGED = "ran under the learner's knobs";

    /**
     * Makes the heap of the current try: jqwik draws the configuration beside the chain, whose initial state then
     * calls this.
     */
    private Supplier<TestHeap> heaps;
    /** The state of the chain being run, so the heap can be closed however the chain ends. */
    private ChainState state;

    /**
     * With a sampling period of one byte, every step also reconciles each allocation site's profile with the
     * shadow's ledger of the site's blocks.
     */
    @Property(tries = 100)
    void validSequencesMatchTheShadow(@ForAll("configs") HakMemConfig config,
                                      @ForAll("samplePeriods") long samplePeriod,
                                      @ForAll("validChains") ActionChain<ChainState> chain)
            throws InterruptedException {
        run(() -> new TestHeap(config, samplePeriod), chain);
        learnerChangedThePolicyInSomeChains();
    }

    @Property(tries = 100)
    void badInputsAreRefusedAndLeaveTheHeapIntact(@ForAll("configs") HakMemConfig config,
                                                  @ForAll("samplePeriods") long samplePeriod,
                                                  @ForAll("mixedChains") ActionChain<ChainState> chain)
            throws InterruptedException {
        run(() -> new TestHeap(config, samplePeriod), chain);
        learnerChangedThePolicyInSomeChains();
    }

    /**
     * The page source fails at random and mapping may be capped: allocations may then fail, but only with
     * HakMemOutOfMemoryError, and nothing else may change (frees never fail, no block is damaged, stats agree).
     */
    @Property(tries = 60)
    void pageSourceFailuresAndMappingLimitsAreSurvived(@ForAll("limitedConfigs") HakMemConfig config,
                                                       @ForAll long faultSeed,
                                                       @ForAll @DoubleRange(min = 0, max = 0.5) double failureRate,
                                                       @ForAll("validChains") ActionChain<ChainState> chain)
            throws InterruptedException {
        run(() -> new TestHeap(config, faultSeed, failureRate), chain);
    }

    /**
     * Some chain ran steps under knobs the learner's maintenance thread chose and put in force under its feet (9 to
     * 18 in 100 here: a learning heap, a sampling period that lets a window score, and a chain long enough for a
     * window to close), so a learner that stops trying its candidates fails the property rather than leaving every
     * chain under the chain's own knobs.
     */
    private static void learnerChangedThePolicyInSomeChains() {
        Statistics.label("learner").coverage(c -> c.check(CHANGED).count(n -> n >= 1));
    }

    @Provide
    Arbitrary<HakMemConfig> configs() {
        return Gen.config();
    }

    @Provide
    Arbitrary<Long> samplePeriods() {
        return Gen.samplePeriod();
    }

    @Provide
    Arbitrary<HakMemConfig> limitedConfigs() {
        return Combinators.combine(Gen.config(), Arbitraries.of(Long.MAX_VALUE, 8 * Gen.MIB, 32 * Gen.MIB))
                .as((config, limit) -> config.toBuilder().mappedLimit(limit).build());
    }

    @Provide
    Arbitrary<ActionChain<ChainState>> validChains() {
        return withValidActions(ActionChain.startWith(this::newState))
                .withMaxTransformations(60 * FuzzScale.CHAIN_SCALE);
    }

    @Provide
    Arbitrary<ActionChain<ChainState>> mixedChains() {
        return withValidActions(ActionChain.startWith(this::newState))
                .withAction(3, HeapActions.doubleFree())
                .withAction(3, HeapActions.staleFree())
                .withAction(3, HeapActions.writeAfterFree())
                .withAction(3, HeapActions.interiorFree())
                .withAction(3, HeapActions.foreignFree())
                .withAction(2, HeapActions.negativeSize())
                .withAction(2, HeapActions.badAlignment())
                .withAction(2, HeapActions.callocOverflow())
                .withAction(1, HeapActions.hugeSize())
                .withMaxTransformations(50 * FuzzScale.CHAIN_SCALE);
    }

    private static ActionChainArbitrary<ChainState> withValidActions(ActionChainArbitrary<ChainState> chains) {
        return chains
                .withAction(20, HeapActions.malloc())
                .withAction(5, HeapActions.calloc())
                .withAction(5, HeapActions.mallocAligned())
                .withAction(3, HeapActions.allocateSegment())
                .withAction(10, HeapActions.realloc())
                .withAction(2, HeapActions.reallocToZero())
                .withAction(2, HeapActions.reallocFromNull())
                .withAction(16, HeapActions.free())
                .withAction(1, HeapActions.freeNull())
                .withAction(1, HeapActions.pause())
                .withAction(4, HeapActions.learnerWindow())
                .withAction(2, HeapActions.publishPolicy());
    }

    private ChainState newState() {
        state = new ChainState(heaps.get());
        return state;
    }

    private void run(Supplier<TestHeap> heaps, ActionChain<ChainState> chain) throws InterruptedException {
        this.heaps = heaps;
        Throwable failure = null;
        try {
            chain.withInvariant("stats agree with the shadow and the page source, check() passes",
                    ChainState::reconcile).run();
            Statistics.label("learner").collect(state.test.heap.config().mode() != HakMemConfig.Mode.LEARNING
                    ? "no learner" : state.test.learnerSteps() > 0 ? CHANGED : "under the chain's knobs only");
            state.test.finish();
        } catch (Throwable t) {
            failure = t;
            throw t;
        } finally {
            if (state != null) {
                try {
                    state.test.close();
                } catch (Throwable t) {
                    if (failure == null) {
                        throw t;
                    }
                    failure.addSuppressed(t);
                } finally {
                    state = null;
                }
            }
        }
    }
}
