package dev.hakmem.bench.runner;

import dev.hakmem.LearningWindow;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Reads a learning heap's windows as they close, for {@code hakmem learn}: each read returns the windows closed since
 * the last one, each labelled with the phases that ran during it ({@link PhaseLog#during}).
 *
 * <p>A window runs from the end of the one before it (the first from the reader's start) to its close, which the
 * reader estimates: the newest window of a read closed by the read, each older one a window length before the next,
 * but none before the window before it ended. So a window that the maintenance thread closed late (on a busy machine)
 * spans everything it covered, phases included.
 */
final class WindowReader {
    private final Supplier<List<LearningWindow>> history;
    private final PhaseLog log;
    private final long windowNanos;
    private long lastIndex = -1;
    private long lastEnd;
    private long lost;

    /** {@code history} is the heap's {@code learningHistory()}; the first window began at {@code start}. */
    WindowReader(Supplier<List<LearningWindow>> history, PhaseLog log, long windowNanos, long start) {
        this.history = history;
        this.log = log;
        this.windowNanos = windowNanos;
        this.lastEnd = start;
    }

    /** The windows closed since the last read, in order, labelled; {@code now} is the read's time. */
    List<LearnedWindow> read(long now) {
        List<LearningWindow> fresh = history.get().stream().filter(w -> w.index() > lastIndex).toList();
        List<LearnedWindow> read = new ArrayList<>(fresh.size());
        if (fresh.isEmpty()) {
            return read;
        }
        lost += fresh.getFirst().index() - (lastIndex + 1);
        long newest = fresh.getLast().index();
        for (LearningWindow w : fresh) {
            long end = now - (newest - w.index()) * windowNanos;
            if (end - lastEnd < 0) {
                end = lastEnd;
            }
            read.add(new LearnedWindow(w, log.during(lastEnd, end)));
            lastEnd = end;
        }
        lastIndex = newest;
        return read;
    }

    /** Windows that left the heap's history (256 windows) before a read saw them. */
    long lost() {
        return lost;
    }
}
