package dev.hakmem.ace;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.stats.SizeGrid;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * ACE's learner: from the measurements of each window, the policy for the next (hakmem's "lightweight online learner
 * tunes the allocator to the workload, then freezes at zero cost"; docs/ADAPTIVE.md). It is pure: no clock, no
 * thread, no allocator state. Its decisions are a function of the seed and the sequence of windows, so a recorded
 * run replays exactly. Not thread-safe: the maintenance thread owns it and publishes what it returns.
 *
 * <p><b>The cost</b> ({@link #cost}) is one number per window, lower is better: the time per operation, with page
 * faults and system calls priced in, scaled up by the memory the heap holds beyond what is live.
 *
 * <p><b>The lifecycle</b> ({@link LearningState}):
 * <pre>
 *          no change for freezeAfter windows,                   frozenWindows
 *          p99 of the incumbent's cost stable      +--------+  -------------&gt;  +--------+
 *   LEARN  --------------------------------------&gt; | FROZEN |                  | CANARY |
 *     ^                                            +--------+  &lt;-------------  +--------+
 *     |                                                         canaryWindows,      |
 *     +-------------------------------------------------------- no shift ---------+
 *        sizes shifted (L1 &gt; shiftDistance), p99 drifted (x p99Drift), or the runner-up won by the rails
 * </pre>
 *
 * <p><b>LEARN</b> interleaves windows of the incumbent ({@link #best()}) and of a candidate one step away on one
 * knob, so that each candidate window is paired with the incumbent window just before it, under the same load, and a
 * drift of the machine hits both windows of a pair alike. The incumbent window right after a candidate's is a
 * washout (W), no reference: it carries the work the candidate deferred ({@link #score}). A pair is won when its cost
 * ratio C / I is at most {@code 1 - minImprovement}. The candidate is judged on its last
 * {@link LearnerOptions#trialPairs()} pairs ({@link #verdict}), decided as soon as it is known: it is adopted when at
 * most {@code hysteresis - 1} of them were not cheaper (a sign test) and the median of its pairs is won; its turn
 * ends when {@code hysteresis} were not cheaper:
 * <pre>
 *   window    I  C  W  I  C  W  I  C  W ...  I  C      (hysteresis 3: 14 pairs, at most 2 not cheaper)
 *   cheaper      yes      no       yes  ...     yes -&gt; 12 cheaper, 1 not, 8 of 13 won by 8%: the candidate
 *                                                      replaces the incumbent (if out of cooldown)
 * </pre>
 * Why a sign test: with windows of 20 ms on a busy machine, one window in a few is off by tens of percent, and the
 * median of 5 pairs, the rule before it, is pushed past 8% by the noise alone (with a pair's ratio off by 30% either
 * way, in about 3 turns in 10 of a candidate no better): the learner adopted 21 changes in 50 s and ended in LEARN
 * (docs/PERFORMANCE.md, change 13). A candidate no better is cheaper in a pair as
 * often as not, whatever the noise's size or shape (the two windows of a pair are alike but for the policy), so the
 * chance that it is cheaper in all but {@code hysteresis - 1} of {@code trialPairs} pairs is a binomial tail,
 * {@link LearnerOptions#SIGN_TEST_LEVEL} at most, with no estimate of the noise. The median won by
 * {@code minImprovement} keeps a candidate cheaper by less than is worth a change out, and both tolerate up to
 * {@code hysteresis - 1} outlier pairs. The price: a better candidate needs at least {@code trialPairs - hysteresis +
 * 1} pairs (12 at the defaults) where the median alone needed {@code hysteresis}.
 * The candidate comes from each knob in turn: W_MAX, the big threshold, the retain budget, the purge delay, the
 * bridge classes; every other turn goes back to a neighbour whose pairs so far were cheaper by {@code minImprovement}
 * on average, if there is one, and LEARN does not freeze while there is, up to {@code 2 freezeAfter} windows
 * after the last change ({@link #promising}). A knob's {@link Ucb1} (or, for the big threshold, its {@link Elo}
 * ratings) picks which neighbour of the incumbent's value to try; the bridges come from peaks of the size
 * distribution ({@link Bridges}). A comparison feeds the knob's bandit (reward {@code I / (I + C)}, one half for a
 * tie) or a game of ratings (a win, a loss or a draw at minImprovement), then the rails decide:
 * <ul>
 *   <li>one step: a candidate differs from the incumbent by one step on one knob ({@link #step});
 *   <li>hysteresis: it replaces the incumbent only when its last pairs pass the sign test with at most
 *       {@code hysteresis - 1} pairs against it and their median is won by {@code minImprovement}; {@code hysteresis}
 *       pairs not cheaper end the candidate's turn;
 *   <li>cooldown: after a change, no other change for {@code cooldown} windows (the candidate's pairs keep sliding
 *       meanwhile; it is accepted at its first comparison after the cooldown at which it still wins).
 * </ul>
 * The bandits' statistics outlive a change (the knobs are close to separable: what a W_MAX step gains hardly depends
 * on the purge delay) and are dropped when the workload shifts.
 *
 * <p><b>FROZEN</b> returns the incumbent and ignores the windows. <b>CANARY</b> runs the runner-up (the
 * incumbent's neighbour with the best record) in a share {@code canaryShare} of its windows, spread evenly, and
 * watches the signature of the sampled sizes ({@link Signature}) and the p99 of the incumbent's cost (a
 * {@link P2Quantile}) against those at freeze time. The learner says which windows it reads the cost of
 * ({@link #timed()}), and the heap times only those: every LEARN window, no FROZEN window, and in CANARY only the
 * runner-up's slots and the incumbent window before each (its reference, and the p99's sample); the rest rest:
 * <pre>
 *   CANARY period (60 windows, share 5%):  . . . R S W . . . . R S W . . . . R S |     S slot, R its reference,
 *   timed:                                       x x             x x             x x     W washout, . incumbent
 * </pre>
 * Until session 9 CANARY timed every window, at the learning period, and cost 1.3x to 2.3x the default heap's
 * (docs/PERFORMANCE.md, change 14); it now times 2 windows in 20. The signature reads the sizes of every window,
 * timed or not; the p99 and the signature carry their samples over to the next period until they hold enough to
 * judge (the p99's {@link #DRIFT_WINDOWS} take ten periods at the defaults).
 *
 * <p>Invariants (checked by {@link #check}, which tests call after every window): the candidate, if any, is one step
 * from the incumbent; the policy returned last is the incumbent or the candidate, and the incumbent in FROZEN; the next
 * window is timed in LEARN, untimed in FROZEN, and in CANARY timed only in a slot or the window before one, and always
 * when it runs the runner-up; no two changes in the event history are within {@code cooldown} windows, the last one is
 * the last change, and the history's states chain up to {@link #state()} and its last incumbent is {@link #best()}; the
 * bandits, ratings and estimators hold their own invariants.
 */
public final class Learner {
    /** A minor page fault: the trap, a zeroed 4 KiB page, the page table update (order of magnitude on x86-64). */
    public static final double FAULT_NANOS = 500;
    /** A mapping or a purge (mmap or madvise of a SuperSlab-sized range, with its TLB shootdown). */
    public static final double SYSCALL_NANOS = 5_000;
    /** The events kept by {@link #events()}: the newest. */
    public static final int MAX_EVENTS = 256;
    /**
     * Older windows' sizes weigh 15/16 more each window in the recent histogram: it spans about 16 windows, enough
     * samples for a signature and short enough to follow a phase.
     */
    private static final double DECAY = 15.0 / 16;
    private static final long NEVER = Long.MIN_VALUE;
    /**
     * The timed incumbent windows CANARY's p99 needs before it judges a drift: as many as a CANARY period timed when
     * it timed every window, about 30 settled incumbent windows of 60 at 20 ms on this machine. With fewer, P²'s p99
     * marker has not climbed from the sample's median (it is the median at 5), while the p99 at freeze time holds
     * LEARN's outlier windows: judged at 5, a learning run went back to LEARN at the very window the p99 first judged
     * in 3 of 5 phases. Simulated (log-normal windows, sigma 0.25, with 5% to 10% of them 2x to 5x off, against a
     * p99 of 40), 30 windows read a drift of 2x either way in 10% to 13% of the judgements, 57 in 10% to 11%, 5 in
     * 54% to 82%.
     */
    static final int DRIFT_WINDOWS = 30;
    private static final Axis[] AXES = Axis.values();
    /** Whose turn it is to propose a candidate: each axis, then the bridges. */
    private static final int TURNS = AXES.length + 1;

    /** A policy one step from the incumbent: on {@code axis}'s candidate {@code arm}, or (axis null) bridges. */
    private record Candidate(Axis axis, int arm, Policy policy, String step) {
    }

    private final LearnerOptions options;
    private final SplittableRandom random;
    /** By axis: the UCB1 bandit of an axis that is not rated, else null. */
    private final Ucb1[] bandits = new Ucb1[AXES.length];
    /** By axis: the Elo ratings of a rated axis, else null. */
    private final Elo[] ratings = new Elo[AXES.length];
    private final ArrayDeque<LearnerEvent> events = new ArrayDeque<>();
    /** Sampled sizes of the recent windows (LEARN and CANARY), decayed by {@link #DECAY} a window. */
    private final double[] recentSizes = new double[SizeGrid.BUCKETS];
    /**
     * Sampled sizes of the CANARY windows since the signature was last judged: as {@link #canaryP99}, kept across
     * periods until they hold {@link Signature#MIN_SAMPLES} (the resting period samples about 4x fewer).
     */
    private final double[] canarySizes = new double[SizeGrid.BUCKETS];

    private LearningState state;
    private Policy incumbent;
    /** What {@link #onWindow} returned last: the policy in force during the next window. */
    private Policy running;
    /**
     * Whether the next window is timed: the learner reads its cost. Every LEARN window, no FROZEN window, and in
     * CANARY only the windows its comparison and its p99 need ({@link #next}); the heap samples untimed at its
     * resting period in the others. The cost of a window that was not timed is never read (its samples carry no time).
     */
    private boolean timed;
    /** The policy the window before the last one ran (the start before the first window). */
    private Policy ranBefore;
    /**
     * Whether the last window ran the same policy as the window before it. Only a settled incumbent window is a
     * reference: one right after a candidate's window carries the candidate's deferred work (see {@link #score}).
     */
    private boolean settled;
    /** LEARN: the candidate under test, null between turns. FROZEN and CANARY: the runner-up. One step away. */
    private Candidate candidate;
    /**
     * The candidate's last scored paired comparisons, newest in bit 0: a bit set in {@code cheaper} for a pair whose
     * candidate window cost less than its incumbent window, in {@code wonBy} for one it won by
     * {@code minImprovement}. Invariant: only the low {@link #pairs} bits may be set, {@code wonBy} within
     * {@code cheaper}; in LEARN the candidate's {@link #verdict} is not LOST (else its turn ended). Reset with the
     * candidate ({@link #setCandidate}).
     */
    private long cheaper;
    private long wonBy;
    /** How many pairs the bits hold: at most {@link LearnerOptions#trialPairs()}; 0 when there is no candidate. */
    private int pairs;
    /** Whether the last turn was a retry of the {@link #promising} neighbour: the next is then the rotation's. */
    private boolean retried;
    /** The next turn in {@link #TURNS}. */
    private int turn;
    /** The cost of the last scored incumbent window since the last candidate window; NaN when there is none. */
    private double reference = Double.NaN;
    private long lastIndex = -1;
    /** The window at whose end the incumbent last changed, or {@link #NEVER}. */
    private long lastChange = NEVER;

    /** LEARN: the p99 of the incumbent's cost since it became the incumbent (or since LEARN began). */
    private P2Quantile p99 = new P2Quantile(0.99);
    /** LEARN: the window since which no change was made. */
    private long quietSince = -1;
    /** LEARN: the p99 estimate at window {@link #markIndex}, to tell whether it is stable; NaN for none. */
    private double markP99 = Double.NaN;
    private long markIndex = -1;

    /** At freeze time (or, started frozen, when a CANARY period first judged each): null or NaN until then. */
    private Signature frozenSignature;
    private double frozenP99 = Double.NaN;
    /** FROZEN, CANARY: windows of the current period so far. */
    private int periodWindows;
    /**
     * CANARY: the p99 of the incumbent's timed windows' cost since it last judged a drift. Kept across CANARY periods
     * until it holds {@link #DRIFT_WINDOWS} (a period times about {@code canaryShare * canaryWindows}, 3 at the
     * defaults), then judged at each window and dropped at the end of the period that judged it; dropped at each
     * freeze.
     */
    private P2Quantile canaryP99 = new P2Quantile(0.99);

    /**
     * @param options    the settings
     * @param start      the first incumbent
     * @param startState LEARN to learn from {@code start}; FROZEN (or CANARY) to run it, watching for a shift
     * @param seed       the seed of the only random choice (the softmax over Elo ratings)
     */
    public Learner(LearnerOptions options, Policy start, LearningState startState, long seed) {
        this.options = Objects.requireNonNull(options, "options");
        this.incumbent = Objects.requireNonNull(start, "start");
        this.state = Objects.requireNonNull(startState, "startState");
        this.ranBefore = start;
        this.random = new SplittableRandom(seed);
        resetStatistics();
        if (state != LearningState.LEARN) {
            setCandidate(runnerUp());
        }
        this.running = next();
    }

    /**
     * The one cost every decision uses, lower is better, or NaN for a window with no operation or no timed malloc:
     * <pre>
     *   per op = sampledNanos / sampledOps + (FAULT_NANOS * pageFaults + SYSCALL_NANOS * (mapCalls + purgeCalls)) / ops
     *   waste  = (committedBytes - liveBytes) / committedBytes, clamped to [0, 1] (0 when nothing is committed)
     *   cost   = per op * (1 + memoryWeight * waste)
     * </pre>
     * Unknown page faults (-1) count as none, in every window alike. Map calls are mostly made on malloc slow paths
     * that sampling rarely times, so they are priced explicitly; purges run in the maintenance thread, never timed.
     */
    public static double cost(Window w, double memoryWeight) {
        if (w.ops() == 0 || w.sampledOps() == 0) {
            return Double.NaN;
        }
        double perOp = (double) w.sampledNanos() / w.sampledOps()
                + (FAULT_NANOS * Math.max(0, w.pageFaults()) + SYSCALL_NANOS * (w.mapCalls() + w.purgeCalls()))
                / w.ops();
        double waste = w.committedBytes() == 0 ? 0
                : Math.clamp((double) (w.committedBytes() - w.liveBytes()) / w.committedBytes(), 0.0, 1.0);
        return perOp * (1 + memoryWeight * waste);
    }

    /**
     * Whether {@code to} is one step from {@code from}: the same but for one knob moved to the nearest candidate
     * below or above its value ({@link Axis#neighbours}), or one bridge class added or removed. Returns the step as
     * people read it ("wMax 1.25 -&gt; 1.125", "bridge +38912"), or null when it is not one step.
     */
    public static String step(Policy from, Policy to) {
        if (!from.sites().equals(to.sites())) {
            return null;
        }
        String step = null;
        int moved = 0;
        for (Axis axis : AXES) {
            if (axis.value(from) != axis.value(to)) {
                int i = axis.indexOf(to);
                if (i < 0 || (axis.neighbours(from) & 1L << i) == 0) {
                    return null;
                }
                step = axis.knob() + " " + axis.format(from) + " -> " + axis.format(to);
                moved++;
            }
        }
        int[] a = from.bridgeClasses();
        int[] b = to.bridgeClasses();
        if (!Arrays.equals(a, b)) {
            int[] longer = a.length > b.length ? a : b;
            int[] shorter = longer == a ? b : a;
            if (longer.length != shorter.length + 1) {
                return null;
            }
            int i = Arrays.mismatch(longer, shorter);
            if (!Arrays.equals(longer, i + 1, longer.length, shorter, i, shorter.length)) {
                return null;
            }
            step = "bridge " + (longer == b ? "+" : "-") + longer[i];
            moved++;
        }
        return moved == 1 ? step : null;
    }

    /**
     * The cost the learner reads for {@code w}, the window just ended, before {@link #onWindow} takes it: NaN when
     * that window was not timed ({@link #timed()}) or is not scored ({@link LearnerOptions#scores}).
     */
    public double cost(Window w) {
        return timed && options.scores(w) ? cost(w, options.memoryWeight()) : Double.NaN;
    }

    /** Feeds the window just ended (run under the policy returned last); returns the policy for the next window. */
    public Policy onWindow(Window w) {
        Objects.requireNonNull(w, "w");
        if (w.index() <= lastIndex) {
            throw new IllegalArgumentException("learner: window " + w.index() + " after window " + lastIndex
                    + ": indexes must increase");
        }
        lastIndex = w.index();
        Policy ran = running;
        settled = ran.equals(ranBefore);
        ranBefore = ran;
        double cost = cost(w);
        switch (state) {
            case LEARN -> learn(w, ran, cost);
            case FROZEN -> frozen(w.index());
            case CANARY -> canary(w, ran, cost);
        }
        running = next();
        return running;
    }

    public LearningState state() {
        return state;
    }

    /**
     * Whether the window that runs the policy returned last is timed (the learner reads its cost): the heap samples
     * it at its learning period, timed, and rests at its resting period, untimed, otherwise.
     */
    public boolean timed() {
        return timed;
    }

    /** The incumbent: what FROZEN runs. */
    public Policy best() {
        return incumbent;
    }

    /** What the policy returned last runs: "best", or its step from the incumbent. */
    public String choice() {
        return running.equals(incumbent) ? "best" : step(incumbent, running);
    }

    /** The newest {@value #MAX_EVENTS} changes and transitions, oldest first. */
    public List<LearnerEvent> events() {
        return List.copyOf(events);
    }

    private void learn(Window w, Policy ran, double cost) {
        decayInto(recentSizes, w);
        score(ran, cost, w.index(), p99);
        if (state == LearningState.LEARN) {
            maybeFreeze(w.index());
        }
    }

    private void frozen(long index) {
        if (++periodWindows >= options.frozenWindows()) {
            transition(index, LearningState.CANARY, "frozen for " + periodWindows + " windows");
        }
    }

    private void canary(Window w, Policy ran, double cost) {
        periodWindows++;
        decayInto(recentSizes, w);
        for (int b = 0; b < canarySizes.length; b++) {
            canarySizes[b] += w.sizeCount(b);
        }
        score(ran, cost, w.index(), canaryP99);
        if (state != LearningState.CANARY) {
            return;
        }
        Signature sizes = Signature.of(canarySizes);
        double distance = frozenSignature != null && sizes.samples() >= Signature.MIN_SAMPLES
                ? sizes.distance(frozenSignature) : 0;
        boolean judged = canaryP99.count() >= DRIFT_WINDOWS;
        double drift = judged && frozenP99 > 0 ? canaryP99.estimate() / frozenP99 : 1;
        if (distance > options.shiftDistance()) {
            relearn(w.index(), String.format("sizes shifted: signature distance %.3f > %.3f", distance,
                    options.shiftDistance()));
        } else if (drift > options.p99Drift() || drift < 1 / options.p99Drift()) {
            relearn(w.index(), String.format("cost drifted: p99 %.1f is %.2fx the %.1f at freeze time",
                    canaryP99.estimate(), drift, frozenP99));
        } else if (periodWindows >= options.canaryWindows()) {
            if (frozenSignature == null && sizes.samples() >= Signature.MIN_SAMPLES) {
                frozenSignature = sizes;
            }
            if (Double.isNaN(frozenP99) && judged) {
                frozenP99 = canaryP99.estimate();
            }
            if (sizes.samples() >= Signature.MIN_SAMPLES) {
                Arrays.fill(canarySizes, 0);
            }
            if (judged) {
                canaryP99 = new P2Quantile(0.99);
            }
            transition(w.index(), LearningState.FROZEN, String.format(
                    "no shift in %d windows: signature distance %.3f, p99 %.2fx", periodWindows, distance, drift));
        }
    }

    /**
     * A scored, settled incumbent window becomes the reference (and a sample of {@code costs}); a candidate window is
     * compared with the reference, if it and the reference were scored, and uses it up.
     *
     * <p>Why the incumbent window right after a candidate's is no reference (a washout window, as crossover trials
     * have): what a candidate defers lands in the window after it. A longer purge delay leaves the memory it did not
     * purge to the next maintenance tick, under the incumbent's shorter delay; a larger retain budget leaves its trim
     * there. Compared with that window, such a candidate looked cheaper than it is (its work charged to the
     * incumbent) and its memory was never charged: the learner kept purge 1000 ms and retain 256 MiB on the
     * lifetime mix. LEARN's windows go I C W I C W ...: each candidate window paired with a settled incumbent window.
     */
    private void score(Policy ran, double cost, long index, P2Quantile costs) {
        if (ran.equals(incumbent)) {
            if (!Double.isNaN(cost) && settled) {
                reference = cost;
                costs.add(cost);
            }
        } else {
            if (!Double.isNaN(cost) && !Double.isNaN(reference)) {
                compare(cost, index);
            }
            reference = Double.NaN;
        }
    }

    /**
     * A scored candidate window paired with the incumbent window before it: the bandit's update, then the rails on
     * the candidate's last {@link LearnerOptions#trialPairs()} pairs ({@link #verdict}).
     */
    private void compare(double cost, long index) {
        Candidate c = candidate;
        double m = options.minImprovement();
        boolean won = cost <= (1 - m) * reference;
        boolean lost = reference <= (1 - m) * cost;
        if (c.axis() != null) {
            int o = c.axis().ordinal();
            if (ratings[o] != null) {
                int held = c.axis().indexOf(incumbent);
                // An incumbent value off the ladder (a loaded policy) has no rating to play for.
                if (held >= 0) {
                    ratings[o].record(c.arm(), held, won ? 1 : lost ? 0 : 0.5);
                }
            } else {
                bandits[o].update(c.arm(), reference + cost > 0 ? reference / (reference + cost) : 0.5);
            }
        }
        long kept = (1L << options.trialPairs()) - 1;
        cheaper = (cheaper << 1 | (cost < reference ? 1 : 0)) & kept;
        wonBy = (wonBy << 1 | (won ? 1 : 0)) & kept;
        pairs = Math.min(pairs + 1, options.trialPairs());
        Verdict v = verdict(options, pairs, cheaper, wonBy);
        if (v == Verdict.LOST && state == LearningState.LEARN) {
            // LEARN tries another candidate; CANARY keeps its runner-up, whose pairs slide on across periods.
            setCandidate(null);
        }
        if (v != Verdict.WON || !mayChange(index)) {
            return;
        }
        String evidence = String.format("%s: cheaper in %d of its last %d paired comparisons, by at least %.0f%% in"
                + " %d, so its median cost ratio is at most %.2f (last: %.1f vs %.1f)", c.step(),
                Long.bitCount(cheaper), pairs, 100 * m, Long.bitCount(wonBy), 1 - m, cost, reference);
        incumbent = c.policy();
        lastChange = index;
        setCandidate(null);
        restartConvergence(index);
        record(new LearnerEvent(index, LearnerEvent.Kind.CHANGE, state, state, incumbent, evidence));
        if (state == LearningState.CANARY) {
            relearn(index, "the runner-up won: " + c.step());
        }
    }

    /** What a candidate's pairs say: adopt it, end its turn, or wait for more pairs. */
    enum Verdict { WON, LOST, OPEN }

    /**
     * The decision rule on a candidate's last {@code pairs} paired comparisons (at most
     * {@link LearnerOptions#trialPairs()}, {@code n} below), newest in bit 0: {@code cheaper} has a bit set for a pair
     * whose candidate window cost less than its incumbent window, {@code wonBy} for one that cost at most
     * {@code 1 - minImprovement} of it.
     * <ul>
     *   <li>WON when at most {@code hysteresis - 1} of {@code n} pairs are not cheaper (the sign test: a candidate
     *       no better is cheaper in a pair as often as not, whatever the noise, and passes with a chance of at most
     *       {@link LearnerOptions#SIGN_TEST_LEVEL}) and more than half of the pairs held are won by
     *       {@code minImprovement} (their median is: the improvement is worth a change);
     *   <li>LOST when {@code hysteresis} of the pairs held are not cheaper (the sign test cannot pass until they
     *       slide out), or when all {@code n} are held and their median is not won;
     *   <li>OPEN otherwise.
     * </ul>
     */
    static Verdict verdict(LearnerOptions options, int pairs, long cheaper, long wonBy) {
        int h = options.hysteresis();
        int n = options.trialPairs();
        int against = pairs - Long.bitCount(cheaper);
        boolean medianWon = 2 * Long.bitCount(wonBy) > pairs;
        if (against >= h || (pairs == n && !medianWon)) {
            return Verdict.LOST;
        }
        return pairs - against >= n - h + 1 && medianWon ? Verdict.WON : Verdict.OPEN;
    }

    private boolean mayChange(long index) {
        return lastChange == NEVER || index - lastChange > options.cooldown();
    }

    /**
     * Every {@code freezeAfter / 2} windows the p99 is compared with the last mark: LEARN freezes when it moved by
     * less than {@code minImprovement} (what counts as a real difference), nothing changed for {@code freezeAfter}
     * windows and no candidate is half-way through its wins (the median of its pairs won).
     */
    private void maybeFreeze(long index) {
        if (index - markIndex < options.freezeAfter() / 2) {
            return;
        }
        double now = p99.estimate();
        boolean stable = p99.warm() && Math.abs(now - markP99) <= options.minImprovement() * markP99;
        boolean halfWay = 2 * Long.bitCount(wonBy) > pairs;
        // A promising neighbour holds the freeze back for at most another freezeAfter windows: on a phase whose
        // windows are noise-dominated a neighbour no better crosses the mark by chance, and LEARN costs more than
        // FROZEN (its windows are all timed).
        boolean retrying = index - quietSince < 2L * options.freezeAfter() && promising() != null;
        if (stable && !halfWay && !retrying && index - quietSince >= options.freezeAfter()) {
            frozenSignature = Signature.of(recentSizes);
            if (frozenSignature.samples() < Signature.MIN_SAMPLES) {
                frozenSignature = null;
            }
            frozenP99 = now;
            Arrays.fill(canarySizes, 0);
            canaryP99 = new P2Quantile(0.99);
            setCandidate(runnerUp());
            transition(index, LearningState.FROZEN, String.format(
                    "converged: no change for %d windows, p99 of the cost %.1f (was %.1f); runner-up: %s",
                    index - quietSince, now, markP99, candidate == null ? "none" : candidate.step()));
        } else {
            markIndex = index;
            markP99 = now;
        }
    }

    /**
     * The incumbent's neighbour on a bandit's knob whose pairs so far say it is cheaper by {@code minImprovement} on
     * average (its mean reward {@code I / (I + C)} at least that of a pair won by exactly that much,
     * {@code 1 / (2 - minImprovement)}), or null. Such a neighbour lost its turn to the noise, not on its record: a
     * candidate 16% cheaper under pair noise of 30% is cheaper in about 3 pairs of 4 and loses a turn to 3 pairs not
     * cheaper more often than it wins one (the sign test wants 12 of 14). So it gets every other turn
     * ({@link #propose}), where the rotation gave it one in five, and LEARN does not freeze while there is one, for at
     * most another {@code freezeAfter} windows (unbounded, a learning run on the noisy lifetime mix never left LEARN
     * in 5 s, and LEARN's timed windows cost more than FROZEN's). The rails still decide on its pairs alone; this only
     * gives it the pairs. Simulated (a 16% cheaper W_MAX step, log-normal window noise sigma 0.2, 450 windows of the
     * default options), it was adopted in 119 runs of 200 against 55 with the rotation alone, and a candidate no
     * better in 3 of 200 against 2. The big threshold's Elo ratings are left out: a rating is earned against one
     * incumbent's threshold, not a mean cost.
     */
    private Candidate promising() {
        double wins = 1 / (2 - options.minImprovement());
        for (Axis axis : AXES) {
            Ucb1 bandit = bandits[axis.ordinal()];
            if (bandit == null) {
                continue;
            }
            for (long rest = axis.neighbours(incumbent); rest != 0; rest &= rest - 1) {
                int arm = Long.numberOfTrailingZeros(rest);
                if (bandit.plays(arm) > 0 && bandit.mean(arm) >= wins) {
                    return candidate(axis, arm, axis.with(incumbent, arm));
                }
            }
        }
        return null;
    }

    private void relearn(long index, String reason) {
        resetStatistics();
        setCandidate(null);
        frozenSignature = null;
        frozenP99 = Double.NaN;
        restartConvergence(index);
        transition(index, LearningState.LEARN, reason);
    }

    /** Moves the lifecycle. The runner-up's pairs survive FROZEN: they slide on across periods. */
    private void transition(long index, LearningState to, String reason) {
        LearningState from = state;
        state = to;
        periodWindows = 0;
        reference = Double.NaN;
        record(new LearnerEvent(index, LearnerEvent.Kind.TRANSITION, from, to, incumbent, reason));
    }

    private void restartConvergence(long index) {
        p99 = new P2Quantile(0.99);
        quietSince = index;
        markIndex = index;
        markP99 = Double.NaN;
    }

    private void resetStatistics() {
        for (Axis axis : AXES) {
            if (axis.rated()) {
                ratings[axis.ordinal()] = new Elo(axis.candidates());
            } else {
                bandits[axis.ordinal()] = new Ucb1(axis.candidates());
            }
        }
    }

    private void record(LearnerEvent e) {
        if (events.size() == MAX_EVENTS) {
            events.removeFirst();
        }
        events.addLast(e);
    }

    private static void decayInto(double[] sizes, Window w) {
        for (int b = 0; b < sizes.length; b++) {
            sizes[b] = sizes[b] * DECAY + w.sizeCount(b);
        }
    }

    /** The policy for the next window, and whether it is {@link #timed}. */
    private Policy next() {
        timed = state == LearningState.LEARN;
        return switch (state) {
            case LEARN -> {
                if (Double.isNaN(reference)) {
                    yield incumbent;
                }
                if (candidate == null) {
                    setCandidate(propose());
                }
                yield candidate == null ? incumbent : candidate.policy();
            }
            case FROZEN -> incumbent;
            case CANARY -> {
                int k = periodWindows;
                boolean runnerUp = slot(k) && candidate != null && !Double.isNaN(reference);
                // Timed: the runner-up's windows and the incumbent window before each slot, its reference (also a
                // sample of the p99 watched, with or without a runner-up). The washout after it and every other
                // window rest as FROZEN's do: CANARY's learning cost is its comparisons', not its period's.
                timed = runnerUp || (k + 1 < options.canaryWindows() && slot(k + 1));
                yield runnerUp ? candidate.policy() : incumbent;
            }
        };
    }

    /**
     * Whether window {@code k} of a CANARY period is a runner-up's slot: those with {@code floor((k + 1) share) >
     * floor(k share)}, a share {@code canaryShare} of the period, evenly spread.
     */
    private boolean slot(int k) {
        double share = options.canaryShare();
        return Math.floor((k + 1) * share) > Math.floor(k * share);
    }

    /** The one home of a candidate's turn beginning or ending: its pairs start afresh. */
    private void setCandidate(Candidate c) {
        candidate = c;
        cheaper = 0;
        wonBy = 0;
        pairs = 0;
    }

    /**
     * The next turn's candidate, or null if no knob can move: every other turn, while there is one, the
     * {@link #promising} neighbour again; otherwise each knob in turn.
     */
    private Candidate propose() {
        Candidate again = retried ? null : promising();
        retried = again != null;
        if (again != null) {
            return again;
        }
        for (int tries = 0; tries < TURNS; tries++) {
            int t = turn;
            turn = (turn + 1) % TURNS;
            Candidate c = t < AXES.length ? onAxis(AXES[t]) : bridge();
            if (c != null) {
                return c;
            }
        }
        return null;
    }

    private Candidate onAxis(Axis axis) {
        long allowed = axis.neighbours(incumbent);
        if (allowed == 0) {
            return null;
        }
        int o = axis.ordinal();
        int arm = ratings[o] != null ? ratings[o].select(allowed, Elo.TEMPERATURE, random.nextDouble())
                : bandits[o].select(allowed);
        return candidate(axis, arm, axis.with(incumbent, arm));
    }

    private Candidate bridge() {
        int[] bridges = Bridges.propose(recentSizes, incumbent);
        return bridges == null ? null : candidate(null, -1, incumbent.toBuilder().bridgeClasses(bridges).build());
    }

    private Candidate candidate(Axis axis, int arm, Policy p) {
        return new Candidate(axis, arm, p, step(incumbent, p));
    }

    /** The incumbent's neighbour with the best record: the highest mean reward or expected score; ties: axis order. */
    private Candidate runnerUp() {
        Candidate best = null;
        double bestScore = -1;
        for (Axis axis : AXES) {
            int o = axis.ordinal();
            int held = axis.indexOf(incumbent);
            for (long rest = axis.neighbours(incumbent); rest != 0; rest &= rest - 1) {
                int arm = Long.numberOfTrailingZeros(rest);
                double score;
                if (ratings[o] != null) {
                    score = held >= 0 && ratings[o].games() > 0 ? ratings[o].expected(arm, held) : 0;
                } else {
                    score = bandits[o].mean(arm);
                }
                if (score > bestScore) {
                    best = candidate(axis, arm, axis.with(incumbent, arm));
                    bestScore = score;
                }
            }
        }
        return best;
    }

    /** The invariants of the class javadoc; null or the problem. */
    public String check() {
        if (candidate != null && !Objects.equals(candidate.step(), step(incumbent, candidate.policy()))) {
            return "learner: the candidate " + candidate.policy() + " is not one step from " + incumbent;
        }
        if (candidate == null && pairs != 0) {
            return "learner: " + pairs + " paired comparisons without a candidate";
        }
        if (pairs > options.trialPairs() || cheaper >>> pairs != 0 || (wonBy & ~cheaper) != 0) {
            return "learner: pairs cheaper " + Long.toBinaryString(cheaper) + ", won " + Long.toBinaryString(wonBy)
                    + " of " + pairs + " pairs, at most " + options.trialPairs() + " kept, each won one cheaper";
        }
        if (state == LearningState.LEARN && verdict(options, pairs, cheaper, wonBy) == Verdict.LOST) {
            return "learner: a candidate kept with " + Long.bitCount(cheaper) + " cheaper and " + Long.bitCount(wonBy)
                    + " won of its last " + pairs + " pairs: its turn is lost";
        }
        if (!running.equals(incumbent) && (candidate == null || !running.equals(candidate.policy()))) {
            return "learner: running " + running + ", neither the incumbent nor the candidate";
        }
        if (state == LearningState.FROZEN && !running.equals(incumbent)) {
            return "learner: FROZEN runs " + running + ", not the incumbent";
        }
        if (timed != (state == LearningState.LEARN) && state != LearningState.CANARY) {
            return "learner: " + state + (timed ? " times" : " does not time") + " its next window";
        }
        if (state == LearningState.CANARY && (timed ? !slot(periodWindows) && !slot(periodWindows + 1)
                : !running.equals(incumbent))) {
            return "learner: CANARY " + (timed ? "times" : "does not time") + " window " + periodWindows
                    + " of its period, running " + choice() + ": it times the runner-up's slots and the windows"
                    + " before them, no other";
        }
        long previousChange = NEVER;
        LearnerEvent previous = null;
        for (LearnerEvent e : events) {
            if (previous != null && previous.to() != e.from()) {
                return "learner: event " + e + " does not follow " + previous;
            }
            if (e.kind() == LearnerEvent.Kind.CHANGE) {
                if (previousChange != NEVER && e.window() - previousChange <= options.cooldown()) {
                    return "learner: changes at windows " + previousChange + " and " + e.window()
                            + ", within the cooldown of " + options.cooldown();
                }
                previousChange = e.window();
            }
            previous = e;
        }
        if (previousChange != NEVER && previousChange != lastChange) {
            return "learner: the last change in the history is at window " + previousChange + ", not " + lastChange;
        }
        if (previous != null && (previous.to() != state || !previous.best().equals(incumbent))) {
            return "learner: the last event " + previous + " does not leave " + state + " and " + incumbent;
        }
        for (int o = 0; o < AXES.length; o++) {
            String problem = ratings[o] != null ? ratings[o].check() : bandits[o].check();
            if (problem != null) {
                return AXES[o].knob() + ": " + problem;
            }
        }
        String problem = p99.check();
        return problem != null ? problem : canaryP99.check();
    }
}
