package dev.hakmem;

/**
 * One window of a learning heap (see {@link HakMem#learningHistory()}): what ran, what it cost, where the lifecycle
 * was.
 *
 * @param index   the window's number, from 0
 * @param state   the learner's state during the window
 * @param policy  the policy in force during the window
 * @param trial   what the window tried against the best policy so far, as "knob: from -> to", or "" when it ran the
 *                best policy itself
 * @param cost    the window's cost (lower is better; see docs/ADAPTIVE.md), or NaN when the window had too few
 *                operations to be scored
 * @param ops     mallocs and frees in the window
 */
public record LearningWindow(long index, LearningState state, Policy policy, String trial, double cost, long ops) {
}
