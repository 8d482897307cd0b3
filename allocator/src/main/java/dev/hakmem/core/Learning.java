package dev.hakmem.core;

import dev.hakmem.LearningState;
import dev.hakmem.LearningWindow;
import dev.hakmem.Policy;
import dev.hakmem.ace.Learner;
import dev.hakmem.ace.LearnerOptions;
import dev.hakmem.ace.Window;
import dev.hakmem.site.WindowSample;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * A heap's learner at work: the maintenance thread closes a window every {@code windowNanos}, turns what the
 * allocator counted during it into a {@link Window}, asks the {@link Learner} for the next window's policy, and the
 * allocator publishes it if it differs. Everything here runs on the maintenance thread under the allocator's
 * maintenance lock, except {@link #state()} and {@link #history()}, which any thread may call.
 *
 * <pre>
 *   tick ... tick | window closes: counts - counts at its start = Window -> learner.onWindow -> policy -> publish
 *   (20 ms)         (windowNanos, e.g. 1 s)
 * </pre>
 */
final class Learning {
    /**
     * Counts read from the allocator at a window's edge: {@code ops}, {@code pageFaults}, {@code mapCalls} and
     * {@code purgeCalls} cumulative (a window takes the difference of two), the bytes as they are at the edge.
     */
    record Counts(long ops, long pageFaults, long mapCalls, long purgeCalls, long committedBytes, long liveBytes) {
    }

    private final Learner learner;
    private final long windowNanos;
    private final int historyLimit;
    /** The last windows, oldest first, at most historyLimit. Guarded by itself. */
    private final ArrayDeque<LearningWindow> history = new ArrayDeque<>();
    /** Written by the maintenance thread, read by any. */
    private volatile LearningState state;
    private long windowStart;
    private long index;
    private Counts atStart;

    Learning(LearnerOptions options, Policy start, LearningState startState, long seed, long windowNanos,
             int historyLimit, long now, Counts counts) {
        this.learner = new Learner(options, start, startState, seed);
        this.windowNanos = windowNanos;
        this.historyLimit = historyLimit;
        this.state = learner.state();
        this.windowStart = now;
        this.atStart = counts;
    }

    /** The policy the learner keeps: its incumbent, which trial windows are compared with. */
    Policy best() {
        return learner.best();
    }

    /** Whether the window that began at the last edge has lasted its length at {@code now}. */
    boolean windowEnded(long now) {
        return now - windowStart >= windowNanos;
    }

    /**
     * Closes the window: {@code counts} are the allocator's at {@code now}, {@code sample} the profiler's samples of
     * the window, {@code active} the compiled policy that ran during it.
     *
     * <p>The window's live bytes are what the live blocks' requests asked for: the live blocks' bytes times the
     * share of the bytes the window's sampled mallocs asked for under the classes in force
     * ({@link ActivePolicy#requestedShare}). Counted in whole blocks, a coarser W_MAX's rounding would be live, not
     * waste, and the cost would judge W_MAX on time alone: on the lifetime mix the learner kept W_MAX 1.5, whose
     * classes round a request up by 17% on average against 8% at 1.25, for its speed (docs/PERFORMANCE.md, change 9).
     *
     * @return the learner's policy for the next window
     */
    Policy closeWindow(long now, Counts counts, WindowSample sample, ActivePolicy active) {
        Policy inForce = active.policy;
        long[] sizes = sample.sizeHistogram();
        long live = Math.round(Math.min(counts.liveBytes, counts.committedBytes) * active.requestedShare(sizes));
        Window w = new Window(index, Math.max(0, counts.ops - atStart.ops), sample.sampledMallocs(),
                sample.sampledNanos(), counts.pageFaults < 0 || atStart.pageFaults < 0 ? -1
                        : Math.max(0, counts.pageFaults - atStart.pageFaults),
                Math.max(0, counts.mapCalls - atStart.mapCalls), Math.max(0, counts.purgeCalls - atStart.purgeCalls),
                counts.committedBytes, live, sizes);
        LearningState during = state;
        // The learner tunes the knobs; the site rules in force come from the profiles (see withSites).
        String trial = Objects.requireNonNullElse(Learner.step(withSites(learner.best(), inForce.sites().values()),
                inForce), "");
        // A window the learner did not time was sampled untimed (the profiler rests, see timed()): its samples carry
        // no time, so it has no cost. Read before onWindow, which moves timed() on to the next window.
        double cost = learner.cost(w);
        Policy next = learner.onWindow(w);
        record(new LearningWindow(index, during, inForce, trial, cost, w.ops()));
        state = learner.state();
        index++;
        windowStart = now;
        atStart = counts;
        return next;
    }

    /** {@code p} with exactly these site rules. */
    static Policy withSites(Policy p, Collection<Policy.SiteRule> rules) {
        Policy.Builder b = p.toBuilder().clearSites();
        rules.forEach(b::site);
        return b.build();
    }

    private void record(LearningWindow window) {
        synchronized (history) {
            if (history.size() == historyLimit) {
                history.removeFirst();
            }
            history.addLast(window);
        }
    }

    LearningState state() {
        return state;
    }

    /**
     * Whether the learner reads the next window's cost ({@link Learner#timed()}): the heap samples it at its learning
     * period, timed, and rests at its resting period, untimed, otherwise (every FROZEN window and most CANARY ones).
     */
    boolean timed() {
        return learner.timed();
    }

    /** The last windows, oldest first. */
    List<LearningWindow> history() {
        synchronized (history) {
            return List.copyOf(new ArrayList<>(history));
        }
    }
}
