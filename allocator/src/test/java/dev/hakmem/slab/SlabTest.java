package dev.hakmem.slab;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Slab metadata never touches block memory, so a SuperSlab at a fake, unregistered base is enough. */
class SlabTest {
    private static final long FAKE_BASE = 64L << 21;

    private static Slab slab(int blockSize) {
        SuperSlab ss = new SuperSlab(0, FAKE_BASE, SizeClasses.SMALL_SHIFT, true, false);
        return ss.carve(0, blockSize);
    }

    @Test
    void carvesEveryBlockOnceThenRunsDry() {
        Slab s = slab(48);
        Set<Integer> seen = new HashSet<>();
        for (int b; (b = s.carve()) >= 0; ) {
            assertTrue(seen.add(b));
            assertEquals(b, s.indexOf(s.address(b)));
        }
        assertEquals(65536 / 48, seen.size());
        assertEquals(s.capacity, s.used());
        assertFalse(s.hasFree());
        assertNull(s.checkInvariants());
    }

    @Test
    void indexOfRefusesInteriorAndTailAddresses() {
        Slab s = slab(48);
        assertEquals(-1, s.indexOf(s.base + 1));
        assertEquals(-1, s.indexOf(s.base + 47));
        assertEquals(1, s.indexOf(s.base + 48));
        assertEquals(-1, s.indexOf(s.base + 48L * s.capacity), "the unused tail");
    }

    @Test
    void localFreeIsLifoAndDetectsDoubleFree() {
        Slab s = slab(64);
        int a = s.carve();
        int b = s.carve();
        assertEquals(Slab.FREED, s.freeLocal(a));
        assertEquals(Slab.NOT_ALLOCATED, s.freeLocal(a));
        assertEquals(Slab.FREED, s.freeLocal(b));
        assertEquals(b, s.popFree());
        assertEquals(a, s.popFree());
        assertEquals(-1, s.popFree());
        assertNull(s.checkInvariants());
    }

    @Test
    void remoteFreesWaitOnTheStackUntilDrained() {
        Slab s = slab(64);
        int a = s.carve();
        int b = s.carve();
        assertEquals(Slab.FREED, s.freeRemote(a));
        assertEquals(Slab.ALREADY_CLAIMED, s.freeRemote(a));
        assertEquals(Slab.ALREADY_CLAIMED, s.freeLocal(a), "the owner sees the remote free too");
        assertEquals(Slab.FREED, s.freeRemote(b));
        assertTrue(s.hasRemote());
        assertEquals(2, s.pendingCount());
        assertEquals(0, s.liveCount());
        assertNull(s.checkInvariants());
        assertEquals(2, s.drain());
        assertFalse(s.hasRemote());
        assertEquals(0, s.used());
        assertEquals(Slab.NOT_ALLOCATED, s.freeRemote(a), "a drained block is free");
        assertNull(s.checkInvariants());
    }

    @Test
    void aRemoteFreeOfABlockNeverHandedOutIsRefused() {
        Slab s = slab(64);
        s.carve();
        assertEquals(Slab.NOT_ALLOCATED, s.freeRemote(5));
        assertFalse(s.hasRemote());
        assertNull(s.checkInvariants());
    }

    @Test
    void aRacingLocalAndRemoteDoubleFreeNeverHandsABlockOutTwice() {
        Slab s = slab(64);
        int a = s.carve();
        int other = s.carve();
        // The interleaving of a racing double free: the remote claim lands after the owner checked it.
        assertEquals(Slab.FREED, s.freeLocal(a));
        SlabRace.pushAsIfClaimedEarlier(s, a);
        assertEquals(1, s.drain() + 1, "nothing reclaimed: the block was free");
        assertEquals(1, s.lateDoubleFrees());
        assertNull(s.checkInvariants());
        Set<Integer> handedOut = new HashSet<>();
        handedOut.add(other);
        for (int b; (b = s.popFree()) >= 0 || (b = s.carve()) >= 0; ) {
            assertTrue(handedOut.add(b), "block " + b + " handed out twice");
        }
        assertEquals(s.capacity, handedOut.size());
    }
}
