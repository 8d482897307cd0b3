package dev.hakmem.core;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.HakMemStats;
import dev.hakmem.HakMemStats.ClassStats;
import dev.hakmem.HakMemStats.Tier;
import dev.hakmem.HakMemStats.TierStats;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.LearningState;
import dev.hakmem.LearningWindow;
import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import dev.hakmem.ace.LearnerOptions;
import dev.hakmem.big.BigMapping;
import dev.hakmem.big.BigTier;
import dev.hakmem.heap.Free;
import dev.hakmem.heap.HeapSet;
import dev.hakmem.heap.ThreadHeap;
import dev.hakmem.jfr.Jfr;
import dev.hakmem.os.Mem;
import dev.hakmem.os.PageFaults;
import dev.hakmem.registry.Region;
import dev.hakmem.registry.Registry;
import dev.hakmem.sampled.SampledGuard;
import dev.hakmem.site.Profiler;
import dev.hakmem.site.SiteRules;
import dev.hakmem.site.SiteState;
import dev.hakmem.site.WindowSample;
import dev.hakmem.slab.SizeClasses;
import dev.hakmem.slab.Slab;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.slab.SuperSlabPool;
import dev.hakmem.stats.ClassCounters;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import dev.hakmem.tiny.TinyClasses;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The engine behind {@link dev.hakmem.HakMem}: routes each request to its tier, validates every address against the
 * registry before acting on it, and turns wrong input into the documented exceptions.
 *
 * <p>Fast paths: {@link #malloc} of a Tiny size is a size-class table lookup (no policy read), the thread's heap
 * from a cache by thread id, the sampling countdown's decrement and branch, and a pop from the current slab;
 * {@link #free} by the owning thread is a slab-cache load, the slab's owner and slot tests, a reciprocal multiply, a
 * load of the slab's count of sampled blocks and a push (see {@link Free}), with no atomic instruction and no
 * ordered access. Everything else is on slow paths: the sampled mallocs and the frees of slabs that hold sampled
 * blocks among them (see {@link Profiler}).
 */
public final class Allocator {
    private static final AtomicInteger IDS = new AtomicInteger();
    private static final VarHandle ACTIVE;

    static {
        try {
            ACTIVE = MethodHandles.lookup().findVarHandle(Allocator.class, "active", ActivePolicy.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    /** Windows a learning heap remembers for {@link #learningHistory()}: RESEARCH keeps about 18 hours of 1 s windows. */
    private static final int LEARNING_HISTORY = 256;
    private static final int RESEARCH_HISTORY = 1 << 16;

    private final int id;
    private final String name;
    private final HakMemConfig config;
    private final SizeClasses classes;
    private final MemoryAccount account;
    private final Events events = new Events();
    /** Counts of drains done by the maintenance thread on behalf of no heap. */
    private final ClassCounters orphanCounters;
    private final SuperSlabPool pool;
    private final BigTier big;
    private final HeapSet heaps;
    /** {@code heaps.cache()}, read beside {@link #heaps} rather than through it (see {@link #currentHeap}). */
    private final ThreadHeap[] heapCache;
    /** The home of every free of a slab's block, once validated here. */
    private final Free free;
    private final SlabCache slabCache = new SlabCache();
    private final Profiler profiler;
    /** Sampled guard mode (see {@link SampledGuard}), or null: then the countdown's slow path only parks it. */
    private final SampledGuard sampled;
    /**
     * What a heap's countdown asks when its guard half expires ({@link #guardDue}) for a malloc or calloc: their
     * blocks are promised 16-byte alignment, no more, so a sampled one takes a small slot up to 992 bytes. An aligned
     * malloc asks {@link #alignedGuard}, which keeps its class's natural alignment. With the class's alignment for
     * every malloc, no block of the 1 KiB class (aligned to 1 KiB) and not the top of the 512, 768 and 896 B classes
     * fitted a small slot: 17% of the samples of 16 B..1 KiB took a page slot, whose madvise at the free interrupts
     * the other core too (a TLB shootdown); see docs/GUARD_MODE.md, session 13.
     */
    private final ThreadHeap.Guard guard = this::mallocGuardDue;
    /**
     * {@link #guard} for an aligned malloc, whose class was chosen for its alignment. The heap's call to either is on
     * its guard half's slow path, one malloc in N: two receiver types there cost the fast path nothing.
     */
    private final ThreadHeap.Guard alignedGuard = this::alignedGuardDue;
    /**
     * The policy in force, compiled. Written only by {@link #publish}, with a release store; every allocation reads
     * it once, opaque ({@link #activeOpaque}), site allocations for their site's rule as well.
     * NOTE: an opaque read has no ordering, and needs none: an ActivePolicy's fields are final, so a reader that sees
     * the reference sees the whole object (JLS 17.5), the new one or the previous one. Opaque, not plain, so that the
     * JIT cannot hoist the read out of a caller's loop and miss a new policy for good; not volatile, so that the
     * allocation's other loads stay free to be reordered around it.
     */
    private ActivePolicy active;
    /** The learner at work (LEARNING and RESEARCH modes), or null: the policy in force then never changes. */
    private final Learning learning;
    /** Serialises maintenance with close. */
    private final Object maintenanceLock = new Object();
    private volatile boolean closed;

    /** An allocator that samples as its configuration's mode says. */
    public Allocator(HakMemConfig config, String kind) {
        this(config, kind, Profiler.periodFor(config.mode()));
    }

    /**
     * An allocator sampling one byte in {@code samplePeriod} (0: none; 1: every allocation, for exact profiles), a
     * learning one resting at {@link Profiler#restingPeriodFor} that while FROZEN.
     */
    public Allocator(HakMemConfig config, String kind, long samplePeriod) {
        this(config, kind, samplePeriod, Profiler.restingPeriodFor(samplePeriod));
    }

    /** An allocator sampling one byte in {@code samplePeriod}, or in {@code restingPeriod} while its learner rests. */
    public Allocator(HakMemConfig config, String kind, long samplePeriod, long restingPeriod) {
        this.id = IDS.incrementAndGet();
        this.name = kind + "-" + id;
        this.config = config;
        this.classes = SizeClasses.grid();
        this.account = new MemoryAccount(config.mappedLimit(), config.retainBytes());
        this.orphanCounters = new ClassCounters(classes.count());
        this.pool = new SuperSlabPool(id, config.pageSource(), account, events, orphanCounters,
                config.purgeDelayMillis());
        this.big = new BigTier(id, config.pageSource(), account, events, config.purgeDelayMillis());
        this.heaps = new HeapSet(classes, pool, events, new ClassCounters(classes.count()), config.sharedHeaps());
        this.heapCache = heaps.cache();
        this.profiler = new Profiler(samplePeriod, restingPeriod, Profiler.DEFAULT_CAPACITY,
                System.nanoTime() * 31 + id, learns(config.mode()));
        profiler.heldByBlocks(big::forEachSampled);
        this.free = new Free(heaps, profiler);
        this.sampled = config.guard().sampling()
                ? new SampledGuard(id, config.pageSource(), account, config.guard(), events, this::counted) : null;
        publish(config.policy());
        this.learning = learns(config.mode()) ? new Learning(
                LearnerOptions.defaults().withMemoryWeight(config.memoryWeight()), config.policy(),
                config.startsFrozen() ? LearningState.FROZEN : LearningState.LEARN, config.learnSeed(),
                config.learnWindowMillis() * 1_000_000L, config.mode() == HakMemConfig.Mode.RESEARCH
                ? RESEARCH_HISTORY : LEARNING_HISTORY, System.nanoTime(), counts()) : null;
        // No window yet: a count of the samples aimed at keeps the configured learning period.
        samplePerLearner(Profiler.WINDOW_SAMPLES);
        Maintenance.register(this);
    }

    public String name() {
        return name;
    }

    /** The number in the heap's name, unique in the process; JFR events name their heap by it. */
    public int id() {
        return id;
    }

    public HakMemConfig config() {
        return config;
    }

    boolean isClosed() {
        return closed;
    }

    // ------------------------------------------------------------------ policy and sites

    private ActivePolicy activeOpaque() {
        return (ActivePolicy) ACTIVE.getOpaque(this);
    }

    /** The policy in force. */
    public Policy policy() {
        return activeOpaque().policy;
    }

    /** The compiled policy in force, for this package's concurrency tests (one volatile load, as every call does). */
    ActivePolicy active() {
        return activeOpaque();
    }

    /**
     * Puts {@code policy} in force: later allocations use its classes and threshold, and the next maintenance tick its
     * purge delay and retain budget. Blocks already allocated stay where they are.
     */
    public void publish(Policy policy) {
        ActivePolicy compiled = new ActivePolicy(classes, policy);
        account.setRetainBudget(policy.retainBytes());
        pool.setPurgeDelayMillis(policy.purgeDelayMillis());
        big.setPurgeDelayMillis(policy.purgeDelayMillis());
        ACTIVE.setRelease(this, compiled);
    }

    private static boolean learns(HakMemConfig.Mode mode) {
        return mode == HakMemConfig.Mode.LEARNING || mode == HakMemConfig.Mode.RESEARCH;
    }

    /** Where the learner is in its lifecycle; FROZEN for a heap that does not learn. */
    public LearningState learningState() {
        return learning == null ? LearningState.FROZEN : learning.state();
    }

    /** The learner's last windows, oldest first; empty for a heap that does not learn. */
    public List<LearningWindow> learningHistory() {
        return learning == null ? List.of() : learning.history();
    }

    /**
     * Maintenance, once a learning window has lasted its length: measures it, asks the learner for the next policy,
     * sets each profiled site's rule, and publishes the result if it differs from the policy in force. Counts a
     * change when the policy kept changed (the learner adopted a candidate, or a site's rule changed), a trial when
     * the next window runs a candidate.
     */
    private void learn(long now) {
        ActivePolicy active = activeOpaque();
        Policy inForce = active.policy;
        LearningState before = learning.state();
        Policy kept = learning.best();
        WindowSample sample = profiler.drainWindow();
        Policy knobs = learning.closeWindow(now, counts(), sample, active);
        Map<String, Policy.SiteRule> rules = new LinkedHashMap<>(inForce.sites());
        for (SiteProfile p : profiler.profiles(now)) {
            if (!SiteRules.decides(p)) {
                continue;
            }
            Policy.SiteRule rule = SiteRules.decide(p);
            if (rule.longLived() || rule.direct() || rule.presize() != 0) {
                // Past the policy's limit of rules, new sites get none; those with one keep it up to date.
                if (rules.containsKey(rule.site()) || rules.size() < Policy.MAX_SITES) {
                    rules.put(rule.site(), rule);
                }
            } else {
                rules.remove(rule.site());
            }
        }
        Policy next = Learning.withSites(knobs, rules.values());
        if (!next.equals(inForce)) {
            publish(next);
        }
        if (!learning.best().equals(kept) || !next.sites().equals(inForce.sites())) {
            events.policyChanges.increment();
        }
        if (!knobs.equals(learning.best())) {
            events.policyTrials.increment();
        }
        if (learning.state() != before) {
            events.learningTransitions.increment();
            Jfr.learningTransition(id, before, learning.state(), activeOpaque().policy);
        }
        samplePerLearner(sample.sampledMallocs());
    }

    /**
     * A learning heap samples at its learning period, timed, in the windows its learner reads the cost of, and rests
     * at BALANCED's period, untimed, in the others (FROZEN's, and CANARY's but its comparisons; see {@link Profiler}):
     * FROZEN pays no learning cost, CANARY pays it in 2 windows in 20. The learning period follows the samples of
     * the window just drained ({@code Profiler.nextLearningPeriod}).
     */
    private void samplePerLearner(long sampledMallocs) {
        if (learning != null) {
            profiler.learning(learning.timed(), sampledMallocs);
        }
    }

    /** The cumulative counts a learning window is measured by (walks every slab, as stats() does). */
    private Learning.Counts counts() {
        ClassTally t = tallyClasses();
        long mallocs = big.mallocs();
        long frees = big.frees();
        long live = big.liveBytes();
        for (int c = 0; c < classes.count(); c++) {
            mallocs += t.mallocs[c];
            frees += t.mallocs[c] - t.live[c];
            live += t.live[c] * classes.blockSize(c);
        }
        return new Learning.Counts(mallocs + frees, PageFaults.sinceStart(),
                events.superSlabsMapped.sum() + events.bigCacheMisses.sum(), events.purges.sum(),
                account.committedBytes(), live);
    }

    /** Sampled guard mode, or null when it is not the heap's level. */
    public SampledGuard sampledGuard() {
        return sampled;
    }

    public Profiler profiler() {
        return profiler;
    }

    /** The allocation site named {@code name} (the same state for the same name). */
    public SiteState site(String name) {
        return profiler.site(name);
    }

    // ------------------------------------------------------------------ allocate

    /**
     * The anonymous site's malloc. A Tiny request reads no policy: every policy maps Tiny sizes to the grid's own
     * classes ({@link ActivePolicy#check} verifies it) and puts its big threshold above them, so the policy's load,
     * whose opaque access also stops the JIT from scheduling the malloc's other loads around it, is off the head of
     * the most frequent mallocs.
     */
    public long malloc(long size) {
        if (Long.compareUnsigned(size, TinyClasses.MAX) <= 0) {
            return mallocClass(currentHeap(), classes.tinyClassOf(size), size, false, null);
        }
        ActivePolicy p = activeOpaque();
        if (Long.compareUnsigned(size, p.bigThreshold) > 0) {
            return mallocBig(size, Registry.CHUNK, false, null);
        }
        return mallocClass(currentHeap(), p.classOf(size), size, false, null);
    }

    /** The anonymous site's calloc; a Tiny one reads no policy, as {@link #malloc(long)}. */
    public long calloc(long count, long size) {
        long total = Requests.callocTotal(count, size);
        if (total <= TinyClasses.MAX) {
            return mallocClass(currentHeap(), classes.tinyClassOf(total), total, true, null);
        }
        ActivePolicy p = activeOpaque();
        if (total > p.bigThreshold) {
            return mallocBig(total, Registry.CHUNK, true, null);
        }
        return mallocClass(currentHeap(), p.classOf(total), total, true, null);
    }

    /** The anonymous site's aligned malloc. */
    public long mallocAligned(long size, long alignment) {
        return mallocAligned(null, size, alignment);
    }

    /** A malloc by {@code site} (null: the anonymous site), which follows the site's rule in the policy in force. */
    public long malloc(SiteState site, long size) {
        return allocateFor(site, size, false);
    }

    /** A calloc by {@code site} (null: the anonymous site). */
    public long calloc(SiteState site, long count, long size) {
        return allocateFor(site, Requests.callocTotal(count, size), true);
    }

    /** An aligned malloc by {@code site} (null: the anonymous site). */
    public long mallocAligned(SiteState site, long size, long alignment) {
        Requests.checkAlignment(alignment);
        if (alignment <= Requests.MALLOC_ALIGNMENT) {
            return allocateFor(site, size, false);
        }
        Requests.checkSize(size);
        ActivePolicy p = activeOpaque();
        Policy.SiteRule rule = ruleOf(p, site);
        if (size <= p.bigThreshold && !isDirect(rule, size)) {
            int cls = p.alignedClassOf(size, presizeOf(rule), Long.numberOfTrailingZeros(alignment));
            if (cls >= 0) {
                return mallocClass(heapFor(rule), cls, size, false, site, alignedGuard);
            }
        }
        return mallocBig(size, alignment, false, site);
    }

    private long allocateFor(SiteState site, long size, boolean zeroed) {
        ActivePolicy p = activeOpaque();
        Policy.SiteRule rule = ruleOf(p, site);
        if (Long.compareUnsigned(size, p.bigThreshold) > 0 || isDirect(rule, size)) {
            return mallocBig(size, Registry.CHUNK, zeroed, site);
        }
        return mallocClass(heapFor(rule), p.classOf(size, presizeOf(rule)), size, zeroed, site);
    }

    private static Policy.SiteRule ruleOf(ActivePolicy p, SiteState site) {
        return site == null ? null : site.rule(p.policy);
    }

    /** The size a site's rule pre-sizes (see {@code ActivePolicy.classOf(long, int)}), 0 for none. */
    private static int presizeOf(Policy.SiteRule rule) {
        return rule == null ? 0 : rule.presize();
    }

    /** A {@code direct} site's blocks above 64 KiB get a mapping of their own (see {@code SiteRules}). */
    private static boolean isDirect(Policy.SiteRule rule, long size) {
        return rule != null && rule.direct() && size > Policy.MIN_BIG_THRESHOLD;
    }

    /** A {@code longLived} site allocates from the calling thread's long-lived heap (see {@link HeapSet}). */
    private ThreadHeap heapFor(Policy.SiteRule rule) {
        return rule != null && rule.longLived() ? heaps.currentLongLived() : currentHeap();
    }

    /** The calling thread's heap, with the heap cache's load off the chain from this allocator to the heap. */
    private ThreadHeap currentHeap() {
        return heaps.current(heapCache);
    }

    /**
     * A block of class {@code cls} from heap {@code h} (or a guarded one: the heap's countdown asks {@link #guard});
     * out of memory, after everything reclaimable is reclaimed.
     */
    private long mallocClass(ThreadHeap h, int cls, long size, boolean zeroed, SiteState site) {
        return mallocClass(h, cls, size, zeroed, site, guard);
    }

    /** {@link #mallocClass(ThreadHeap, int, long, boolean, SiteState)} with the guard that fits the request. */
    private long mallocClass(ThreadHeap h, int cls, long size, boolean zeroed, SiteState site, ThreadHeap.Guard g) {
        try {
            return h.allocate(cls, size, zeroed, site, profiler, g);
        } catch (HakMemOutOfMemoryError e) {
            reclaimUnderPressure();
            try {
                return h.allocate(cls, size, zeroed, site, profiler, g);
            } catch (HakMemOutOfMemoryError again) {
                throw outOfMemory(new HakMemOutOfMemoryError(size, again.getMessage(), again));
            }
        }
    }

    /** {@link #guard}: a malloc's or calloc's sample is aligned as the API promises. */
    private long mallocGuardDue(ThreadHeap h, int cls, long size, boolean zeroed) {
        return guardDue(h, size, zeroed, Requests.MALLOC_ALIGNMENT);
    }

    /** {@link #alignedGuard}: an aligned malloc's sample keeps its class's natural alignment. */
    private long alignedGuardDue(ThreadHeap h, int cls, long size, boolean zeroed) {
        return guardDue(h, size, zeroed, Long.lowestOneBit(classes.blockSize(cls)));
    }

    /**
     * Slow path of sampled guard mode's countdown (the guard half of {@code ThreadHeap.countdown}): a guarded block
     * for this malloc, aligned to {@code alignment}, or 0. Without sampled mode the countdown is parked for 2^31
     * mallocs.
     */
    private long guardDue(ThreadHeap h, long size, boolean zeroed, long alignment) {
        if (sampled == null) {
            h.refillGuard(ThreadHeap.GUARD_PARKED);
            return 0;
        }
        return sampled.due(h) ? sampled.malloc(size, zeroed, alignment) : 0;
    }

    private long mallocBig(long size, long alignment, boolean zeroed, SiteState site) {
        Requests.checkSize(size);
        pool.checkOpen();
        Profiler.Period drawn = profiler.sampleBig(size);
        if (drawn != null) {
            long start = drawn.start();
            long address = mapBig(size, alignment, zeroed);
            profiler.sampledBig(site, size, drawn, drawn.took(start), (BigMapping) Registry.lookup(address));
            return address;
        }
        return mapBig(size, alignment, zeroed);
    }

    /** A big block; a request of 0 bytes (an aligned one no class fits) gets a mapping of one chunk too. */
    private long mapBig(long size, long alignment, boolean zeroed) {
        long bytes = Math.max(size, 1);
        try {
            return big.malloc(bytes, alignment, zeroed);
        } catch (HakMemOutOfMemoryError e) {
            reclaimUnderPressure();
            try {
                return big.malloc(bytes, alignment, zeroed);
            } catch (HakMemOutOfMemoryError again) {
                throw outOfMemory(again);
            }
        }
    }

    /** The one place an out-of-memory error leaves the allocator for the caller: it becomes a JFR event too. */
    private HakMemOutOfMemoryError outOfMemory(HakMemOutOfMemoryError e) {
        Jfr.outOfMemory(id, e.requestedBytes(), e.getMessage());
        return e;
    }

    /**
     * Before failing a request: memory may be held by dead threads not yet reaped, by abandoned SuperSlabs, or by
     * the empty memory kept for reuse. All of it is given back now, so the retry sees every byte that is free.
     */
    private void reclaimUnderPressure() {
        synchronized (maintenanceLock) {
            if (closed) {
                return;
            }
            heaps.reapDead();
            pool.reclaimAbandoned();
            pool.releasePooled();
            big.releaseCached();
        }
    }

    // ------------------------------------------------------------------ free

    /**
     * Validates {@code address} and hands the free to its home ({@link Free}): the owner's path when the caller owns
     * the block's SuperSlab, the cross-thread path otherwise; a refused outcome becomes the exception here.
     */
    public void free(long address) {
        // Fastest path: the slab cache knows the block's slab and the caller owns it (see SlabCache). Kept apart from
        // the registry's path so that its compiled code stays small enough for the JIT to inline it into callers.
        Slab s = slabCache.ownedBy(address, Thread.currentThread());
        int b;
        if (s != null && (b = s.indexOf(address)) >= 0) {
            freed(free.freeLocal(s, b, address), address, s);
            return;
        }
        freeMissed(address);
    }

    /**
     * The slab cache did not have the block, or its slab is not the caller's: a remote free of a block the cache
     * has goes to its home at once (see {@code SlabCache.holding}); anything else, the registry decides.
     */
    private void freeMissed(long address) {
        Slab s = slabCache.holding(address);
        int b;
        if (s != null && (b = s.indexOf(address)) >= 0) {
            freed(free.freeRemote(s, b, address), address, s);
            return;
        }
        Thread caller = Thread.currentThread();
        Region r = Registry.lookup(address);
        // Fast path: the caller owns the SuperSlab (only the owner can read itself as ownerThread).
        if (r instanceof SuperSlab ss && ss.heapId == id && ss.ownerThreadPlain() == caller
                && (s = ss.slabAt(address)) != null && (b = s.indexOf(address)) >= 0) {
            slabCache.fill(address, s);
            freed(free.freeLocal(s, b, address), address, s);
            return;
        }
        freeSlow(address, r);
    }

    /** Throws the refusal of a free of {@code address} in {@code s} unless its outcome is {@code FREED}. */
    private void freed(int outcome, long address, Slab s) {
        if (outcome != Slab.FREED) {
            throw counted(refused(address, s, outcome));
        }
    }

    private void freeSlow(long address, Region r) {
        if (address == 0) {
            return;
        }
        if (sampled != null && sampled.owns(r)) {
            sampled.free(address);
            return;
        }
        Slab s;
        int b;
        try {
            if (r instanceof BigMapping m && m.heapId == id) {
                if (address == m.base && m.unmarkSampled()) {
                    profiler.freedBig(m);
                }
                big.free(m, address);
                return;
            }
            s = slotOf(address, r);
            // The index once, for the check and the free.
            if ((b = s.indexOf(address)) < 0) {
                throw notABlock(address, s);
            }
        } catch (InvalidFreeException e) {
            throw counted(e);
        }
        slabCache.fill(address, s);
        freed(free.freeRemote(s, b, address), address, s);
    }

    /** Counts a refused free (in {@code stats().events()}) and returns it, to be thrown. */
    public InvalidFreeException counted(InvalidFreeException e) {
        events.invalidFrees.increment();
        if (e instanceof DoubleFreeException) {
            events.doubleFrees.increment();
        }
        return e;
    }

    private static DoubleFreeException refused(long address, Slab s, int outcome) {
        String block = "block " + describe(s);
        return new DoubleFreeException(address, outcome == Slab.ALREADY_CLAIMED
                ? block + " was already freed by another thread (its owner has not reclaimed it yet)"
                : block + " is not allocated: freed already, or never handed out");
    }

    private static String describe(Slab s) {
        return "of class " + s.cls + " (" + s.blockSize + " B) in slab 0x" + Long.toHexString(s.base);
    }

    /**
     * The slab holding a block that starts at {@code address}, checked against this heap's metadata only: the
     * address itself is never dereferenced.
     */
    private Slab slabOf(long address, Region r) {
        Slab s = slotOf(address, r);
        if (s.indexOf(address) < 0) {
            throw notABlock(address, s);
        }
        return s;
    }

    /** The refusal of {@code address}, in slab {@code s}'s slot, where no block starts. */
    private static InvalidFreeException notABlock(long address, Slab s) {
        long off = address - s.base;
        long index = off / s.blockSize;
        return new InvalidFreeException(address, index >= s.capacity
                ? "in the unused tail of a slab " + describe(s)
                : (address % 16 != 0 ? "misaligned " : "") + "interior pointer: " + (off - index * s.blockSize)
                + " bytes into block 0x" + Long.toHexString(s.address((int) index)) + " " + describe(s));
    }

    /** The slab whose slot covers {@code address}, in a SuperSlab of this heap. */
    private Slab slotOf(long address, Region r) {
        if (closed) {
            throw new IllegalStateException("the heap is closed");
        }
        if (r == null) {
            throw new InvalidFreeException(address, "no hakmem heap mapped this address");
        }
        if (r.heapId != id) {
            throw new InvalidFreeException(address, "it belongs to another HakMem heap");
        }
        Slab s = ((SuperSlab) r).slabAt(address);
        if (s == null) {
            throw new InvalidFreeException(address, "inside a SuperSlab of this heap, in a slot that holds no slab");
        }
        return s;
    }

    /**
     * The start of the live block that contains {@code address}, decided from the metadata alone: after this
     * returns, the whole block may be read. Guard mode validates every address it is given this way.
     */
    public long liveBlockStart(long address) {
        // The caller's own slab through the slab cache first, as free's fast path finds it (one load, no registry
        // walk): a hit is the slab slotOf would return (see SlabCache's invariant), and close empties the cache.
        Slab s = slabCache.ownedBy(address, Thread.currentThread());
        if (s == null) {
            Region r = Registry.lookup(address);
            if (r instanceof BigMapping m && m.heapId == id && !closed) {
                big.checkLive(m, address);
                return m.base;
            }
            s = slotOf(address, r);
        }
        int b = s.indexContaining(address);
        if (b < 0) {
            throw new InvalidFreeException(address, "in the unused tail of a slab " + describe(s));
        }
        if (!s.isLive(b)) {
            throw new DoubleFreeException(address, "block 0x" + Long.toHexString(s.address(b)) + " " + describe(s)
                    + " is not allocated");
        }
        return s.address(b);
    }

    /** Visits the start of every live block (racy; exact when quiescent). */
    public void forEachLiveBlock(java.util.function.LongConsumer visitor) {
        forEachSlab(s -> s.forEachLive(visitor));
        big.forEachLive(visitor);
    }

    /** Guard mode's trace ring hears of refills and adoptions through this. Set before the heap is used. */
    public void setSlowPathListener(dev.hakmem.heap.SlowPathListener listener) {
        heaps.setListener(listener);
    }

    // ------------------------------------------------------------------ queries and resize

    public long usableSize(long address) {
        Region r = Registry.lookup(address);
        if (sampled != null && sampled.owns(r)) {
            return sampled.usableSize(address);
        }
        if (r instanceof BigMapping m && m.heapId == id) {
            return big.usableSize(m, address);
        }
        if (address == 0) {
            throw new InvalidFreeException(address, "null has no usable size");
        }
        Slab s = slabOf(address, r);
        if (!s.isLive(s.indexOf(address))) {
            throw new DoubleFreeException(address, "block " + describe(s) + " is not allocated");
        }
        return s.blockSize;
    }

    public long realloc(long address, long newSize) {
        if (address == 0) {
            return malloc(newSize);
        }
        Requests.checkSize(newSize);
        long usable = usableSize(address);
        if (fitsInPlace(usable, newSize)) {
            return address;
        }
        long fresh = malloc(newSize);
        Mem.copy(address, fresh, Math.min(usable, newSize));
        free(address);
        return fresh;
    }

    /**
     * In place while the policy in force would put the new size in the block's class (or, for Big, while the new
     * size still goes to Big and uses over half of the block).
     */
    private boolean fitsInPlace(long usable, long newSize) {
        ActivePolicy p = activeOpaque();
        if (usable <= classes.maxSize()) {
            return newSize <= p.bigThreshold && classes.blockSize(p.classOf(newSize)) == usable;
        }
        return newSize > p.bigThreshold && newSize <= usable && newSize > usable / 2;
    }

    // ------------------------------------------------------------------ stats and check

    public HakMemStats stats() {
        // Under the maintenance lock: a reclaim moving blocks from pending to freed mid-walk would skew the counts.
        synchronized (maintenanceLock) {
            return statsSnapshot();
        }
    }

    /**
     * Per size class, from the structures and the counters of retired slabs: {@code mallocs} = the retired slabs'
     * allocations (every heap's, the dead heaps' and the orphan drains') + every live slab's; {@code live} and
     * {@code pending} = the slabs' allocated bits, without and with a remote claim; {@code remoteFrees} = the drained
     * remote frees. A class's frees are derived: mallocs - live.
     */
    private record ClassTally(long[] mallocs, long[] live, long[] pending, long[] remoteFrees) {
    }

    private ClassTally tallyClasses() {
        int n = classes.count();
        ClassCounters sum = new ClassCounters(n);
        long[] live = new long[n];
        long[] pending = new long[n];
        long[] mallocs = sum.mallocs;
        // The orphan drains' counts need no fold lock: they are folded under the maintenance lock, held here.
        sum.add(orphanCounters);
        heaps.tally(sum, () -> forEachSlab(s -> {
            live[s.cls] += s.liveCount();
            pending[s.cls] += s.pendingCount();
            mallocs[s.cls] += s.allocations();
        }));
        return new ClassTally(mallocs, live, pending, sum.remoteFrees);
    }

    private HakMemStats statsSnapshot() {
        int n = classes.count();
        ClassTally tally = tallyClasses();
        long[] mallocs = tally.mallocs;
        long[] live = tally.live;
        List<ClassStats> perClass = new ArrayList<>(n);
        EnumMap<Tier, long[]> perTier = new EnumMap<>(Tier.class);
        for (Tier t : Tier.values()) {
            perTier.put(t, new long[4]);
        }
        long liveBytes = 0;
        long liveBlocks = 0;
        long remote = 0;
        for (int c = 0; c < n; c++) {
            long bs = classes.blockSize(c);
            long frees = mallocs[c] - live[c];
            perClass.add(new ClassStats(c, classes.tier(c), bs, mallocs[c], frees, live[c]));
            long[] t = perTier.get(classes.tier(c));
            t[0] += mallocs[c];
            t[1] += frees;
            t[2] += live[c];
            t[3] += live[c] * bs;
            liveBytes += live[c] * bs;
            liveBlocks += live[c];
            remote += tally.remoteFrees[c] + tally.pending[c];
        }
        long[] b = perTier.get(Tier.BIG);
        b[0] = big.mallocs();
        b[1] = big.frees();
        b[2] = big.liveBlocks();
        b[3] = big.liveBytes();
        liveBytes += b[3];
        liveBlocks += b[2];
        if (sampled != null) {
            liveBytes += sampled.liveBytes();
            liveBlocks += sampled.liveBlocks();
        }
        EnumMap<Tier, TierStats> tiers = new EnumMap<>(Tier.class);
        perTier.forEach((t, v) -> tiers.put(t, new TierStats(v[0], v[1], v[2], v[3])));
        return new HakMemStats(liveBytes, liveBlocks, account.mappedBytes(), account.committedBytes(), tiers,
                perClass, events.snapshot(remote), profiler.profiles(System.nanoTime()));
    }

    private void forEachSlab(java.util.function.Consumer<Slab> visitor) {
        for (SuperSlab ss : pool.all()) {
            for (int i = 0; i < ss.slots; i++) {
                Slab s = ss.slabAcquire(i);
                if (s != null) {
                    visitor.accept(s);
                }
            }
        }
    }

    /** Walks every SuperSlab and slab and checks their invariants and their registration. */
    public void check() {
        synchronized (maintenanceLock) {
            checkQuiescent();
        }
    }

    /** The walk behind {@link #check}; the maintenance thread, which drains abandoned slabs, is held off. */
    private void checkQuiescent() {
        if (closed) {
            throw new IllegalStateException("the heap is closed");
        }
        for (SuperSlab ss : pool.all()) {
            if (Registry.lookup(ss.base) != ss || Registry.lookup(ss.base + SuperSlab.SIZE - 1) != ss) {
                throw new HeapCorruptionException(ss.base, ss + " is not registered as itself");
            }
        }
        String cacheProblem = slabCache.check();
        if (cacheProblem != null) {
            throw new HeapCorruptionException(0, cacheProblem);
        }
        forEachSlab(s -> {
            String problem = s.checkInvariants();
            if (problem != null) {
                throw new HeapCorruptionException(s.base, s + ": " + problem);
            }
        });
        String problem = checkSampled();
        if (problem == null) {
            problem = checkPolicy();
        }
        if (problem == null) {
            problem = checkSamplingCost();
        }
        if (problem != null) {
            throw new HeapCorruptionException(0, problem);
        }
        checkCounters();
        if (sampled != null) {
            sampled.check();
        }
    }

    /** The policy in force is compiled whole, and every part of the heap follows it (see {@link #publish}). */
    private String checkPolicy() {
        ActivePolicy p = activeOpaque();
        String problem = p.check();
        if (problem == null && (account.retainBudget() != p.policy.retainBytes()
                || pool.purgeDelayMillis() != p.policy.purgeDelayMillis()
                || big.purgeDelayMillis() != p.policy.purgeDelayMillis())) {
            problem = "the retain budget (" + account.retainBudget() + ") and purge delays (pool "
                    + pool.purgeDelayMillis() + " ms, big " + big.purgeDelayMillis() + " ms) are not the policy's: "
                    + p.policy;
        }
        return problem;
    }

    /**
     * FROZEN costs nothing (issue 10): samples are timed, at the learning period, only in the windows a learner reads
     * (every LEARN window, CANARY's comparisons); in the others (every FROZEN window, the rest of CANARY's) the
     * profiler rests (BALANCED's period, untimed), and a heap without a learner (FROZEN for good) never times.
     * {@link #samplePerLearner} keeps it at every window, under the maintenance lock this check holds. Returns null
     * or the problem.
     */
    private String checkSamplingCost() {
        boolean reads = learning != null && learning.timed();
        Profiler.Period p = profiler.period();
        if (p.timed() && !reads || learning != null && profiler.resting() == reads) {
            return "the profiler samples at " + p + (profiler.resting() ? " (resting)" : "") + " while the heap's"
                    + (learning == null ? " state is " : " learner is ") + learningState();
        }
        return null;
    }

    /**
     * The profiler's table against the slabs' marks (each slab's own check has already matched its count with its
     * marks, each on a live block): every block in the table is a marked live slab block of this heap, and there are
     * as many marks as entries, so each mark is in the table. A mark without an entry sends its block's free to a
     * lookup that finds nothing, and its lifetime is lost; an entry without a mark goes stale, and a later sample at
     * its address collides with it. A big block keeps its own sample (no entry): the profiler's identities
     * ({@link Profiler#check}) match each site's remembered blocks with its entries and its marked mappings, and the
     * big tier's check that only allocated mappings are marked. Returns null or the problem.
     */
    private String checkSampled() {
        long[] marks = new long[1];
        forEachSlab(s -> marks[0] += s.sampledOpaque());
        long remembered = 0;
        for (long address : profiler.sampledAddresses()) {
            if (!isMarkedLiveBlock(Registry.lookup(address), address)) {
                return "the profiler remembers sampled block 0x" + Long.toHexString(address)
                        + ", which is not a live slab block of this heap marked sampled";
            }
            remembered++;
        }
        if (remembered != marks[0]) {
            return "slabs mark " + marks[0] + " blocks sampled, but the profiler's table remembers " + remembered;
        }
        return profiler.check();
    }

    /** Whether a live slab block of this heap, marked sampled, starts at {@code address} of region {@code r}. */
    private boolean isMarkedLiveBlock(Region r, long address) {
        if (!(r instanceof SuperSlab ss) || ss.heapId != id) {
            return false;
        }
        Slab s = ss.slabAt(address);
        int b = s == null ? -1 : s.indexOf(address);
        return b >= 0 && s.isLive(b) && s.isSampled(b);
    }

    /**
     * The identities behind {@link #stats()}, on the quiescent heap: every heap's bookkeeping is whole and every heap
     * created is live or abandoned (see {@link HeapSet#check}), the memory account equals what the SuperSlabs and big
     * mappings hold (see {@link MemoryAccount}), the big tier's counters equal its mappings (see
     * {@link BigTier#check}), and per size class the blocks handed out cover the live ones and every remote free
     * (drained, or claimed and pending), which a lost count of a retired or reclaimed slab's allocations breaks.
     */
    private void checkCounters() {
        MemoryAccount.Held held = new MemoryAccount.Held();
        String problem = heaps.check();
        if (problem == null) {
            problem = pool.check(held);
        }
        if (problem == null) {
            problem = big.check(held);
        }
        if (problem == null && sampled != null) {
            sampled.held(held);
        }
        if (problem == null) {
            problem = account.reconcile(held);
        }
        if (problem != null) {
            throw new HeapCorruptionException(0, problem);
        }
        ClassTally t = tallyClasses();
        for (int c = 0; c < classes.count(); c++) {
            long frees = t.mallocs[c] - t.live[c];
            long remote = t.remoteFrees[c] + t.pending[c];
            if (frees < remote) {
                throw new HeapCorruptionException(0, "class " + c + " (" + classes.blockSize(c) + " B) counts "
                        + t.mallocs[c] + " blocks handed out for " + t.live[c] + " live, " + remote
                        + " freed remotely: the counts of some slab's allocations were lost");
            }
        }
    }

    // ------------------------------------------------------------------ maintenance and close

    /** Called by the maintenance thread: reaps dead threads' heaps, reclaims abandoned memory, purges. */
    void maintain() {
        synchronized (maintenanceLock) {
            if (closed) {
                return;
            }
            heaps.reapDead();
            pool.reclaimAbandoned();
            profiler.tick();
            long now = System.nanoTime();
            pool.purge(now);
            big.purge(now);
            if (sampled != null) {
                sampled.scan(now);
            }
            if (learning != null && learning.windowEnded(now)) {
                learn(now);
            }
        }
    }

    public void close() {
        List<Throwable> failures;
        synchronized (maintenanceLock) {
            if (closed) {
                return;
            }
            closed = true;
            heaps.forgetAll();
            profiler.clear();
            big.loseSampled(profiler);
            slabCache.clear();
            failures = new ArrayList<>(pool.releaseAll());
            if (sampled != null) {
                failures.addAll(sampled.close());
            }
            failures.addAll(big.releaseAll());
        }
        if (!failures.isEmpty()) {
            HakMemException e = new HakMemException("close: " + failures.size()
                    + " mappings could not be released", failures.getFirst());
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }
}
