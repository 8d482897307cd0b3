package dev.hakmem;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A snapshot of a heap's counters. Taken while other threads allocate it is approximate (each counter is read once,
 * not all at one instant); taken while the heap is quiescent it is exact: {@code liveBytes} is then the sum of the
 * usable sizes of the blocks that are allocated.
 *
 * <p>Monotonic: of two snapshots of one heap, the later one counts at least the mallocs of the earlier one, per tier
 * and per size class, whatever the other threads do meanwhile (start, die, retire slabs, adopt a dead thread's
 * SuperSlabs). A window measured as the difference of two snapshots is never negative ({@link #checkFollows}).
 * A block retiring with its slab moves from the live slabs' count to its heap's folded one under the heap's fold
 * lock, which a snapshot holds for its whole read, so every block is counted exactly once (issue 10: a phase
 * workload's window once measured -35552 mallocs). The frees are derived ({@code mallocs - liveBlocks}) from live
 * counts read while the owners allocate and free, so they may lag by the operations in flight; they are exact when
 * the heap is quiescent.
 *
 * @param liveBytes      usable bytes of the blocks currently allocated
 * @param liveBlocks     blocks currently allocated
 * @param mappedBytes    address space reserved from the OS (SuperSlabs, big mappings, cached mappings)
 * @param committedBytes the part of {@code mappedBytes} not given back with madvise
 * @param tiers          counters per tier
 * @param classes        counters per size class of the slab tiers (Tiny, Mid, Large), smallest class first
 * @param events         counters of the allocator's own events
 * @param sites          the profiles of the allocation sites, most bytes first: every named site (see
 *                       {@link HakMem#site(String)}), and the anonymous site of {@link HakMem#malloc} once sampled
 */
public record HakMemStats(long liveBytes, long liveBlocks, long mappedBytes, long committedBytes,
                          Map<Tier, TierStats> tiers, List<ClassStats> classes, Events events,
                          List<SiteProfile> sites) {

    /**
     * Copies the collections, so that a snapshot is immutable.
     *
     * @throws NullPointerException when a collection is null or holds a null
     */
    public HakMemStats {
        tiers = Map.copyOf(new EnumMap<>(tiers));
        classes = List.copyOf(classes);
        sites = List.copyOf(sites);
    }

    /** The size tiers. */
    public enum Tier {
        /** Up to 1 KiB, from 64 KiB slabs in SuperSlabs. */
        TINY,
        /** Above 1 KiB up to 64 KiB, from pool slabs in SuperSlabs. */
        MID,
        /** Above 64 KiB up to 1 MiB, from pool slabs in SuperSlabs. */
        LARGE,
        /** Above 1 MiB: mapped directly, with a cache of recently freed mappings. */
        BIG
    }

    /**
     * Counters of one tier.
     *
     * @param mallocs    blocks allocated in the tier since the heap was created
     * @param frees      blocks of the tier freed since the heap was created
     * @param liveBlocks blocks of the tier currently allocated
     * @param liveBytes  usable bytes of those blocks
     */
    public record TierStats(long mallocs, long frees, long liveBlocks, long liveBytes) {
    }

    /**
     * Counters of one size class.
     *
     * @param index      the class's index, 0 for the smallest
     * @param tier       the tier the class belongs to (TINY, MID or LARGE)
     * @param blockSize  the size of the class's blocks, in bytes
     * @param mallocs    blocks of the class allocated since the heap was created
     * @param frees      blocks of the class freed since the heap was created
     * @param liveBlocks blocks of the class currently allocated
     */
    public record ClassStats(int index, Tier tier, long blockSize, long mallocs, long frees, long liveBlocks) {
        /**
         * The bytes the class's live blocks occupy.
         *
         * @return {@code liveBlocks * blockSize}
         */
        public long liveBytes() {
            return liveBlocks * blockSize;
        }
    }

    /**
     * Counters of what the allocator did.
     *
     * @param remoteFrees        blocks freed by a thread that did not own their slab
     * @param heapsCreated       per-thread heaps created (shared heaps for virtual threads included)
     * @param heapsAbandoned     heaps whose thread died and whose SuperSlabs were abandoned
     * @param adoptions          abandoned SuperSlabs taken over by another heap
     * @param superSlabsMapped   SuperSlabs reserved from the OS
     * @param superSlabsReleased SuperSlabs returned to the OS
     * @param bigCacheHits       big allocations served from the big cache
     * @param bigCacheMisses     big allocations that mapped fresh memory
     * @param purges             ranges given back to the OS with madvise
     * @param invalidFrees       frees refused as invalid (double frees included)
     * @param doubleFrees        frees refused as double frees
     * @param policyChanges      changes of the policy a learning heap keeps: a candidate the learner adopted (it
     *                           won its comparisons by the rails), or a site's rule set, changed or dropped
     * @param policyTrials       windows a learning heap ran under a candidate policy, on trial against the one it
     *                           keeps (LEARN's candidate windows, CANARY's runner-up windows); not changes
     * @param learningTransitions changes of {@link LearningState} (LEARN, FROZEN, CANARY)
     * @param guardSamples       sampled guard mode: allocations guarded
     * @param guardSkipped       sampled guard mode: samples skipped, allocated unguarded (too large for a slot, 16
     *                           sampled blocks already live, or no slot free)
     * @param guardViolations    sampled guard mode: heap errors found (thrown, logged or found by the scan)
     */
    public record Events(long remoteFrees, long heapsCreated, long heapsAbandoned, long adoptions,
                         long superSlabsMapped, long superSlabsReleased, long bigCacheHits, long bigCacheMisses,
                         long purges, long invalidFrees, long doubleFrees, long policyChanges,
                         long policyTrials, long learningTransitions, long guardSamples, long guardSkipped,
                         long guardViolations) {
    }

    /**
     * The monotonicity above, for this snapshot taken after {@code earlier} of the same heap.
     *
     * @param earlier a snapshot of the same heap taken before this one
     * @return null, or the first tier or size class whose mallocs decreased
     */
    public String checkFollows(HakMemStats earlier) {
        for (Tier t : Tier.values()) {
            long before = earlier.tier(t).mallocs();
            long now = tier(t).mallocs();
            if (now < before) {
                return t + " mallocs went from " + before + " to " + now;
            }
        }
        for (int c = 0; c < Math.min(classes.size(), earlier.classes.size()); c++) {
            long before = earlier.classes.get(c).mallocs();
            long now = classes.get(c).mallocs();
            if (now < before) {
                return "class " + c + " (" + classes.get(c).blockSize() + " B) mallocs went from " + before + " to "
                        + now;
            }
        }
        return earlier.classes.size() == classes.size() ? null
                : "snapshots of different heaps: " + earlier.classes.size() + " and " + classes.size() + " classes";
    }

    /**
     * The counters of one tier.
     *
     * @param t the tier
     * @return its counters (every tier has an entry)
     */
    public TierStats tier(Tier t) {
        return tiers.get(t);
    }
}
