package dev.hakmem;

/**
 * Where a heap's learner is in its lifecycle (docs/ADAPTIVE.md). Heaps that do not learn stay {@link #FROZEN}.
 *
 * <pre>
 *            converged                     shift detected
 *   LEARN -------------&gt; FROZEN ---&gt; CANARY -----------------&gt; LEARN
 *                          ^  canary period |
 *                          +----------------+ no shift
 * </pre>
 */
public enum LearningState {
    /** Exploring: each window runs one candidate policy and its cost is measured. */
    LEARN,
    /** Running the best policy found, at no learning cost. */
    FROZEN,
    /** Mostly frozen: a small share of windows tries the runner-up while the size distribution and p99 are watched. */
    CANARY
}
