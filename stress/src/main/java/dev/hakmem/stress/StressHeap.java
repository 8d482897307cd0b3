package dev.hakmem.stress;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.PageSource;
import dev.hakmem.verify.FaultInjectingPageSource;
import dev.hakmem.verify.FaultInjectingPageSource.Op;

import java.time.Duration;
import java.util.Locale;

/**
 * A heap for a stress run: optionally in guard mode, optionally on a page source that injects faults.
 *
 * @param heap   the heap
 * @param faults its page source when faults are injected, else null
 */
public record StressHeap(HakMem heap, FaultInjectingPageSource faults) implements AutoCloseable {

    /** The share of page-source calls failed under fault injection: often enough to be met many times a second. */
    public static final double FAULT_FRACTION = 0.02;

    /**
     * @param guard  guard mode, with its default settings
     * @param faults fail {@link #FAULT_FRACTION} of every page-source operation, chosen by a random stream of
     *               {@code seed}
     */
    public static StressHeap create(boolean guard, boolean faults, long seed) {
        HakMemConfig.Builder config = HakMemConfig.builder().guard(guard ? GuardOptions.on() : GuardOptions.off());
        FaultInjectingPageSource source = null;
        if (faults) {
            FaultInjectingPageSource.Builder b = FaultInjectingPageSource.builder(PageSource.system()).seed(seed);
            for (Op op : Op.values()) {
                b.failFraction(op, FAULT_FRACTION);
            }
            source = b.build();
            config.pageSource(source);
        }
        return new StressHeap(HakMem.create(config.build()), source);
    }

    /** The options of a run on this heap; heap errors are planted when it is in guard mode. */
    public StressOptions options(int threads, Duration duration, long seed) {
        return new StressOptions(threads, duration, seed, heap, faults, heap.config().guard().enabled());
    }

    /** Bytes still reserved through the fault-injecting page source (0 after a clean close); 0 without one. */
    public long unreleasedBytes() {
        return faults == null ? 0 : faults.reservedBytes();
    }

    /** Turns faults off (a refused release would fail the close), then closes the heap. */
    @Override
    public void close() {
        if (faults != null) {
            faults.setEnabled(false);
        }
        heap.close();
    }

    /** One line saying how the heap is set up. */
    public String describe() {
        String guard = heap.config().guard().enabled() ? "guard mode (planting heap errors)" : "no guard mode";
        String f = faults == null ? "no fault injection"
                : String.format(Locale.ROOT, "%.0f%% of reserve/commit/decommit/release failing",
                FAULT_FRACTION * 100);
        return guard + ", " + f;
    }
}
