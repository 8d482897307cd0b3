package dev.hakmem.ace;

/**
 * The learner's settings. Every duration counts windows (virtual time: one window is {@code hakmem.learnWindowMs},
 * 1 s by default). docs/ADAPTIVE.md explains each default.
 *
 * @param memoryWeight   how much a committed but unused byte costs against time: the cost is scaled by
 *                       {@code 1 + memoryWeight * waste} ({@link Learner#cost}); [0, 10], default 0.5
 * @param minOps         a window with fewer mallocs + frees is not scored; default 1000
 * @param minSampledOps  a window with fewer timed mallocs is not scored; default 32
 * @param minImprovement a candidate beats the incumbent when its cost is at most {@code 1 - minImprovement} times
 *                       the incumbent's; (0, 1), default 0.08 (the seed's 8%)
 * @param hysteresis     how many of a candidate's paired comparisons may go against it: a candidate replaces the
 *                       incumbent when at most {@code hysteresis - 1} of its last {@link #trialPairs()} pairs were
 *                       not cheaper (a sign test at {@value #SIGN_TEST_LEVEL}) and the median of its pairs is won by
 *                       {@code minImprovement}; its turn ends when {@code hysteresis} were not cheaper; [1, 16],
 *                       default 3 (2 pairs of 14 against it)
 * @param cooldown       windows after a change during which no other change is made; default 10
 * @param freezeAfter    LEARN freezes once no change was made for this many windows and the p99 of the incumbent's
 *                       cost is stable; default 90 (a round of turns in which every neighbour of every knob is
 *                       tried once and loses: 9 turns of at least 3 pairs (3 not cheaper), each pair 3 windows
 *                       with its washout)
 * @param frozenWindows  windows of a FROZEN period, before the next CANARY period; default 60
 * @param canaryWindows  windows of a CANARY period; default 60
 * @param canaryShare    the share of CANARY windows that run the runner-up; (0, 0.5], default 0.05 (the seed's 5%);
 *                       these and the incumbent window before each are the only CANARY windows timed
 * @param shiftDistance  CANARY goes back to LEARN when the size signature moved by more than this L1 distance from
 *                       the one at freeze time; (0, 2], default 0.5 (a quarter of the mallocs changed sizes)
 * @param p99Drift       ... or when the p99 of the incumbent's cost moved by more than this factor, either way;
 *                       above 1, default 2
 */
public record LearnerOptions(double memoryWeight, long minOps, long minSampledOps, double minImprovement,
                             int hysteresis, int cooldown, int freezeAfter, int frozenWindows, int canaryWindows,
                             double canaryShare, double shiftDistance, double p99Drift) {

    /**
     * The sign test's level: the chance that a candidate no better than the incumbent (each pair as likely cheaper
     * as not, whatever the noise) passes it in one turn. 1%: a learning run has tens of turns between workload
     * shifts, so at 5% a noise candidate would still be adopted about once a run.
     */
    public static final double SIGN_TEST_LEVEL = 0.01;
    /** {@link #trialPairs()} by hysteresis (index 0 unused). */
    private static final int[] TRIAL_PAIRS = trialPairsByHysteresis();

    private static final LearnerOptions DEFAULTS = new LearnerOptions(0.5, 1000, 32, 0.08, 3, 10, 90, 60, 60, 0.05,
            0.5, 2);

    public LearnerOptions {
        if (!(memoryWeight >= 0 && memoryWeight <= 10)) {
            throw new IllegalArgumentException("learner.memoryWeight must be in [0, 10]: " + memoryWeight);
        }
        atLeast("minOps", minOps, 1);
        atLeast("minSampledOps", minSampledOps, 1);
        if (!(minImprovement > 0 && minImprovement < 1)) {
            throw new IllegalArgumentException("learner.minImprovement must be in (0, 1): " + minImprovement);
        }
        // The learner keeps a candidate's last trialPairs() outcomes as the bits of a long: 47 at 16.
        if (hysteresis < 1 || hysteresis > 16) {
            throw new IllegalArgumentException("learner.hysteresis must be in [1, 16]: " + hysteresis);
        }
        atLeast("cooldown", cooldown, 0);
        atLeast("freezeAfter", freezeAfter, 2);
        atLeast("frozenWindows", frozenWindows, 1);
        atLeast("canaryWindows", canaryWindows, 2);
        // At most every other window: a runner-up window is then always preceded by an incumbent window to compare with.
        if (!(canaryShare > 0 && canaryShare <= 0.5)) {
            throw new IllegalArgumentException("learner.canaryShare must be in (0, 0.5]: " + canaryShare);
        }
        if (!(shiftDistance > 0 && shiftDistance <= 2)) {
            throw new IllegalArgumentException("learner.shiftDistance must be in (0, 2]: " + shiftDistance);
        }
        if (!(p99Drift > 1 && p99Drift < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("learner.p99Drift must be above 1 and finite: " + p99Drift);
        }
    }

    private static void atLeast(String field, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException("learner." + field + " must be at least " + min + ": " + value);
        }
    }

    /** 0.5, 1000, 32, 0.08, 3, 10, 90, 60, 60, 0.05, 0.5, 2: see the components. */
    public static LearnerOptions defaults() {
        return DEFAULTS;
    }

    /**
     * How many of a candidate's paired comparisons are kept and judged: the fewest {@code n} for which
     * {@code n - hysteresis + 1} cheaper pairs of {@code n} pass a one-sided sign test at {@value #SIGN_TEST_LEVEL}
     * (the chance of as many heads in {@code n} fair coin flips is at most that): 7 at hysteresis 1, 11 at 2, 14 at 3
     * (16384 outcomes, 106 with at most 2 tails: 0.65%), 47 at 16.
     */
    public int trialPairs() {
        return TRIAL_PAIRS[hysteresis];
    }

    /** By hysteresis 1..16: the fewest n with P(Binomial(n, 1/2) >= n - hysteresis + 1) <= SIGN_TEST_LEVEL. */
    private static int[] trialPairsByHysteresis() {
        int[] pairs = new int[17];
        for (int h = 1; h <= 16; h++) {
            int n = h;
            while (signTestTail(n, n - h + 1) > SIGN_TEST_LEVEL) {
                n++;
            }
            pairs[h] = n;
        }
        return pairs;
    }

    /** P(Binomial(n, 1/2) >= k), exactly enough for n up to 62: the binomial coefficients summed as doubles. */
    static double signTestTail(int n, int k) {
        double tail = 0;
        double coefficient = 1;
        for (int i = 0; i <= n; i++) {
            if (i >= k) {
                tail += coefficient;
            }
            coefficient = coefficient * (n - i) / (i + 1);
        }
        return tail / Math.pow(2, n);
    }

    /** Whether a window has enough operations and samples to be scored; the others are ignored. */
    public boolean scores(Window w) {
        return w.ops() >= minOps && w.sampledOps() >= minSampledOps;
    }

    public LearnerOptions withMemoryWeight(double w) {
        return new LearnerOptions(w, minOps, minSampledOps, minImprovement, hysteresis, cooldown, freezeAfter,
                frozenWindows, canaryWindows, canaryShare, shiftDistance, p99Drift);
    }

    /** The rails: {@code minImprovement}, {@code hysteresis} and {@code cooldown}. */
    public LearnerOptions withRails(double minImprovement, int hysteresis, int cooldown) {
        return new LearnerOptions(memoryWeight, minOps, minSampledOps, minImprovement, hysteresis, cooldown,
                freezeAfter, frozenWindows, canaryWindows, canaryShare, shiftDistance, p99Drift);
    }

    /** The lifecycle's durations: {@code freezeAfter}, {@code frozenWindows} and {@code canaryWindows}. */
    public LearnerOptions withLifecycle(int freezeAfter, int frozenWindows, int canaryWindows) {
        return new LearnerOptions(memoryWeight, minOps, minSampledOps, minImprovement, hysteresis, cooldown,
                freezeAfter, frozenWindows, canaryWindows, canaryShare, shiftDistance, p99Drift);
    }
}
