package dev.hakmem.ace;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** The bandits' rules case by case; their convergence is fuzz's BanditProperties. */
class BanditsTest {

    @Test
    void ucb1PlaysEachAllowedArmOnceThenTheHighestBound() {
        Ucb1 u = new Ucb1(4);
        long allowed = 0b1010;
        assertEquals(1, u.select(allowed));
        u.update(1, 0.2);
        assertEquals(3, u.select(allowed), "the allowed arm never played");
        u.update(3, 0.9);
        assertEquals(3, u.select(allowed), "equal plays: the higher mean");
        for (int i = 0; i < 20; i++) {
            u.update(3, 0.9);
        }
        // 22 plays: arm 1's bound 0.2 + sqrt(2 ln 22) = 2.69, arm 3's 0.9 + sqrt(2 ln 22 / 21) = 1.44.
        assertEquals(1, u.select(allowed), "exploration: arm 1's bound has grown past arm 3's");
        assertEquals(22, u.total());
        assertEquals(21, u.plays(3));
        assertEquals(0.9, u.mean(3), 1e-12);
        assertEquals(0, u.select(0b0001), "only what is allowed");
        assertNull(u.check());
    }

    @Test
    void ucb1BreaksTiesTowardsTheLowestArm() {
        Ucb1 u = new Ucb1(3);
        for (int arm = 0; arm < 3; arm++) {
            u.update(arm, 0.5);
        }
        assertEquals(0, u.select(0b111));
        assertEquals(1, u.select(0b110));
    }

    @Test
    void ucb1RefusesBadArmsAndRewards() {
        assertThrows(IllegalArgumentException.class, () -> new Ucb1(0));
        assertThrows(IllegalArgumentException.class, () -> new Ucb1(65));
        Ucb1 u = new Ucb1(3);
        assertThrows(IllegalArgumentException.class, () -> u.select(0));
        assertThrows(IllegalArgumentException.class, () -> u.select(0b1000));
        assertThrows(IllegalArgumentException.class, () -> u.update(0, 1.5));
        assertThrows(IllegalArgumentException.class, () -> u.update(0, Double.NaN));
        assertEquals(0, u.total());
        assertEquals(63, new Ucb1(64).select(1L << 63), "all 64 arms are usable");
    }

    @Test
    void eloMovesBothRatingsByTheSurpriseAndKeepsTheirSum() {
        Elo e = new Elo(3);
        assertEquals(0.5, e.expected(0, 1), 1e-12);
        e.record(0, 1, 1);
        assertEquals(Elo.INITIAL + Elo.K / 2, e.rating(0), 1e-9);
        assertEquals(Elo.INITIAL - Elo.K / 2, e.rating(1), 1e-9);
        double expected = e.expected(0, 1);
        assertEquals(1 / (1 + Math.pow(10, -Elo.K / Elo.SCALE)), expected, 1e-12);
        assertEquals(1, expected + e.expected(1, 0), 1e-12);
        e.record(1, 0, 0.5);
        assertEquals(Elo.INITIAL - Elo.K / 2 + Elo.K * (0.5 - (1 - expected)), e.rating(1), 1e-9,
                "a draw against a stronger strategy gains");
        assertEquals(2, e.games());
        assertNull(e.check());
    }

    /** The softmax's cumulative intervals: a sweep of the uniform draw lands in each in proportion to its weight. */
    @Test
    void eloSelectsBySoftmaxOverTheAllowedStrategies() {
        Elo e = new Elo(3);
        for (int i = 0; i < 5; i++) {
            e.record(2, 0, 1);
        }
        double w0 = Math.exp((e.rating(0) - e.rating(2)) / Elo.TEMPERATURE);
        double w1 = Math.exp((e.rating(1) - e.rating(2)) / Elo.TEMPERATURE);
        int[] picked = new int[3];
        int n = 100_000;
        for (int i = 0; i < n; i++) {
            picked[e.select(0b111, Elo.TEMPERATURE, (i + 0.5) / n)]++;
        }
        double sum = w0 + w1 + 1;
        assertEquals(w0 / sum, picked[0] / (double) n, 1e-4);
        assertEquals(w1 / sum, picked[1] / (double) n, 1e-4);
        assertEquals(1 / sum, picked[2] / (double) n, 1e-4);
        assertEquals(1, e.select(0b010, Elo.TEMPERATURE, 0.99), "only what is allowed");
        assertEquals(1, e.select(0b011, 1e-9, 0.999), "a cold softmax picks the top: 1, never beaten, over 0");
    }

    @Test
    void eloRefusesBadGames() {
        Elo e = new Elo(2);
        assertThrows(IllegalArgumentException.class, () -> e.record(0, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> e.record(0, 1, 0.7));
        assertThrows(IllegalArgumentException.class, () -> e.select(0, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> e.select(0b100, 1, 0.5));
        assertThrows(IllegalArgumentException.class, () -> e.select(0b11, 0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> e.select(0b11, 1, 1));
        assertEquals(0, e.games());
        assertTrue(e.rating(0) == Elo.INITIAL && e.rating(1) == Elo.INITIAL);
    }

    /** Both bandits take 1 to {@link Ucb1#MAX_ARMS} arms, both ends included (a set of arms is a long bit mask). */
    @Test
    void bothBanditsTakeFromOneToSixtyFourArms() {
        Ucb1 one = new Ucb1(1);
        assertEquals(1, one.arms());
        assertEquals(0, one.select(1));
        assertEquals(Ucb1.MAX_ARMS, new Ucb1(Ucb1.MAX_ARMS).arms());
        assertEquals(0, new Elo(1).select(1, Elo.TEMPERATURE, 0.5));
        assertEquals(63, new Elo(Ucb1.MAX_ARMS).select(1L << 63, Elo.TEMPERATURE, 0.5), "all 64 strategies are usable");
        for (int bad : new int[] {0, Ucb1.MAX_ARMS + 1}) {
            assertMessageNames("arms", assertThrows(IllegalArgumentException.class, () -> new Ucb1(bad)));
            assertMessageNames("strategies", assertThrows(IllegalArgumentException.class, () -> new Elo(bad)));
        }
    }

    /** A reward is in [0, 1], both ends included, and a mean of exactly 0 or 1 is one {@link Ucb1#check} accepts. */
    @Test
    void ucb1TakesRewardsOfExactlyZeroAndOne() {
        Ucb1 u = new Ucb1(2);
        u.update(0, 1);
        u.update(1, 0);
        assertEquals(1, u.mean(0));
        assertEquals(0, u.mean(1));
        assertEquals(2, u.total());
        assertNull(u.check());
        assertMessageNames("reward", assertThrows(IllegalArgumentException.class, () -> u.update(0, -0.001)));
    }

    /**
     * {@link Elo#select} picks the first strategy whose cumulative probability exceeds the draw u, u in [0, 1) with 0
     * included: with equal ratings strategy 0 of 2 holds [0, 1/2) exactly, so u = 1/2 is strategy 1's.
     */
    @ParameterizedTest(name = "{0} equal strategies, u = {1}: strategy {2}")
    @MethodSource("drawsAtTheCumulativeBoundaries")
    void eloSelectsTheFirstStrategyWhoseCumulativeProbabilityExceedsTheDraw(int strategies, double u, int expected) {
        Elo e = new Elo(strategies);
        assertEquals(expected, e.select((1L << strategies) - 1, Elo.TEMPERATURE, u));
    }

    static Stream<Arguments> drawsAtTheCumulativeBoundaries() {
        return Stream.of(
                arguments(2, 0.0, 0),
                arguments(2, Math.nextDown(0.5), 0),
                arguments(2, 0.5, 1));
    }

    /**
     * The largest draw below 1 picks the last allowed strategy, whose cumulative probability is 1: also where the
     * rounding of the weights leaves the draw not quite used up after the last (ratings 1484, 1500, 1500, 1516).
     */
    @Test
    void eloGivesTheLargestDrawToTheLastAllowedStrategy() {
        Elo e = new Elo(4);
        assertEquals(3, e.select(0b1111, Elo.TEMPERATURE, Math.nextDown(1.0)), "equal ratings");
        e.record(3, 0, 1);
        assertEquals(3, e.select(0b1111, Elo.TEMPERATURE, Math.nextDown(1.0)));
        assertEquals(2, e.select(0b0111, Elo.TEMPERATURE, Math.nextDown(1.0)));
    }

    /**
     * {@link Elo#check} tolerates the rounding of legal games ("an ulp or so per game"): among 64 strategies the
     * ratings' sum, 96 000, is held to about 1.5e-11 only, yet no game of a round robin trips the check.
     */
    @Test
    void eloCheckAcceptsTheRoundingDriftOfEveryLegalGame() {
        Elo e = new Elo(Ucb1.MAX_ARMS);
        for (int a = 0; a < Ucb1.MAX_ARMS; a++) {
            for (int b = a + 1; b < Ucb1.MAX_ARMS; b++) {
                e.record(a, b, (a * 7 + b * 3) % 3 / 2.0);
                assertNull(e.check(), "after " + e.games() + " games");
            }
        }
        assertEquals(Ucb1.MAX_ARMS * (Ucb1.MAX_ARMS - 1) / 2, e.games());
    }

    private static void assertMessageNames(String field, IllegalArgumentException e) {
        assertTrue(e.getMessage().contains(field), e.getMessage());
    }
}
