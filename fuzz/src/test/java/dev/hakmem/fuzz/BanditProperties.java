package dev.hakmem.fuzz;

import dev.hakmem.ace.Elo;
import dev.hakmem.ace.Ucb1;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The learner's bandits on synthetic bandits: the best arm is played in all but O(log n) of n plays. UCB1 is held to
 * Auer, Cesa-Bianchi and Fischer's bound (Theorem 1: an arm {@code delta} below the best is played at most
 * {@code 8 ln n / delta^2 + 1 + pi^2 / 3} times in expectation), which its realised plays stay well under; Elo's
 * softmax, when the better strategy wins its games, to {@code 8 (k - 1) ln n} wrong picks in n.
 */
@AddLifecycleHook(FuzzScale.class)
class BanditProperties {

    /**
     * Bernoulli arms, the best with mean in [0.6, 1], each other at least 0.3 below it; 20 000 plays over a random
     * set of allowed arms that holds the best and another. Every update keeps the bandit's invariants. (Over 3000
     * such bandits the worse arms' plays reached at most 0.36 of the bound.)
     */
    @Property(tries = 40)
    void ucb1PlaysTheBestArmInAllButLogarithmicallyManyPlays(@ForAll("means") List<Double> means,
                                                             @ForAll long seed) {
        int k = means.size();
        SplittableRandom r = new SplittableRandom(seed);
        int best = 0;
        for (int i = 1; i < k; i++) {
            best = means.get(i) > means.get(best) ? i : best;
        }
        long allowed = (r.nextLong() & ((1L << k) - 1)) | 1L << best | 1L << (best + 1 + r.nextInt(k - 1)) % k;
        Ucb1 u = new Ucb1(k);
        int n = 20_000;
        long wrong = 0;
        for (int play = 0; play < n; play++) {
            int arm = u.select(allowed);
            if ((allowed & 1L << arm) == 0) {
                throw new AssertionError("played arm " + arm + ", not allowed in " + Long.toBinaryString(allowed));
            }
            u.update(arm, r.nextDouble() < means.get(arm) ? 1 : 0);
            wrong += arm == best ? 0 : 1;
            String problem = u.check();
            if (problem != null) {
                throw new AssertionError(problem);
            }
        }
        double bound = 0;
        for (int i = 0; i < k; i++) {
            if (i != best && (allowed & 1L << i) != 0) {
                double delta = means.get(best) - means.get(i);
                bound += 8 * Math.log(n) / (delta * delta) + 1 + Math.PI * Math.PI / 3;
            }
        }
        Statistics.label("share of Auer's bound").collect(wrong / bound < 0.25 ? "< 1/4" : "1/4 .. 1");
        if (wrong > bound) {
            throw new AssertionError(wrong + " plays of worse arms in " + n + ", above Auer's bound " + bound
                    + "; means " + means + ", best " + best + ", plays " + plays(u));
        }
    }

    /**
     * Strategies of distinct strength (the stronger always wins its game); each round the softmax picks one, which
     * plays the best rated of the others. The wrong picks grow as log n, not as n.
     */
    @Property(tries = 40)
    void eloSoftmaxPicksTheBestStrategyInAllButLogarithmicallyManyRounds(
            @ForAll("strategies") int k, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] strength = r.ints(k, 0, 1 << 20).distinct().toArray();
        if (strength.length < k) {
            return;
        }
        int best = 0;
        for (int i = 1; i < k; i++) {
            best = strength[i] > strength[best] ? i : best;
        }
        Elo e = new Elo(k);
        int n = 3000;
        long wrong = 0;
        for (int round = 0; round < n; round++) {
            int i = e.select((1L << k) - 1, Elo.TEMPERATURE, r.nextDouble());
            int j = -1;
            for (int o = 0; o < k; o++) {
                if (o != i && (j < 0 || e.rating(o) > e.rating(j))) {
                    j = o;
                }
            }
            e.record(i, j, strength[i] > strength[j] ? 1 : 0);
            wrong += i == best ? 0 : 1;
            String problem = e.check();
            if (problem != null) {
                throw new AssertionError(problem);
            }
        }
        double bound = 8 * (k - 1) * Math.log(n);
        if (wrong > bound) {
            throw new AssertionError(wrong + " wrong picks in " + n + " rounds, above " + bound);
        }
    }

    @Provide
    Arbitrary<List<Double>> means() {
        return Arbitraries.integers().between(2, 6).flatMap(k -> Arbitraries.doubles().between(0.6, 1).flatMap(
                top -> Arbitraries.doubles().between(0.3, top).list().ofSize(k - 1).flatMap(
                        gaps -> Arbitraries.integers().between(0, k - 1).map(at -> {
                            List<Double> means = new java.util.ArrayList<>();
                            gaps.forEach(g -> means.add(top - g));
                            means.add(at, top);
                            return means;
                        }))));
    }

    @Provide
    Arbitrary<Integer> strategies() {
        return Arbitraries.integers().between(2, 6);
    }

    private static String plays(Ucb1 u) {
        StringBuilder s = new StringBuilder();
        for (int arm = 0; arm < u.arms(); arm++) {
            s.append(arm == 0 ? "" : ", ").append(u.plays(arm));
        }
        return s.toString();
    }
}
