package dev.hakmem.ace;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
