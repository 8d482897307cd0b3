package dev.hakmem.slab;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One slab against a model of what the program holds, over random sequences of the owner's malloc and free, remote
 * frees, drains, refused double frees and the racing double free's interleaving ({@link SlabRace}). After every step
 * the identities that tie the slab to the program hold: the blocks it counts live are exactly those the program
 * holds, none is handed out while held, its count of blocks handed out is exact, and (once every race is repaired)
 * {@link Slab#checkInvariants} passes and {@code used} is the held blocks plus those freed remotely and not drained.
 * A general check: any bookkeeping bug of the slab that a single thread's trace can show fails one of them.
 */
class SlabModelTest {
    private static final long FAKE_BASE = 64L << 21;
    private static final int STEPS = 20_000;

    /** The model: blocks the program holds, blocks freed remotely and not drained, a racing double free unrepaired. */
    private static final class Model {
        final List<Integer> held = new ArrayList<>();
        final Set<Integer> pending = new HashSet<>();
        long handedOut;
        boolean raceOutstanding;
    }

    @Test
    void everyStepKeepsTheSlabEqualToWhatTheProgramHolds() {
        for (long seed = 1; seed <= 8; seed++) {
            run(seed, seed % 2 == 0 ? 64 : 48);
        }
    }

    private static void run(long seed, int blockSize) {
        Random rnd = new Random(seed);
        Slab s = new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, true, false).carve(0, blockSize);
        Model m = new Model();
        for (int step = 0; step < STEPS; step++) {
            String at = "seed " + seed + ", step " + step;
            int op = rnd.nextInt(100);
            if (op < 40 || m.held.isEmpty()) {
                malloc(s, m, at);
            } else if (op < 70) {
                assertEquals(Slab.FREED, s.freeLocal(m.held.remove(rnd.nextInt(m.held.size()))), at);
            } else if (op < 82) {
                int b = m.held.remove(rnd.nextInt(m.held.size()));
                assertEquals(Slab.FREED, s.freeRemote(b), at);
                m.pending.add(b);
            } else if (op < 88) {
                assertEquals(m.pending.size(), s.drain(), at + ": the drain reclaims every remote free once");
                m.pending.clear();
                m.raceOutstanding = false;
            } else if (op < 96) {
                int b = rnd.nextInt(s.capacity);
                if (!m.held.contains(b)) {
                    int outcome = rnd.nextBoolean() ? s.freeLocal(b) : s.freeRemote(b);
                    assertNotEquals(Slab.FREED, outcome, at + ": a free of block " + b + ", which nobody holds");
                }
            } else if (!m.raceOutstanding) {
                // The owner's free and another thread's free of one block, the claim landing after the owner's check.
                int b = m.held.remove(rnd.nextInt(m.held.size()));
                assertEquals(Slab.FREED, s.freeLocal(b), at);
                SlabRace.pushAsIfClaimedEarlier(s, b);
                m.raceOutstanding = true;
            }
            check(s, m, at);
        }
    }

    /** The heap's way: pop, else drain the remote frees and pop, else carve. A slab with nothing left is skipped. */
    private static void malloc(Slab s, Model m, String at) {
        int b = s.popFree();
        if (b < 0 && s.hasRemote()) {
            assertEquals(m.pending.size(), s.drain(), at);
            m.pending.clear();
            m.raceOutstanding = false;
            b = s.popFree();
        }
        if (b < 0) {
            b = s.carve();
        }
        if (b >= 0) {
            assertTrue(!m.held.contains(b) && !m.pending.contains(b), at + ": block " + b + " handed out twice");
            m.held.add(b);
            m.handedOut++;
        }
    }

    private static void check(Slab s, Model m, String at) {
        assertEquals(m.held.size(), s.liveCount(), at + ": blocks live in the slab against blocks the program holds");
        for (int b : m.held) {
            assertTrue(s.isLive(b), at + ": block " + b + " is held but not live");
        }
        assertEquals(m.handedOut, s.allocations(), at + ": blocks handed out");
        if (!m.raceOutstanding) {
            assertNull(s.checkInvariants(), at);
            assertEquals(m.held.size() + m.pending.size(), s.used(), at + ": used");
        }
    }
}
