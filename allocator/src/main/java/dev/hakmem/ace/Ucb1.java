package dev.hakmem.ace;

/**
 * A multi-armed bandit played by UCB1 (Peter Auer, Nicolò Cesa-Bianchi and Paul Fischer, "Finite-time Analysis of
 * the Multiarmed Bandit Problem", Machine Learning 47, 2002). The learner keeps one per knob it tunes this way
 * (W_MAX, the purge delay, the retain budget); an arm is one candidate value of the knob.
 *
 * <p>Each arm was played {@code n_i} times for a mean reward {@code mean_i} in [0, 1], {@code n} plays in all. An arm
 * never played is played first; after that the arm with the largest upper confidence bound is:
 *
 * <pre>
 *   index_i = mean_i + sqrt(2 ln n / n_i)
 *             ^^^^^^   ^^^^^^^^^^^^^^^^^^ shrinks as arm i is played, grows slowly with every other play
 *             exploitation            exploration
 * </pre>
 *
 * An arm that is worse than the best by {@code delta_i} is then played at most {@code 8 ln n / delta_i^2 + 1 +
 * pi^2 / 3} times in expectation over n plays (Auer et al., Theorem 1): all but O(log n) plays go to the best arm.
 * The learner may only move one step from the knob's current value, so {@link #select} takes the arms allowed now;
 * {@code n} stays the plays of all arms, as the confidence of each arm's mean does not depend on which are allowed.
 * Ties go to the lowest arm, so that a run is a function of the rewards alone.
 *
 * <p>Invariants (checked by {@link #check}): the plays of the arms sum to {@link #total()}; every mean is in [0, 1];
 * an arm never played has mean 0.
 */
public final class Ucb1 {
    /** At most this many arms: a set of arms is a long bit mask. */
    public static final int MAX_ARMS = 64;

    private final long[] plays;
    private final double[] mean;
    /** The sum of {@link #plays}. */
    private long total;

    public Ucb1(int arms) {
        if (arms < 1 || arms > MAX_ARMS) {
            throw new IllegalArgumentException("Ucb1: arms must be in [1, " + MAX_ARMS + "]: " + arms);
        }
        this.plays = new long[arms];
        this.mean = new double[arms];
    }

    public int arms() {
        return plays.length;
    }

    /** The arm to play among {@code allowed} (bit i set: arm i may be played), which must name at least one arm. */
    public int select(long allowed) {
        if (allowed == 0 || (plays.length < MAX_ARMS && allowed >>> plays.length != 0)) {
            throw new IllegalArgumentException("Ucb1: allowed arms " + Long.toBinaryString(allowed) + " not among "
                    + plays.length);
        }
        int best = -1;
        double bestIndex = Double.NEGATIVE_INFINITY;
        double logTotal = Math.log(total);
        for (long rest = allowed; rest != 0; rest &= rest - 1) {
            int arm = Long.numberOfTrailingZeros(rest);
            if (plays[arm] == 0) {
                return arm;
            }
            double index = mean[arm] + Math.sqrt(2 * logTotal / plays[arm]);
            if (index > bestIndex) {
                best = arm;
                bestIndex = index;
            }
        }
        return best;
    }

    /** Records that {@code arm} was played for {@code reward}, in [0, 1]. */
    public void update(int arm, double reward) {
        if (!(reward >= 0 && reward <= 1)) {
            throw new IllegalArgumentException("Ucb1: a reward must be in [0, 1]: " + reward);
        }
        plays[arm]++;
        total++;
        mean[arm] += (reward - mean[arm]) / plays[arm];
    }

    public long plays(int arm) {
        return plays[arm];
    }

    public double mean(int arm) {
        return mean[arm];
    }

    public long total() {
        return total;
    }

    /** The invariants of the class javadoc; null or the problem. */
    public String check() {
        long sum = 0;
        for (int arm = 0; arm < plays.length; arm++) {
            sum += plays[arm];
            if (!(mean[arm] >= 0 && mean[arm] <= 1) || (plays[arm] == 0 && mean[arm] != 0)) {
                return "Ucb1: arm " + arm + " has mean " + mean[arm] + " after " + plays[arm] + " plays";
            }
        }
        return sum == total ? null : "Ucb1: the arms' plays sum to " + sum + ", not " + total;
    }
}
