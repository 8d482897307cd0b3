package dev.hakmem.ace;

import java.util.Arrays;

/**
 * Elo ratings of competing strategies, chosen by a softmax over the ratings: hakmem's Phase 6.2 (the seed's "ELO
 * over threshold strategies"), after Arpad Elo, "The Rating of Chessplayers, Past and Present" (1978). The learner
 * rates the big threshold's candidate values with it.
 *
 * <p>A game between strategies a and b scores 1 (a won), 1/2 (a draw) or 0 (a lost). The expected score of a is
 * logistic in the rating difference, and both ratings move by K times the surprise, in opposite directions, so the
 * ratings' sum never changes:
 *
 * <pre>
 *   E_a = 1 / (1 + 10^((R_b - R_a) / 400))
 *   R_a += K (S_a - E_a)        R_b -= K (S_a - E_a)        K = 32, every rating starts at 1500
 *   P(choose i) = exp(R_i / T) / sum_j exp(R_j / T)          over the strategies allowed now
 * </pre>
 *
 * Why the softmax converges: if a always beats b, their gap after t games grows as {@code 400 log10(c t)}, so b is
 * chosen with probability {@code (c t)^(-400 / (T ln 10))}: below 1/t when {@code T <= 400 / ln 10 ~ 174}, and the
 * worse strategy is then chosen O(log n) times in n. {@link #TEMPERATURE} is 100. When the better strategy does not
 * always win (a noisy comparison), the gap settles where E_a equals its winning rate and the loser keeps a small
 * constant share: that is why the learner's rails, not the ratings, decide a change.
 *
 * <p>Invariants (checked by {@link #check}): the ratings sum to {@code 1500 * strategies} (up to rounding), and
 * {@link #games()} counts the recorded games.
 */
public final class Elo {
    public static final double INITIAL = 1500;
    public static final double K = 32;
    public static final double SCALE = 400;
    public static final double TEMPERATURE = 100;

    private final double[] rating;
    private long games;

    public Elo(int strategies) {
        if (strategies < 1 || strategies > Ucb1.MAX_ARMS) {
            throw new IllegalArgumentException("Elo: strategies must be in [1, " + Ucb1.MAX_ARMS + "]: "
                    + strategies);
        }
        this.rating = new double[strategies];
        Arrays.fill(rating, INITIAL);
    }

    public double rating(int i) {
        return rating[i];
    }

    public long games() {
        return games;
    }

    /** The score a is expected to make against b. */
    public double expected(int a, int b) {
        return 1 / (1 + Math.pow(10, (rating[b] - rating[a]) / SCALE));
    }

    /** Records a game of a against b in which a scored {@code scoreA}: 1, 1/2 or 0. */
    public void record(int a, int b, double scoreA) {
        if (scoreA != 0 && scoreA != 0.5 && scoreA != 1) {
            throw new IllegalArgumentException("Elo: a score is 0, 0.5 or 1: " + scoreA);
        }
        if (a == b) {
            throw new IllegalArgumentException("Elo: strategy " + a + " cannot play itself");
        }
        double delta = K * (scoreA - expected(a, b));
        rating[a] += delta;
        rating[b] -= delta;
        games++;
    }

    /**
     * The strategy the softmax picks among {@code allowed} (a bit mask, not empty) at temperature {@code t} for the
     * uniform draw {@code u} in [0, 1): the first whose cumulative probability exceeds u.
     */
    public int select(long allowed, double t, double u) {
        if (allowed == 0 || (rating.length < Ucb1.MAX_ARMS && allowed >>> rating.length != 0)) {
            throw new IllegalArgumentException("Elo: allowed strategies " + Long.toBinaryString(allowed)
                    + " not among " + rating.length);
        }
        if (!(t > 0) || !(u >= 0 && u < 1)) {
            throw new IllegalArgumentException("Elo: temperature must be positive and u in [0, 1): " + t + ", " + u);
        }
        double top = Double.NEGATIVE_INFINITY;
        for (long rest = allowed; rest != 0; rest &= rest - 1) {
            top = Math.max(top, rating[Long.numberOfTrailingZeros(rest)]);
        }
        // Weights relative to the top rating: exp never overflows, and the top strategy weighs exactly 1.
        double sum = 0;
        for (long rest = allowed; rest != 0; rest &= rest - 1) {
            sum += Math.exp((rating[Long.numberOfTrailingZeros(rest)] - top) / t);
        }
        double target = u * sum;
        int last = -1;
        for (long rest = allowed; rest != 0; rest &= rest - 1) {
            last = Long.numberOfTrailingZeros(rest);
            target -= Math.exp((rating[last] - top) / t);
            if (target < 0) {
                return last;
            }
        }
        return last;
    }

    /** The invariants of the class javadoc; null or the problem. */
    public String check() {
        double sum = 0;
        for (double r : rating) {
            if (!Double.isFinite(r)) {
                return "Elo: a rating is " + r;
            }
            sum += r;
        }
        double expected = INITIAL * rating.length;
        // Each game adds and subtracts the same delta: the sum drifts only by rounding, an ulp or so per game.
        double tolerance = 1e-9 * expected * (1 + games);
        return Math.abs(sum - expected) <= tolerance ? null
                : "Elo: the ratings sum to " + sum + ", not " + expected + " (" + games + " games)";
    }
}
