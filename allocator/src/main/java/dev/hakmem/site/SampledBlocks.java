package dev.hakmem.site;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The profiler's sampled blocks by address, and the samples not yet told their sites: a table of {@code long} keys
 * striped over {@value #STRIPES} locks, each stripe an open-addressing table with linear probing and backward-shift
 * deletion (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so that a removal leaves no tombstone behind, and a log of the
 * stripe's samples, births and deaths in their order, folded into the sites' counters in batches.
 * <pre>
 *   h = address * golden          stripe = top 4 bits of h,  home slot = bits 32.. of h, masked
 *   stripe:  keys   [ 0 | a | b | 0 | c | ... ]     0: empty (no block starts at address 0)
 *            sites, births, threads [ - | A | B | - | C | ... ]    the block at keys[i], in parallel arrays
 *            log    [ sampled(site 1, 64 KiB) | freed(site 1, 3 ms) | lost(site 2) | ... ]  folded when full
 *   remove(a): the run after a's slot shifts back over the hole, each key that may move (its home is not in
 *   the hole's run after the hole), until an empty slot ends the run
 * </pre>
 * Why not a {@code ConcurrentHashMap<Long, SampledBlock>}: its put boxes the key and allocates a node, and a put and
 * a remove took about 100 ns of a sampled malloc's and free's 240 ns on {@code mir}'s 256 KiB blocks, of which one in
 * three is sampled at the default period (issue 11). Here a sample takes one uncontended monitor on each side,
 * touches a few arrays, and allocates nothing.
 *
 * <p>Why a log: a site's counters have a lock of their own (a site spans every stripe), and taking it on every sample
 * doubled the locks a sample takes. The log is written under the stripe's lock that the table's update takes anyway,
 * and {@link #fold} tells each site its run of consecutive events under one acquisition of its lock. A table block's
 * birth and death have the same address, so they are logged in one stripe in their order: a site never learns of its
 * death before the birth. A block that keeps its own sample (a big block, {@link #sampledHeld}) is logged in the
 * stripe of the thread of each event instead, so a remote free's death may be folded before the birth: a site's
 * counters' order (lifetimes <= forgotten <= remembered <= samples) holds when the table is quiescent. Whatever reads
 * the sites' counters folds first ({@code Profiler}).
 *
 * <p><b>The clock.</b> Each stripe times its births and deaths with a {@link StrideClock} of its own, read under the
 * lock the event takes anyway: a sample reads {@code System.nanoTime()} only every {@code stride}-th event of its
 * stripe (40 to 83 ns a call here, twice a sample before), and needs no ticker thread (which cost 3.5% of a core
 * while anything sampled, issue 11). Births and deaths of one block share a stripe, so its lifetime is the
 * difference of two readings of one clock, which never goes backwards.
 *
 * <p><b>The bound.</b> At most {@code capacity} blocks are remembered at once: {@link #reserved} counts what the
 * stripes took from the bound, and each stripe spends its {@code allowance} (taken in batches of {@value #BATCH})
 * before it takes more, and keeps what its deaths give back up to {@code 2 * BATCH}, so samples and deaths write the
 * shared counter once in about {@value #BATCH} (before: a CAS and a decrement each sample, on a line every sampling
 * thread writes; a death still reads it, to know whether the bound is near). Near the bound (less than {@value #STRIPES} batches left) a stripe takes one at a time and gives back at
 * once, so the allowances drain as their stripes' blocks die. The bound is exact (never exceeded), and a sample is
 * refused with at most {@code STRIPES * 2 * BATCH} entries (1024 of the default 65536) idle in other stripes'
 * allowances.
 *
 * <h2>Threads</h2>
 * Each stripe's arrays, log, counts, allowance and clock are guarded by the stripe's monitor. Shared beyond the
 * stripes: the bound's count ({@link #reserved}: a CAS loop takes a batch only while room is left, an add gives one
 * back, so the count never exceeds the capacity whatever the interleaving) and the epoch (opaque, see
 * {@link #tick}). A fold takes a
 * site's lock while holding the stripe's, and nothing takes a stripe's lock while holding a site's. The walks
 * ({@link #forEach}, {@link #addresses}) take each stripe's lock in turn, so they are exact only when quiescent.
 */
final class SampledBlocks {
    private static final int STRIPES = 16;
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;
    private static final int FIRST_LENGTH = 16;
    /** Events a stripe logs before it folds them. */
    static final int LOG_LENGTH = 64;
    private static final byte SAMPLED = 0;
    private static final byte SAMPLED_REMEMBERED = 1;
    private static final byte FREED = 2;
    private static final byte FREED_REMOTELY = 3;
    private static final byte LOST = 4;
    private static final int KINDS = 5;

    /** Entries a stripe takes from the bound at once. */
    static final int BATCH = 32;

    private final Stripe[] stripes = new Stripe[STRIPES];
    private final int capacity;
    /**
     * Entries the stripes took from the bound. Always <= capacity (a CAS loop); quiescent, checked by {@link #check}:
     * the stripes' sizes plus their allowances.
     */
    private final AtomicInteger reserved = new AtomicInteger();
    /**
     * Moved by {@link #tick}: a stripe's clock reads its source at its first event after a move. NOTE: one writer
     * (the maintenance thread; a test's), opaque on both sides: a stripe needs no ordering with the tick, only to see
     * the move within the tick's period, which opaque gives (coherence: a later read never sees an older value).
     */
    private int epoch;
    private static final VarHandle EPOCH;

    static {
        try {
            EPOCH = MethodHandles.lookup().findVarHandle(SampledBlocks.class, "epoch", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final class Stripe {
        // Guarded by this. Always: keys.length is a power of two, and the length of sites, births and threads;
        // 0 <= size < keys.length / 2 (grown at half full, so a probe ends at an empty slot); size == the non-zero
        // keys; sites[i] != null exactly where keys[i] != 0; every key is reached from its home slot without crossing
        // an empty slot, and appears once (check()). The block at keys[i] was allocated by sites[i] at births[i]
        // (clock) on thread threads[i].
        long[] keys = new long[FIRST_LENGTH];
        SiteState[] sites = new SiteState[FIRST_LENGTH];
        long[] births = new long[FIRST_LENGTH];
        long[] threads = new long[FIRST_LENGTH];
        int size;
        // The log, guarded by this. Always: 0 <= logged < LOG_LENGTH after each operation (a full log is folded before
        // the next event); logSite[i] != null exactly for i < logged. Event i is logKind[i] of logSite[i]: a sample
        // of logValue[i] bytes that took logNanos[i] and stands for logWeight[i] allocations (the weight of the period
        // its countdown was drawn under, Profiler.Period), or a death after logValue[i] ns, or a loss.
        final SiteState[] logSite = new SiteState[LOG_LENGTH];
        final byte[] logKind = new byte[LOG_LENGTH];
        final long[] logValue = new long[LOG_LENGTH];
        final long[] logNanos = new long[LOG_LENGTH];
        final double[] logWeight = new double[LOG_LENGTH];
        int logged;
        /** Events ever logged here, by kind: what the sites must count once folded ({@link #checkFolded}). */
        final long[] events = new long[KINDS];
        /** Entries taken from the bound and not yet used, guarded by this. Always: 0 <= allowance <= 2 * BATCH. */
        int allowance;
        /** The births' and deaths' clock, guarded by this. */
        final StrideClock clock;

        Stripe(LongSupplier time) {
            clock = new StrideClock(time);
        }
    }

    /**
     * @param capacity the most blocks remembered at once
     * @param time     the clock the stripes read ({@code System::nanoTime}; a test's virtual one)
     */
    SampledBlocks(int capacity, LongSupplier time) {
        this.capacity = capacity;
        Arrays.setAll(stripes, i -> new Stripe(time));
    }

    private static long hash(long address) {
        return address * GOLDEN;
    }

    /**
     * The stripe of {@code key}: a block's address for the table's samples, or a thread's id for the samples of
     * blocks that hold their own ({@link #sampledHeld}), which that thread logs.
     */
    private Stripe stripeOf(long key) {
        return stripes[(int) (hash(key) >>> 60)];
    }

    private static int home(long address, int mask) {
        return (int) (hash(address) >>> 32) & mask;
    }

    /**
     * A maintenance tick: every stripe's next event reads the clock, so that no reading outlives a tick (see
     * {@link StrideClock}). Called by one thread at a time (the heap's maintenance).
     */
    void tick() {
        EPOCH.setOpaque(this, (int) EPOCH.getOpaque(this) + 1);
    }

    /** A time argument that stands for the stripe's clock ({@link StrideClock#now}). */
    static final long CLOCK = Long.MIN_VALUE;

    /**
     * A sample of {@code size} bytes by {@code site} that took {@code nanos} and stands for {@code weight}
     * allocations, allocated at {@code address} at {@code born} (or {@link #CLOCK}) on thread {@code thread}: logged,
     * and remembered there (replacing what was there; {@code address} is then not 0) unless the bound is reached.
     * Returns whether it is remembered.
     */
    boolean sampled(long address, SiteState site, long size, long nanos, double weight, long born, long thread) {
        Stripe s = stripeOf(address);
        synchronized (s) {
            boolean remember = take(s);
            if (remember) {
                put(s, address, site, born == CLOCK ? s.clock.now((int) EPOCH.getOpaque(this)) : born, thread);
            }
            log(s, site, remember ? SAMPLED_REMEMBERED : SAMPLED, size, nanos, weight);
            return remember;
        }
    }

    /**
     * A sample of {@code size} bytes by {@code site} that took {@code nanos} and stands for {@code weight}
     * allocations, allocated by thread {@code thread} in a block that remembers it itself (a big block's mapping):
     * logged as remembered in the thread's stripe, not put in the table, and not taken from the bound. Returns its
     * birth, the stripe's clock.
     */
    long sampledHeld(SiteState site, long size, long nanos, double weight, long thread) {
        Stripe s = stripeOf(thread);
        synchronized (s) {
            long born = s.clock.now((int) EPOCH.getOpaque(this));
            log(s, site, SAMPLED_REMEMBERED, size, nanos, weight);
            return born;
        }
    }

    /**
     * A block that remembered its own sample of {@code site}, born at {@code born} on thread {@code allocatedBy}, is
     * freed by thread {@code thread}: its lifetime is logged in that thread's stripe, timed by its clock.
     */
    void freedHeld(SiteState site, long born, long allocatedBy, long thread) {
        Stripe s = stripeOf(thread);
        synchronized (s) {
            long died = s.clock.now((int) EPOCH.getOpaque(this));
            log(s, site, thread != allocatedBy ? FREED_REMOTELY : FREED, Math.max(0, died - born), 0, 0);
        }
    }

    /** A block that remembered its own sample of {@code site} goes without a lifetime, on thread {@code thread}. */
    void lostHeld(SiteState site, long thread) {
        Stripe s = stripeOf(thread);
        synchronized (s) {
            log(s, site, LOST, 0, 0, 0);
        }
    }

    /** One entry of the bound for {@code s}, from its allowance or a new batch; false if none is left. */
    private boolean take(Stripe s) {
        if (s.allowance == 0) {
            int n;
            int batch;
            do {
                n = reserved.get();
                int left = capacity - n;
                if (left <= 0) {
                    return false;
                }
                batch = left >= STRIPES * BATCH ? BATCH : 1;
            } while (!reserved.compareAndSet(n, n + batch));
            s.allowance = batch;
        }
        s.allowance--;
        return true;
    }

    /**
     * A remembered entry of {@code s} was forgotten: its room goes to the allowance, and back to the bound above
     * {@code 2 * BATCH} (down to {@code BATCH}), or at once near the bound (see the class comment).
     */
    private void giveBack(Stripe s) {
        s.allowance++;
        if (s.allowance > 2 * BATCH) {
            s.allowance -= BATCH;
            reserved.addAndGet(-BATCH);
        } else if (capacity - reserved.get() < STRIPES * BATCH) {
            reserved.addAndGet(-s.allowance);
            s.allowance = 0;
        }
    }

    private static void put(Stripe s, long address, SiteState site, long born, long thread) {
        int mask = s.keys.length - 1;
        int i = home(address, mask);
        while (s.keys[i] != 0 && s.keys[i] != address) {
            i = (i + 1) & mask;
        }
        if (s.keys[i] == 0) {
            s.keys[i] = address;
            s.size++;
        }
        s.sites[i] = site;
        s.births[i] = born;
        s.threads[i] = thread;
        if (2 * s.size >= s.keys.length) {
            grow(s);
        }
    }

    /** Doubles {@code s}'s arrays and re-inserts its keys; the caller holds its lock. */
    private static void grow(Stripe s) {
        long[] keys = s.keys;
        SiteState[] sites = s.sites;
        long[] births = s.births;
        long[] threads = s.threads;
        s.keys = new long[keys.length * 2];
        s.sites = new SiteState[keys.length * 2];
        s.births = new long[keys.length * 2];
        s.threads = new long[keys.length * 2];
        int mask = s.keys.length - 1;
        for (int j = 0; j < keys.length; j++) {
            if (keys[j] != 0) {
                int i = home(keys[j], mask);
                while (s.keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                move(s, i, keys[j], sites[j], births[j], threads[j]);
            }
        }
    }

    private static void move(Stripe s, int i, long key, SiteState site, long born, long thread) {
        s.keys[i] = key;
        s.sites[i] = site;
        s.births[i] = born;
        s.threads[i] = thread;
    }

    /**
     * Forgets the block remembered at {@code address}, freed at {@code now} by thread {@code thread}, and logs its
     * lifetime; returns whether one was remembered there.
     */
    boolean freed(long address, long now, long thread) {
        Stripe s = stripeOf(address);
        synchronized (s) {
            int i = find(s, address);
            if (i < 0) {
                return false;
            }
            long died = now == CLOCK ? s.clock.now((int) EPOCH.getOpaque(this)) : now;
            log(s, s.sites[i], thread != s.threads[i] ? FREED_REMOTELY : FREED, Math.max(0, died - s.births[i]), 0, 0);
            remove(s, i);
            giveBack(s);
            return true;
        }
    }

    /** Forgets the block remembered at {@code address} without a lifetime; returns whether one was. */
    boolean lost(long address) {
        Stripe s = stripeOf(address);
        synchronized (s) {
            int i = find(s, address);
            if (i < 0) {
                return false;
            }
            log(s, s.sites[i], LOST, 0, 0, 0);
            remove(s, i);
            giveBack(s);
            return true;
        }
    }

    /** The slot of {@code address} in {@code s}, or -1; the caller holds its lock. */
    private static int find(Stripe s, long address) {
        int mask = s.keys.length - 1;
        for (int i = home(address, mask); ; i = (i + 1) & mask) {
            if (s.keys[i] == address) {
                return i;
            }
            if (s.keys[i] == 0) {
                return -1;
            }
        }
    }

    /** Empties slot {@code hole} of {@code s}, shifting the rest of its run back; the caller holds its lock. */
    private static void remove(Stripe s, int hole) {
        int mask = s.keys.length - 1;
        s.size--;
        // Shift the rest of the run back: the key at j may fill the hole if its home is not after the hole
        // (cyclically, in (hole, j]), that is if it is at least as far from its home as from the hole.
        for (int j = (hole + 1) & mask; s.keys[j] != 0; j = (j + 1) & mask) {
            if (((j - home(s.keys[j], mask)) & mask) >= ((j - hole) & mask)) {
                move(s, hole, s.keys[j], s.sites[j], s.births[j], s.threads[j]);
                hole = j;
            }
        }
        s.keys[hole] = 0;
        s.sites[hole] = null;
    }

    // ------------------------------------------------------------------ the log

    /** Appends an event to {@code s}'s log, folding it when full; the caller holds its lock. */
    private void log(Stripe s, SiteState site, byte kind, long value, long nanos, double weight) {
        int i = s.logged;
        s.logSite[i] = site;
        s.logKind[i] = kind;
        s.logValue[i] = value;
        s.logNanos[i] = nanos;
        s.logWeight[i] = weight;
        s.logged = i + 1;
        s.events[kind]++;
        if (s.logged == LOG_LENGTH) {
            fold(s);
        }
    }

    /** Tells every site the events logged so far: afterwards its counters hold every sample recorded before. */
    void fold() {
        for (Stripe s : stripes) {
            synchronized (s) {
                fold(s);
            }
        }
    }

    /** Tells the sites {@code s}'s log, each run of one site's events under one acquisition of its lock. */
    private void fold(Stripe s) {
        int n = s.logged;
        int i = 0;
        while (i < n) {
            SiteState site = s.logSite[i];
            synchronized (site) {
                do {
                    switch (s.logKind[i]) {
                        case SAMPLED, SAMPLED_REMEMBERED -> site.sampled(s.logValue[i], s.logNanos[i],
                                s.logWeight[i], s.logKind[i] == SAMPLED_REMEMBERED);
                        case FREED, FREED_REMOTELY -> site.freed(s.logValue[i], s.logKind[i] == FREED_REMOTELY);
                        default -> site.forgot();
                    }
                    s.logSite[i] = null;
                } while (++i < n && s.logSite[i] == site);
            }
        }
        s.logged = 0;
    }

    /** The blocks remembered (racy; exact when quiescent). */
    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                n += s.size;
            }
        }
        return n;
    }

    /** Each remembered block, stripe by stripe under its lock: {@code visitor} must not come back here. */
    void forEach(Profiler.Visitor visitor) {
        for (Stripe s : stripes) {
            synchronized (s) {
                for (int i = 0; i < s.keys.length; i++) {
                    if (s.keys[i] != 0) {
                        visitor.visit(s.keys[i], s.sites[i], s.births[i], s.threads[i]);
                    }
                }
            }
        }
    }

    /** The addresses remembered, copied (racy; exact when quiescent). */
    long[] addresses() {
        long[] out = new long[0];
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                out = Arrays.copyOf(out, n + s.size);
                for (long k : s.keys) {
                    if (k != 0) {
                        out[n++] = k;
                    }
                }
            }
        }
        return out;
    }

    /**
     * For {@code Profiler.check}, on a quiescent table just folded: the sites' counters summed ({@code sites}) hold
     * exactly the events ever logged, each once: a sample per sampled event, a remembered block per remembered one, a
     * lifetime per death (remote ones among them), a forgotten block per death or loss. A fold that dropped or doubled
     * an event breaks one of them. Returns null or the problem.
     */
    String checkFolded(Profiler.Totals sites) {
        long[] events = new long[KINDS];
        for (Stripe s : stripes) {
            synchronized (s) {
                if (s.logged != 0) {
                    return "sampled-block log of " + s.logged + " events not folded";
                }
                for (int k = 0; k < KINDS; k++) {
                    events[k] += s.events[k];
                }
            }
        }
        long deaths = events[FREED] + events[FREED_REMOTELY];
        if (sites.samples != events[SAMPLED] + events[SAMPLED_REMEMBERED]
                || sites.remembered != events[SAMPLED_REMEMBERED] || sites.lifetimes != deaths
                || sites.remoteFrees != events[FREED_REMOTELY] || sites.forgotten != deaths + events[LOST]) {
            return "the sites count " + sites.samples + " samples, " + sites.remembered + " remembered, "
                    + sites.lifetimes + " lifetimes (" + sites.remoteFrees + " remote), " + sites.forgotten
                    + " forgotten, but the logs held " + (events[SAMPLED] + events[SAMPLED_REMEMBERED])
                    + " samples, " + events[SAMPLED_REMEMBERED] + " remembered, " + deaths + " deaths ("
                    + events[FREED_REMOTELY] + " remote), " + events[LOST] + " losses";
        }
        return null;
    }

    /**
     * For {@code check()}: each stripe's invariant (beside {@link Stripe}'s fields) and its clock's; and, quiescent,
     * the bound: the entries taken from it are the blocks remembered and the stripes' allowances. Returns null or the
     * problem.
     */
    String check() {
        long keysAll = 0;
        long unused = 0;
        for (int t = 0; t < STRIPES; t++) {
            Stripe s = stripes[t];
            synchronized (s) {
                int mask = s.keys.length - 1;
                int keys = 0;
                for (int i = 0; i < s.keys.length; i++) {
                    long k = s.keys[i];
                    if ((k != 0) != (s.sites[i] != null)) {
                        return "sampled-block stripe " + t + ", slot " + i + ": key 0x" + Long.toHexString(k)
                                + " with site " + s.sites[i];
                    }
                    if (k == 0) {
                        continue;
                    }
                    keys++;
                    if (stripeOf(k) != s) {
                        return "sampled block 0x" + Long.toHexString(k) + " is filed in stripe " + t
                                + ", not its own";
                    }
                    for (int j = home(k, mask); j != i; j = (j + 1) & mask) {
                        if (s.keys[j] == 0 || s.keys[j] == k) {
                            return "sampled block 0x" + Long.toHexString(k) + " in slot " + i + " of stripe " + t
                                    + " is not reached from its home slot " + home(k, mask) + " (slot " + j + ")";
                        }
                    }
                }
                if (keys != s.size || 2 * s.size >= s.keys.length) {
                    return "sampled-block stripe " + t + " holds " + keys + " keys in " + s.keys.length
                            + " slots but counts " + s.size;
                }
                String clock = s.clock.check();
                if (clock != null) {
                    return "sampled-block stripe " + t + ": " + clock;
                }
                if (s.allowance < 0 || s.allowance > 2 * BATCH) {
                    return "sampled-block stripe " + t + " holds " + s.allowance + " entries of the bound unused";
                }
                keysAll += s.size;
                unused += s.allowance;
                if (s.logged < 0 || s.logged >= LOG_LENGTH) {
                    return "sampled-block stripe " + t + " logs " + s.logged + " events in " + LOG_LENGTH + " slots";
                }
                for (int i = 0; i < LOG_LENGTH; i++) {
                    if ((s.logSite[i] != null) != (i < s.logged)) {
                        return "sampled-block stripe " + t + " logs " + s.logged + " events, but slot " + i
                                + " holds " + s.logSite[i];
                    }
                }
            }
        }
        int taken = reserved.get();
        return keysAll + unused == taken && taken <= capacity ? null : "the profiler remembers " + keysAll
                + " sampled blocks but counts " + (taken - unused) + " (" + taken + " taken from its bound of "
                + capacity + ", " + unused + " unused in the stripes)";
    }
}
