package dev.hakmem.profiled;

import java.util.function.BooleanSupplier;

/**
 * A stand-in for an allocator package in {@code ExecutionProfileTest}: a class under {@code dev.hakmem} but not under
 * {@code dev.hakmem.bench}, so that the profile counts it as the allocator's. {@link #run} spends most of its time in
 * {@link #hot}, which recurses so that a stack holds it several times, and a little in {@link #warm};
 * {@link #decoy} runs {@link #hot} alone, on a thread the profile must leave out.
 */
public final class BusyLoop {
    private static final int HOT_ROUNDS = 90_000;
    private static final int WARM_ROUNDS = HOT_ROUNDS / 3;
    /** Keeps the JIT from dropping the loops. */
    public static volatile long sink;

    private BusyLoop() {
    }

    public static void run(BooleanSupplier more) {
        while (more.getAsBoolean()) {
            sink += hot(3, sink) + warm(sink);
        }
    }

    public static void decoy(BooleanSupplier more) {
        while (more.getAsBoolean()) {
            sink += hot(0, sink);
        }
    }

    static long hot(int depth, long seed) {
        if (depth > 0) {
            return hot(depth - 1, seed + 1);
        }
        long x = seed | 1;
        for (int i = 0; i < HOT_ROUNDS; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
        }
        return x;
    }

    /** A linear congruential step per round: another loop than {@link #hot}'s (about 2% of the time, measured). */
    static long warm(long seed) {
        long x = seed;
        for (int i = 0; i < WARM_ROUNDS; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
        }
        return x;
    }
}
