package dev.hakmem.bench.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * When each phase of a phase-shift run began, as the workload tells ({@code Workloads.phaseShift(millis, onPhase)}):
 * the learn command labels each learning window with the phases that ran during it.
 */
final class PhaseLog {
    /** A phase began at {@code nanos} ({@link System#nanoTime()}). */
    record Mark(long nanos, String phase) {
    }

    /** Appended by the workload's thread, read by the command's. */
    private final List<Mark> marks = new CopyOnWriteArrayList<>();

    /** The phase named {@code phase} begins at {@code nanos} ({@link System#nanoTime()}), after the last one. */
    void begin(String phase, long nanos) {
        marks.add(new Mark(nanos, phase));
    }

    /** Phases begun so far. */
    int begun() {
        return marks.size();
    }

    /** The last phase begun. @throws java.util.NoSuchElementException before the first */
    Mark last() {
        return marks.getLast();
    }

    /**
     * The phases that ran during {@code [from, to)} in their order, joined by '>' ("json>mir" for a window across a
     * phase change); "-" for a time before the first phase.
     */
    String during(long from, long to) {
        List<Mark> seen = List.copyOf(marks);
        List<String> phases = new ArrayList<>();
        for (int i = 0; i < seen.size(); i++) {
            boolean started = seen.get(i).nanos() - to < 0;
            boolean notEnded = i + 1 == seen.size() || seen.get(i + 1).nanos() - from > 0;
            if (started && notEnded) {
                phases.add(seen.get(i).phase());
            }
        }
        return phases.isEmpty() ? "-" : String.join(">", phases);
    }
}
