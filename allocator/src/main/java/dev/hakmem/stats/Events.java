package dev.hakmem.stats;

import dev.hakmem.HakMemStats;

import java.util.concurrent.atomic.LongAdder;

/** Counters of rare allocator events, bumped on slow paths and error paths only. */
public final class Events {
    public final LongAdder heapsCreated = new LongAdder();
    public final LongAdder heapsAbandoned = new LongAdder();
    public final LongAdder adoptions = new LongAdder();
    public final LongAdder superSlabsMapped = new LongAdder();
    public final LongAdder superSlabsReleased = new LongAdder();
    public final LongAdder bigCacheHits = new LongAdder();
    public final LongAdder bigCacheMisses = new LongAdder();
    public final LongAdder purges = new LongAdder();
    public final LongAdder invalidFrees = new LongAdder();
    public final LongAdder doubleFrees = new LongAdder();
    /** Changes of the policy a heap keeps: a candidate the learner adopted, or a site's rule changed. */
    public final LongAdder policyChanges = new LongAdder();
    /** Windows the learner ran a candidate policy in, to compare it with the one it keeps. */
    public final LongAdder policyTrials = new LongAdder();
    public final LongAdder learningTransitions = new LongAdder();
    /** Sampled guard mode: allocations guarded, samples skipped (no slot), heap errors found. */
    public final LongAdder guardSamples = new LongAdder();
    public final LongAdder guardSkipped = new LongAdder();
    public final LongAdder guardViolations = new LongAdder();

    public HakMemStats.Events snapshot(long remoteFrees) {
        return new HakMemStats.Events(remoteFrees, heapsCreated.sum(), heapsAbandoned.sum(), adoptions.sum(),
                superSlabsMapped.sum(), superSlabsReleased.sum(), bigCacheHits.sum(), bigCacheMisses.sum(),
                purges.sum(), invalidFrees.sum(), doubleFrees.sum(), policyChanges.sum(),
                policyTrials.sum(), learningTransitions.sum(), guardSamples.sum(), guardSkipped.sum(),
                guardViolations.sum());
    }
}
