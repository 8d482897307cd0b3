package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.verify.FaultInjectingPageSource;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link StressWorkload} runs.
 *
 * @param threads      worker slots running at once; each slot's thread is replaced from time to time
 * @param duration     how long the workers run before the final check
 * @param seed         seeds every worker's random stream, so a failing run's choices can be replayed
 * @param heap         the heap under test; the workload does not close it
 * @param faults       the heap's page source when it injects faults, else null. Out-of-memory errors are then
 *                     expected and counted; the workload turns the faults off once the workers have ended
 * @param plantErrors  commit heap errors on purpose and check that guard mode detects each exactly once; needs a
 *                     heap in guard mode that throws on violations
 */
public record StressOptions(int threads, Duration duration, long seed, HakMem heap,
                            FaultInjectingPageSource faults, boolean plantErrors) {

    public StressOptions {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1: " + threads);
        }
        Objects.requireNonNull(duration, "duration");
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive: " + duration);
        }
        Objects.requireNonNull(heap, "heap");
        if (faults != null && heap.config().pageSource() != faults) {
            throw new IllegalArgumentException("faults must be the heap's page source");
        }
    }

    /** A run with no fault injection and no planted errors. */
    public StressOptions(int threads, Duration duration, long seed, HakMem heap) {
        this(threads, duration, seed, heap, null, false);
    }
}
