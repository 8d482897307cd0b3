package dev.hakmem.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** Replays the one interleaving of a racing double free that a single thread cannot produce through the API. */
final class SlabRace {
    private SlabRace() {
    }

    /**
     * Pushes block {@code b} onto the remote stack with its claim set, as a remote freer does after reading the
     * allocated bit as 1 just before the owner's local free cleared it.
     */
    static void pushAsIfClaimedEarlier(Slab s, int b) {
        try {
            var lookup = MethodHandles.privateLookupIn(Slab.class, MethodHandles.lookup());
            long[] bits = (long[]) lookup.findVarHandle(Slab.class, "bits", long[].class).get(s);
            char[] next = (char[]) lookup.findVarHandle(Slab.class, "remoteNext", char[].class).get(s);
            VarHandle head = lookup.findVarHandle(Slab.class, "remoteHead", int.class);
            bits[2 * (b >>> 6) + 1] |= 1L << b;
            next[b] = (char) (int) head.get(s);
            head.set(s, b);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
