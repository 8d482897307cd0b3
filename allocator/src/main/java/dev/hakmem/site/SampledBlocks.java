package dev.hakmem.site;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The profiler's sampled blocks by address: a table of {@code long} keys striped over {@value #STRIPES} locks, each
 * stripe an open-addressing table with linear probing and backward-shift deletion (Knuth, TAOCP vol. 3, 6.4,
 * Algorithm R), so that a removal leaves no tombstone behind.
 * <pre>
 *   h = address * golden          stripe = top 4 bits of h,  home slot = bits 32.. of h, masked
 *   stripe:  keys   [ 0 | a | b | 0 | c | ... ]     0: empty (no block starts at address 0)
 *            blocks [ - | A | B | - | C | ... ]
 *   remove(a): the run after a's slot shifts back over the hole, each key that may move (its home is not in
 *   the hole's run after the hole), until an empty slot ends the run
 * </pre>
 * Why not a {@code ConcurrentHashMap<Long, SampledBlock>}: its put boxes the key and allocates a node, and a put and
 * a remove took about 100 ns of a sampled malloc's and free's 240 ns on {@code mir}'s 256 KiB blocks, of which one in
 * three is sampled at the default period (issue 11). Here a put and a remove take an uncontended monitor and touch
 * two arrays.
 *
 * <h2>Threads</h2>
 * Each stripe's arrays and count are guarded by the stripe's monitor; nothing else is shared. The walks
 * ({@link #forEach}, {@link #addresses}) take each stripe's lock in turn, so they are exact only when quiescent.
 */
final class SampledBlocks {
    private static final int STRIPES = 16;
    private static final long GOLDEN = 0x9E37_79B9_7F4A_7C15L;
    private static final int FIRST_LENGTH = 16;

    private final Stripe[] stripes = new Stripe[STRIPES];

    private static final class Stripe {
        // Guarded by this. Always: keys.length is a power of two; 0 <= size < keys.length / 2 (grown at half full, so
        // a probe ends at an empty slot); size == the non-zero keys; blocks[i] != null exactly where keys[i] != 0;
        // every key is reached from its home slot without crossing an empty slot, and appears once (check()).
        long[] keys = new long[FIRST_LENGTH];
        SampledBlock[] blocks = new SampledBlock[FIRST_LENGTH];
        int size;
    }

    SampledBlocks() {
        Arrays.setAll(stripes, i -> new Stripe());
    }

    private static long hash(long address) {
        return address * GOLDEN;
    }

    private Stripe stripeOf(long address) {
        return stripes[(int) (hash(address) >>> 60)];
    }

    private static int home(long address, int mask) {
        return (int) (hash(address) >>> 32) & mask;
    }

    /** Remembers {@code block} at {@code address} (not 0), replacing what was there. */
    void put(long address, SampledBlock block) {
        Stripe s = stripeOf(address);
        synchronized (s) {
            int mask = s.keys.length - 1;
            int i = home(address, mask);
            while (s.keys[i] != 0 && s.keys[i] != address) {
                i = (i + 1) & mask;
            }
            if (s.keys[i] == 0) {
                s.keys[i] = address;
                s.size++;
            }
            s.blocks[i] = block;
            if (2 * s.size >= s.keys.length) {
                grow(s);
            }
        }
    }

    /** Doubles {@code s}'s arrays and re-inserts its keys; the caller holds its lock. */
    private static void grow(Stripe s) {
        long[] keys = s.keys;
        SampledBlock[] blocks = s.blocks;
        s.keys = new long[keys.length * 2];
        s.blocks = new SampledBlock[keys.length * 2];
        int mask = s.keys.length - 1;
        for (int j = 0; j < keys.length; j++) {
            if (keys[j] != 0) {
                int i = home(keys[j], mask);
                while (s.keys[i] != 0) {
                    i = (i + 1) & mask;
                }
                s.keys[i] = keys[j];
                s.blocks[i] = blocks[j];
            }
        }
    }

    /** Forgets the block remembered at {@code address} and returns it, or null if none is. */
    SampledBlock remove(long address) {
        Stripe s = stripeOf(address);
        synchronized (s) {
            int mask = s.keys.length - 1;
            int hole = home(address, mask);
            while (s.keys[hole] != address) {
                if (s.keys[hole] == 0) {
                    return null;
                }
                hole = (hole + 1) & mask;
            }
            SampledBlock removed = s.blocks[hole];
            s.size--;
            // Shift the rest of the run back: the key at j may fill the hole if its home is not after the hole
            // (cyclically, in (hole, j]), that is if it is at least as far from its home as from the hole.
            for (int j = (hole + 1) & mask; s.keys[j] != 0; j = (j + 1) & mask) {
                if (((j - home(s.keys[j], mask)) & mask) >= ((j - hole) & mask)) {
                    s.keys[hole] = s.keys[j];
                    s.blocks[hole] = s.blocks[j];
                    hole = j;
                }
            }
            s.keys[hole] = 0;
            s.blocks[hole] = null;
            return removed;
        }
    }

    /** The blocks remembered (racy; exact when quiescent). */
    int size() {
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                n += s.size;
            }
        }
        return n;
    }

    /** Each remembered block, stripe by stripe under its lock: {@code action} must not come back here. */
    void forEach(Consumer<SampledBlock> action) {
        for (Stripe s : stripes) {
            synchronized (s) {
                for (SampledBlock b : s.blocks) {
                    if (b != null) {
                        action.accept(b);
                    }
                }
            }
        }
    }

    /** The addresses remembered, copied (racy; exact when quiescent). */
    long[] addresses() {
        long[] out = new long[0];
        int n = 0;
        for (Stripe s : stripes) {
            synchronized (s) {
                out = Arrays.copyOf(out, n + s.size);
                for (long k : s.keys) {
                    if (k != 0) {
                        out[n++] = k;
                    }
                }
            }
        }
        return out;
    }

    /** For {@code check()}: each stripe's invariant (beside {@link Stripe}'s fields). Returns null or the problem. */
    String check() {
        for (int t = 0; t < STRIPES; t++) {
            Stripe s = stripes[t];
            synchronized (s) {
                int mask = s.keys.length - 1;
                int keys = 0;
                for (int i = 0; i < s.keys.length; i++) {
                    long k = s.keys[i];
                    if ((k != 0) != (s.blocks[i] != null)) {
                        return "sampled-block stripe " + t + ", slot " + i + ": key 0x" + Long.toHexString(k)
                                + " with block " + s.blocks[i];
                    }
                    if (k == 0) {
                        continue;
                    }
                    keys++;
                    if (stripeOf(k) != s) {
                        return "sampled block 0x" + Long.toHexString(k) + " is filed in stripe " + t
                                + ", not its own";
                    }
                    for (int j = home(k, mask); j != i; j = (j + 1) & mask) {
                        if (s.keys[j] == 0 || s.keys[j] == k) {
                            return "sampled block 0x" + Long.toHexString(k) + " in slot " + i + " of stripe " + t
                                    + " is not reached from its home slot " + home(k, mask) + " (slot " + j + ")";
                        }
                    }
                }
                if (keys != s.size || 2 * s.size >= s.keys.length) {
                    return "sampled-block stripe " + t + " holds " + keys + " keys in " + s.keys.length
                            + " slots but counts " + s.size;
                }
            }
        }
        return null;
    }
}
