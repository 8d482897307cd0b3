package dev.hakmem.stress;

import dev.hakmem.HakMem;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link StressWorkload} runs.
 *
 * @param threads  worker slots running at once; each slot's thread is replaced from time to time
 * @param duration how long the workers run before the final check
 * @param seed     seeds every worker's random stream, so a failing run's choices can be replayed
 * @param heap     the heap under test; the workload does not close it
 */
public record StressOptions(int threads, Duration duration, long seed, HakMem heap) {

    public StressOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive: " + duration);
        }
        Objects.requireNonNull(heap, "heap");
    }
}
