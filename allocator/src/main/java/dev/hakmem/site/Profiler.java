package dev.hakmem.site;

import dev.hakmem.HakMemConfig;
import dev.hakmem.SiteProfile;
import dev.hakmem.stats.SizeGrid;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The sampling profiler of one allocator: its allocation sites, the sampled blocks it remembers, and the samples of
 * the current learning window. Nothing here runs on the fast paths; they pay a countdown (see below), and a slab's
 * count of sampled blocks on free.
 *
 * <h2>Which allocations are sampled</h2>
 * Every byte a heap hands out is sampled with probability {@code q = 1/period}, independently (a Bernoulli
 * process over the heap's stream of bytes, as tcmalloc's heap profiler samples); an allocation is sampled when it
 * holds a sampled byte. Each heap keeps a countdown of the bytes left before its next sampled byte, and each malloc
 * subtracts its size: one decrement and one branch on the fast path.
 * <pre>
 *   bytes:     |--- malloc 1 ---|-- 2 --|------ malloc 3 ------|- 4 -|
 *   sampled:            ^                        ^      ^
 *   countdown:  c0 ....... 0     c1 ..................... 0        (c ~ geometric(q): P(c = k) = (1-q)^k q)
 *   malloc 3 is sampled once, whatever number of sampled bytes it holds; the next countdown starts at its end.
 * </pre>
 * The gaps are geometric, so the process has no memory: restarting the countdown afresh at the end of a sampled
 * allocation (rather than carrying over the sampled bytes it swallowed) samples the next bytes exactly as the
 * process would. An allocation of {@code s} bytes is sampled with probability {@code p(s) = 1 - (1 - q)^s}, and
 * {@link #weight} is {@code 1 / p(s)}: the Horvitz-Thompson estimator, unbiased (see {@link SiteProfile}). A period
 * of one byte samples every request of at least one byte with weight 1: the profiles are then exact. Big
 * allocations (a slow path anyway) are not counted down: each is sampled by its own draw with the same
 * probability {@code p(s)}, which gives the same estimator: one {@code long} of the thread's generator against
 * {@code p(s) * 2^53}, cached with the weight ({@link Period#draw}).
 *
 * <h2>Lifetimes</h2>
 * A sampled slab block is remembered in a table from its address ({@link SampledBlocks}), up to a bound, and marked
 * in its slab (a bit per block, and a count of the marks), so a free learns with one load (the count) whether its
 * slab holds any, and with one bit whether its block is one; only a marked block's free looks the table up. That
 * free clears the mark, then forgets the entry and records the lifetime in one step ({@link #freed}),
 * <em>before</em> the block goes back: once it is back, another thread may allocate and sample the same address. Of
 * racing frees of one block (a double free in user code) the one that clears the mark records the lifetime; if its
 * own free is then refused, another free of the block won, so the block did die then. Births and deaths are timed
 * by the table's stripe of the block, whose {@link StrideClock} reads {@code System.nanoTime()} once every few
 * events (every event when samples are rare; about once a millisecond at json's and mir's rates), so a lifetime is
 * exact to about 1 ms while the stripe's rate holds (the bound and its exception, a pause, are in its javadoc).
 * <p>A sampled big block keeps its sample in its own mapping instead ({@link SampleHolder}, {@link #sampledBig}):
 * site, birth and thread beside the mark, so neither its malloc nor its free touches the table, its bound or the
 * stripe of its address. At period 2 MiB two in three of {@code vm}'s 2 MiB blocks are sampled, and sampling was
 * 37% of that workload's JFR samples, about 48 of the 83 ns of CPU a 2 MiB malloc+free took (issue 11). Its birth and death are
 * logged in the stripe of the thread that allocates and of the thread that frees it, each timed by that stripe's
 * clock: a block freed by its own thread has one clock's two readings, as in the table; one freed by another
 * thread has two clocks' readings, each at most one stride old, so its lifetime is off by the same bound, never
 * negative (clamped). The sites count such a block as remembered like a table entry; {@link #check} matches each
 * site's count with the table's entries and the marked mappings ({@link #heldByBlocks}). A site may fold a remote
 * death before the birth from another stripe, so its counters' order holds when the heap is quiescent, not at every
 * fold.
 *
 * <h2>What a sample costs</h2>
 * A sampled malloc of a slab block takes a stripe's lock, for room in the bound (from the stripe's allowance, a
 * shared CAS once in about {@value SampledBlocks#BATCH}), the clock (a read once in a stride), the table's put and an
 * entry in the stripe's log; a sampled free takes a stripe's lock, for the clock, the remove and a log entry. A big
 * block's sample takes its thread's stripe's lock (uncontended while no more threads sample than there are stripes)
 * for the clock and a log entry only, on each side. A site learns its samples
 * when a log fills or something reads the sites ({@link #drainWindow}, {@link #profiles}, {@link #check} fold every
 * log first), a run of its events under one acquisition of its lock. The learner's window has no counters of its
 * own: a drain sums the sites' counters and subtracts what the previous drains took ({@link Totals}), so a sample is
 * recorded once, in its site. A malloc is timed ({@link Period#start}, {@link Period#took}: {@code System.nanoTime()}
 * costs 40 to 83 ns here) only while a heap learns.
 *
 * <h2>Learning and resting</h2>
 * A learning heap samples at its learning period, timed, only in the windows its learner reads (every LEARN window,
 * CANARY's comparisons: {@code ace.Learner#timed}); in the others (FROZEN's, CANARY's but 2 in 20) it rests at
 * BALANCED's period, untimed ({@link #learning}), so a frozen heap pays what a BALANCED heap pays (at 512 KiB and
 * timed, FROZEN windows cost 1.3x to 2.1x the default heap's on the seed's scenarios: docs/PERFORMANCE.md, change 13).
 * A countdown drawn under one period may run out under the other: each heap keeps the {@link Period} its countdown was
 * drawn under, and the sample it gives weighs {@code 1 / p(s)} of that period ({@link #recordMalloc(SiteState, long,
 * long, Period, long)}, logged with the sample), which keeps the estimator unbiased across a change: each byte was
 * sampled with the probability of the period its countdown was drawn under. Whether a sample is timed is the period in
 * force's choice, read when the malloc starts: a window the learner scores then has every sample timed but those
 * started in the microseconds between its drain and the switch.
 *
 * <h2>Threads</h2>
 * The table's stripes have a lock each; a site records under its own lock, taken by a fold under a stripe's lock;
 * drains take the drained totals' lock, then each stripe's in turn, then each site's. Nothing takes a stripe's lock
 * while holding a site's, nor a heap's lock while holding any of them, so the sampling malloc of a heap shared by
 * virtual threads may record under the heap's lock.
 */
public final class Profiler {
    /**
     * The learning modes' sampling period in the windows their learner reads (LEARN's, CANARY's comparisons): one
     * sampled allocation per 512 KiB allocated, gperftools' and jemalloc's default; the learner's windows need the
     * samples. The other windows rest at {@link #BALANCED_PERIOD} ({@link #restingPeriodFor}).
     */
    public static final long DEFAULT_PERIOD = 512L << 10;
    /**
     * BALANCED's sampling period, 2 MiB, tcmalloc's default profile sampling interval: a sample costs a few hundred
     * ns, and at 512 KiB one 256 KiB malloc in three was sampled, which made sampling most of the cost of
     * {@code mir}'s mallocs (issue 11). BALANCED's profiles are for reading, not for a learner.
     */
    public static final long BALANCED_PERIOD = 2L << 20;
    /** The default bound on the sampled blocks remembered at once (a few MiB of Java heap when full). */
    public static final int DEFAULT_CAPACITY = 1 << 16;
    /** At most this many named sites per heap; a policy names at most 1024. */
    public static final int MAX_SITES = 4096;
    /** The name of the anonymous site, {@code HakMem.malloc}'s. */
    public static final String ANONYMOUS = "(anonymous)";
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;

    /**
     * The samples a timed window aims at ({@link #nextLearningPeriod}): well above the learner's 32 timed mallocs a
     * scored window needs and the signature's 512 a CANARY period, and few enough to cost nothing measurable.
     */
    public static final long WINDOW_SAMPLES = 1024;
    /** The learning period the heap was configured with: the floor of {@link #learningPeriod}. */
    private final long basePeriod;
    /**
     * The period while the heap's learner reads the windows, or always for a heap that does not learn; between
     * {@link #basePeriod} and the resting period's bytes ({@link #nextLearningPeriod}). Written by the maintenance
     * thread alone ({@link #learning}), which alone reads it; heaps read {@link #period}.
     */
    private Period learningPeriod;
    /** The period while the heap's learner rests (FROZEN): untimed. */
    private final Period restingPeriod;
    /** The period in force: one of the two, switched by {@link #learning}; read by a heap drawing a countdown. */
    private volatile Period period;
    private final AtomicLong seeds;
    private final ConcurrentHashMap<String, SiteState> sites = new ConcurrentHashMap<>();
    private final SiteState anonymous = new SiteState(ANONYMOUS);
    /** Sampled blocks by address, at most {@code capacity}, with their clocks. */
    private final SampledBlocks blocks;
    /** What the drains have taken so far; the lock serializes drains. */
    private final Totals drained = new Totals();
    /**
     * A walk of the sampled blocks remembered by their own memory, not the table ({@link #sampledBig}): given once by
     * the allocator ({@link #heldByBlocks}). NOTE: plain: written in the allocator's constructor, which publishes the
     * profiler through a final field (JLS 17.5: whatever reads it through that field sees the write).
     */
    private Consumer<Visitor> heldByBlocks = visitor -> { };

    /** What a walk of the sampled blocks shows of each: its address, site, birth (clock) and allocating thread. */
    @FunctionalInterface
    public interface Visitor {
        void visit(long address, SiteState site, long born, long thread);
    }

    /**
     * A block that remembers its own sample (a big block's mapping): the profiler writes the sample there with the
     * mark, and reads it back on the free that cleared the mark.
     */
    public interface SampleHolder {
        /** Keeps the sample, then marks the block sampled (the mark publishes the sample); before it is handed out. */
        void markSampled(SiteState site, long born, long thread);

        SiteState sampleSite();

        long sampleBorn();

        long sampleThread();
    }
    /**
     * A sampling period and whether its samples are timed: immutable but for its weight cache. A heap keeps the one
     * its countdown was drawn under, and its sample weighs what that period gives.
     */
    public static final class Period {
        /** Bytes per sampled byte on average; 0: nothing is sampled. */
        private final long bytes;
        /** ln(1 - q): the log of the chance that a byte is not sampled. */
        private final double logKeep;
        /** 1 / {@link #logKeep}: a draw multiplies (a division costs tens of cycles). */
        private final double inverseLogKeep;
        /** Whether sampled mallocs are timed: only a learner reads their durations. */
        private final boolean timed;
        /**
         * The last chance computed, a racy cache shared by the heaps' threads: plain, since a {@code Chance}'s fields
         * are final (a reader sees a whole one, JLS 17.5) and a stale one is only recomputed.
         */
        private Chance lastChance = new Chance(-1, 0, 0);

        /**
         * The chance {@code p(size)} that an allocation of {@code size} bytes holds a sampled byte, twice: as its
         * weight {@code 1 / p}, and as the count of 53-bit draws below which one is sampled, {@code p * 2^53}.
         */
        private record Chance(long size, double weight, long threshold) {
        }

        Period(long bytes, boolean timed) {
            if (bytes < 0) {
                throw new IllegalArgumentException("sampling period must be >= 0: " + bytes);
            }
            this.bytes = bytes;
            this.logKeep = bytes <= 1 ? Double.NEGATIVE_INFINITY : Math.log1p(-1.0 / bytes);
            this.inverseLogKeep = 1 / logKeep;
            this.timed = timed;
        }

        public long bytes() {
            return bytes;
        }

        public boolean timed() {
            return timed;
        }

        /**
         * A countdown drawn from a generator state: the bytes before the next sampled byte, geometric with success
         * probability {@code q} (by inversion, from the 53 high bits of the state's splitmix64 output); 0 with a
         * period of 1; {@link Long#MAX_VALUE} when nothing is sampled, which no countdown ever spends.
         */
        public long gap(long state) {
            if (bytes == 0) {
                return Long.MAX_VALUE;
            }
            if (bytes == 1) {
                return 0;
            }
            double u = ((mix(state) >>> 11) + 1) * 0x1.0p-53;
            return (long) (Math.log(u) * inverseLogKeep);
        }

        /**
         * How many allocations of {@code size} bytes one sample drawn under this period stands for:
         * {@code 1 / p(size)}.
         */
        public double weight(long size) {
            return bytes == 1 ? 1 : chance(size).weight;
        }

        /**
         * Whether an allocation of {@code size} bytes is sampled, by its own draw: with probability {@code p(size)},
         * to within 2^-53, from one {@code long} of the thread's generator (a splitmix64 step, no lock, no division,
         * no floating point: {@code ThreadLocalRandom.nextDouble} draws twice and converts, 6% of {@code vm}'s
         * samples, issue 11).
         */
        boolean draw(long size) {
            return bytes == 1 || (ThreadLocalRandom.current().nextLong() >>> 11) < chance(size).threshold;
        }

        /**
         * The chance of {@code size}, cached: the last size's is kept, since {@code expm1} costs tens of ns and a
         * sampled heap often asks for one size again and again.
         */
        private Chance chance(long size) {
            Chance last = lastChance;
            if (last.size != size) {
                double p = -Math.expm1(size * logKeep);
                last = new Chance(size, 1 / p, (long) Math.ceil(p * 0x1.0p53));
                lastChance = last;
            }
            return last;
        }

        /** Where a sampled malloc starts: the time, if this period times mallocs; else 0, read by {@link #took}. */
        public long start() {
            return timed ? System.nanoTime() : 0;
        }

        /** The duration of a sampled malloc that {@link #start} of this period began and that just ended. */
        public long took(long start) {
            return timed ? System.nanoTime() - start : 0;
        }

        @Override
        public String toString() {
            return "sampling period " + bytes + (timed ? ", timed" : "");
        }
    }

    /**
     * Samples summed over sites: their count, durations and size histogram. The current window is the sites' totals
     * now less {@link #drained}; every sample is in exactly one window, since both only grow.
     */
    static final class Totals {
        long samples;
        long nanos;
        final long[] histogram = new long[SizeGrid.BUCKETS];
        /** The sites' other counters, for {@link #check} ({@link SampledBlocks#checkFolded}). */
        long remembered;
        long forgotten;
        long lifetimes;
        long remoteFrees;
    }

    /**
     * @param period   bytes per sampled byte on average: 0 samples nothing, 1 every allocation of a byte or more
     * @param capacity the most sampled blocks remembered at once
     * @param seed     the seed of the heaps' countdown generators, so a single-threaded run can be replayed
     */
    public Profiler(long period, int capacity, long seed) {
        this(period, capacity, seed, true);
    }

    /**
     * @param timed whether sampled mallocs are timed ({@link #start}): a heap without a learner need not pay for it
     */
    public Profiler(long period, int capacity, long seed, boolean timed) {
        this(period, period, capacity, seed, timed);
    }

    /**
     * @param period        the learning period, in force from the start
     * @param restingPeriod the period while the learner rests ({@link #learning}), untimed
     * @param timed         whether sampled mallocs are timed under the learning period
     */
    public Profiler(long period, long restingPeriod, int capacity, long seed, boolean timed) {
        this(period, restingPeriod, capacity, seed, timed, System::nanoTime);
    }

    /**
     * @param time the clock of births and deaths, read through each stripe's {@link StrideClock}: a test's virtual
     *             one, or {@code System::nanoTime}
     */
    public Profiler(long period, long restingPeriod, int capacity, long seed, boolean timed, LongSupplier time) {
        if (capacity < 0) {
            throw new IllegalArgumentException("sampled blocks' capacity must be >= 0: " + capacity);
        }
        this.basePeriod = period;
        this.learningPeriod = new Period(period, timed);
        this.restingPeriod = new Period(restingPeriod, false);
        this.period = learningPeriod;
        this.blocks = new SampledBlocks(capacity, time);
        this.seeds = new AtomicLong(seed);
        sites.put(ANONYMOUS, anonymous);
    }

    /**
     * Whether the heap's learner reads the next window: the learning period then, else the resting one. Countdowns
     * already drawn run out under the period they were drawn under; each heap's next one is drawn under this.
     * {@code sampledMallocs} is the window just drained's: when it ran at the learning period, that period is
     * rescaled first ({@link #nextLearningPeriod}), unless it is 1 byte: a period of 1 samples every allocation for
     * exact profiles (tests'), and stays so.
     */
    public void learning(boolean on, long sampledMallocs) {
        if (period == learningPeriod && basePeriod > 1) {
            learningPeriod = new Period(nextLearningPeriod(learningPeriod.bytes(), sampledMallocs, basePeriod,
                    restingPeriod.bytes()), learningPeriod.timed());
        }
        period = on ? learningPeriod : restingPeriod;
    }

    /**
     * The learning period after a window that sampled {@code sampledMallocs} at {@code current}: the one at which
     * that window would have held about {@value #WINDOW_SAMPLES} samples, kept between {@code base} (the configured
     * period) and {@code resting} (a timed window never samples less than a resting one).
     *
     * <p>Why: the learner needs a few hundred timed mallocs a window, and what it pays for them is the samples, not
     * the bytes. A fixed period of bytes samples a workload of large blocks far more often than a workload of small
     * ones: on {@code mixed} (64 KiB to 2 MiB blocks) one malloc in five was sampled at 512 KiB, tens of thousands of
     * timed samples in a window of 20 ms, and LEARN's windows and CANARY's comparisons ran at about half the FROZEN
     * windows' throughput. The samples scale with the inverse of the period, so one window's count sets the next
     * period. A window after a resting one drew some of its countdowns under the resting period and counts fewer
     * samples: the period then falls, towards more samples, the safe side.
     */
    static long nextLearningPeriod(long current, long sampledMallocs, long base, long resting) {
        double scaled = (double) current * sampledMallocs / WINDOW_SAMPLES;
        return Math.clamp((long) Math.min(scaled, Long.MAX_VALUE), base, Math.max(base, resting));
    }

    /**
     * The sampling period of a mode: MINIMAL and FAST sample nothing, BALANCED {@link #BALANCED_PERIOD}, the learning
     * modes {@link #DEFAULT_PERIOD} while they learn.
     */
    public static long periodFor(HakMemConfig.Mode mode) {
        return switch (mode) {
            case MINIMAL, FAST -> 0;
            case BALANCED -> BALANCED_PERIOD;
            case LEARNING, RESEARCH -> DEFAULT_PERIOD;
        };
    }

    /** The period in force: what a heap draws its next countdown under. */
    public Period period() {
        return period;
    }

    /** Whether the resting period is in force ({@code learning(false)}); a heap that does not learn never rests. */
    public boolean resting() {
        return period == restingPeriod;
    }

    /**
     * A learning heap's resting period: BALANCED's, or the learning period if longer; a test's period of 1 (exact
     * profiles) or 0 rests at itself, so its profiles stay exact and a heap that samples nothing never starts.
     */
    public static long restingPeriodFor(long learningPeriod) {
        return learningPeriod <= 1 ? learningPeriod : Math.max(learningPeriod, BALANCED_PERIOD);
    }

    // ------------------------------------------------------------------ sites

    /** The site named {@code name}, created on first use; {@link #ANONYMOUS} is the anonymous site. */
    public SiteState site(String name) {
        SiteState s = sites.get(name);
        if (s != null) {
            return s;
        }
        synchronized (sites) {
            s = sites.get(name);
            if (s == null) {
                if (sites.size() > MAX_SITES) {
                    throw new IllegalStateException("too many allocation sites: at most " + MAX_SITES
                            + " per heap, and \"" + name + "\" would be one more");
                }
                s = new SiteState(name);
                sites.put(name, s);
            }
            return s;
        }
    }

    /** The anonymous site: allocations made without one. */
    public SiteState anonymous() {
        return anonymous;
    }

    // ------------------------------------------------------------------ which allocations are sampled

    /** A fresh state for a heap's countdown generator (splitmix64). */
    public long seed() {
        return seeds.getAndAdd(GOLDEN);
    }

    /** The generator's next state: the heap keeps it, and draws each countdown with {@link #gap} from it. */
    public static long advance(long state) {
        return state + GOLDEN;
    }

    /** A countdown drawn under the period in force ({@link Period#gap}). */
    public long gap(long state) {
        return period.gap(state);
    }

    /** splitmix64's output function: every input bit affects every output bit. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Whether a big allocation of {@code size} bytes is sampled: its own draw under the period in force, with
     * probability p(size) (0 for a request of 0 bytes, which holds no byte). Returns that period, or null when not
     * sampled.
     */
    public Period sampleBig(long size) {
        Period p = period;
        return p.bytes != 0 && size > 0 && p.draw(size) ? p : null;
    }

    /** The weight of a sample of {@code size} bytes drawn under the period in force ({@link Period#weight}). */
    public double weight(long size) {
        return period.weight(size);
    }

    // ------------------------------------------------------------------ recording

    /**
     * A sampled malloc of {@code size} bytes by {@code site} (null: the anonymous site), drawn under {@code drawn},
     * that took {@code nanos} and just returned {@code address} on this thread, timed by its stripe's clock; see
     * {@link #recordMalloc(SiteState, long, long, Period, long, long, long)}.
     */
    public boolean recordMalloc(SiteState site, long address, long size, Period drawn, long nanos) {
        return recordMalloc(site, address, size, drawn, nanos, SampledBlocks.CLOCK, Thread.currentThread().threadId());
    }

    /**
     * A sampled malloc of {@code size} bytes by {@code site} (null: the anonymous site) that returned
     * {@code address} after {@code nanos}, at {@code now} (a test's time), on thread {@code thread}. Returns whether the block is
     * remembered for its lifetime (false when the table is full): the caller then marks it in its slab or mapping,
     * before the block is handed out.
     */
    public boolean recordMalloc(SiteState site, long address, long size, long nanos, long now, long thread) {
        return recordMalloc(site, address, size, period, nanos, now, thread);
    }

    /** As above, for a sample drawn under {@code drawn}: it weighs what that period gives. */
    public boolean recordMalloc(SiteState site, long address, long size, Period drawn, long nanos, long now,
                                long thread) {
        SiteState s = site == null ? anonymous : site;
        return blocks.sampled(address, s, size, nanos, drawn.weight(size), now, thread);
    }

    /**
     * The caller cleared the mark of the block at {@code address} and is about to free it, on this thread, now: see
     * {@link #freed(long, long, long)}.
     */
    public boolean freed(long address) {
        return blocks.freed(address, SampledBlocks.CLOCK, Thread.currentThread().threadId());
    }

    /**
     * The block at {@code address} is freed at {@code now} (a test's time) by thread {@code thread}: if it is remembered, it is
     * forgotten, and its lifetime recorded, in one step. Returns whether it was remembered. The caller cleared its
     * mark and calls this before the block goes back (after that, another thread may sample the same address).
     */
    public boolean freed(long address, long now, long thread) {
        return blocks.freed(address, now, thread);
    }

    /** The block at {@code address}, if remembered, is forgotten without a lifetime. Returns whether it was. */
    public boolean lost(long address) {
        return blocks.lost(address);
    }

    /**
     * The walk of the blocks that hold their own samples ({@link #sampledBig}), for the profiles' live ages and
     * {@link #check}. Called once, by the allocator's constructor, before the heap is used.
     */
    public void heldByBlocks(Consumer<Visitor> walk) {
        heldByBlocks = walk;
    }

    /**
     * A sampled big malloc of {@code size} bytes by {@code site} (null: the anonymous site), drawn under
     * {@code drawn}, that took {@code nanos}, on this thread: the block remembers its sample itself, in
     * {@code holder} (its mapping), so the table is not touched; the sample is logged in this thread's stripe, whose
     * clock times the birth ({@link SampledBlocks#sampledHeld}), and then {@code holder} is marked, before the block
     * is handed out. A big block is always remembered: its mapping is its room, so the table's bound does not apply.
     */
    public void sampledBig(SiteState site, long size, Period drawn, long nanos, SampleHolder holder) {
        SiteState s = site == null ? anonymous : site;
        long thread = Thread.currentThread().threadId();
        holder.markSampled(s, blocks.sampledHeld(s, size, nanos, drawn.weight(size), thread), thread);
    }

    /**
     * The caller cleared the mark of {@code holder}'s block and is about to free it, on this thread: its lifetime is
     * logged in this thread's stripe, before the block goes back ({@link SampledBlocks#freedHeld}).
     */
    public void freedBig(SampleHolder holder) {
        blocks.freedHeld(holder.sampleSite(), holder.sampleBorn(), holder.sampleThread(),
                Thread.currentThread().threadId());
    }

    /** The caller cleared the mark of {@code holder}'s block, which goes without a lifetime (its heap closed). */
    public void lostBig(SampleHolder holder) {
        blocks.lostHeld(holder.sampleSite(), Thread.currentThread().threadId());
    }

    /**
     * The heap's maintenance tick (every 20 ms): the stripes' clocks read the time at their next event, which bounds
     * how old a reading gets after a pause ({@link StrideClock}). One caller at a time.
     */
    public void tick() {
        blocks.tick();
    }

    /** The heap closed: every remembered block goes with it, without a lifetime. */
    public void clear() {
        for (long address : blocks.addresses()) {
            lost(address);
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * The samples since the previous drain, and a fresh window. Safe while threads allocate: each sample is in
     * exactly one window.
     */
    public WindowSample drainWindow() {
        synchronized (drained) {
            blocks.fold();
            Totals now = totals();
            long[] histogram = new long[SizeGrid.BUCKETS];
            for (int i = 0; i < histogram.length; i++) {
                histogram[i] = now.histogram[i] - drained.histogram[i];
                drained.histogram[i] = now.histogram[i];
            }
            WindowSample w = new WindowSample(now.samples - drained.samples, now.nanos - drained.nanos, histogram);
            drained.samples = now.samples;
            drained.nanos = now.nanos;
            return w;
        }
    }

    /** Every site's samples so far, summed site by site (racy; exact when quiescent). */
    private Totals totals() {
        Totals t = new Totals();
        for (SiteState s : sites.values()) {
            s.addTo(t);
        }
        return t;
    }

    /** A snapshot of {@code site}'s profile at {@code now}. */
    public SiteProfile profile(SiteState site, long now) {
        blocks.fold();
        return profiles(List.of(site), now).getFirst();
    }

    /**
     * The profiles of the sites that have a name or a sample (the anonymous site only once sampled), most bytes
     * first. One walk over the remembered blocks counts every site's live ones.
     */
    public List<SiteProfile> profiles(long now) {
        blocks.fold();
        List<SiteState> shown = new ArrayList<>();
        for (SiteState s : sites.values()) {
            if (s != anonymous || s.samples() > 0) {
                shown.add(s);
            }
        }
        List<SiteProfile> list = profiles(shown, now);
        list.sort(Comparator.comparingLong(SiteProfile::bytes).reversed().thenComparing(SiteProfile::name));
        return list;
    }

    /** Visits every sampled block not yet freed: the table's, and the blocks that hold their own sample. */
    private void forEachSampled(Visitor visitor) {
        blocks.forEach(visitor);
        heldByBlocks.accept(visitor);
    }

    private List<SiteProfile> profiles(List<SiteState> of, long now) {
        Map<SiteState, LiveAges> live = new HashMap<>();
        for (SiteState s : of) {
            live.put(s, new LiveAges());
        }
        Visitor count = (address, site, born, thread) -> {
            LiveAges ages = live.get(site);
            if (ages != null) {
                ages.add(Math.max(0, now - born));
            }
        };
        forEachSampled(count);
        List<SiteProfile> out = new ArrayList<>(of.size());
        for (SiteState s : of) {
            LiveAges ages = live.get(s);
            out.add(s.snapshot(ages.count, ages.kept()));
        }
        return out;
    }

    /** The live sampled blocks of one site counted, and the ages of the first {@link SiteProfile#RECENT} kept. */
    private static final class LiveAges {
        long count;
        long[] ages = new long[0];

        void add(long age) {
            if (count < SiteProfile.RECENT) {
                if (count == ages.length) {
                    ages = java.util.Arrays.copyOf(ages, (int) Math.min(SiteProfile.RECENT, 2 * count + 8));
                }
                ages[(int) count] = age;
            }
            count++;
        }

        long[] kept() {
            return java.util.Arrays.copyOf(ages, (int) Math.min(count, SiteProfile.RECENT));
        }
    }

    /** The addresses of the remembered sampled blocks, copied (racy; exact when quiescent). */
    public long[] sampledAddresses() {
        return blocks.addresses();
    }

    /**
     * For {@code check()} on a quiescent heap, the logs folded first: the table's size equals its reservations; every
     * site's remembered blocks not yet forgotten are exactly its entries in the table, and its own invariants hold
     * ({@code SiteState.check}); the sites' counters hold every event the logs took, once
     * ({@link SampledBlocks#checkFolded}); the windows drained no more than the sites hold. Returns null or the
     * problem.
     */
    public String check() {
        blocks.fold();
        String table = blocks.check();
        if (table != null) {
            return table;
        }
        Map<SiteState, long[]> entries = new HashMap<>();
        List<SiteState> strangers = new ArrayList<>();
        Visitor count = (address, site, born, thread) -> {
            if (sites.get(site.name()) != site) {
                strangers.add(site);
            }
            entries.computeIfAbsent(site, k -> new long[1])[0]++;
        };
        forEachSampled(count);
        if (!strangers.isEmpty()) {
            return "sampled block of " + strangers.getFirst() + ", which is not a site of this heap";
        }
        for (SiteState s : sites.values()) {
            String site = s.check();
            if (site != null) {
                return site;
            }
            long inMap = entries.getOrDefault(s, new long[1])[0];
            if (s.remembered() != inMap) {
                return s + " remembers " + s.remembered() + " sampled blocks not yet freed, but the table and the"
                        + " blocks that hold their own samples hold " + inMap;
            }
        }
        String folded = blocks.checkFolded(totals());
        if (folded != null) {
            return folded;
        }
        synchronized (drained) {
            Totals now = totals();
            for (int i = 0; i < now.histogram.length; i++) {
                if (drained.histogram[i] > now.histogram[i]) {
                    return "windows drained " + drained.histogram[i] + " samples of size bucket " + i
                            + ", but the sites count " + now.histogram[i];
                }
            }
            return drained.samples <= now.samples && drained.nanos <= now.nanos ? null : "windows drained "
                    + drained.samples + " samples of " + drained.nanos + " ns, but the sites count " + now.samples
                    + " of " + now.nanos + " ns";
        }
    }
}
