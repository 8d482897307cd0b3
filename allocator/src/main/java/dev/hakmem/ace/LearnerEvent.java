package dev.hakmem.ace;

import dev.hakmem.LearningState;
import dev.hakmem.Policy;

import java.util.Objects;

/**
 * Something the learner decided at the end of a window: a new incumbent, or a move in its lifecycle.
 *
 * @param window the index of the window whose end it was decided at; it applies from the next window
 * @param kind   {@link Kind#CHANGE} or {@link Kind#TRANSITION}
 * @param from   the state before (for a CHANGE, the state it was made in)
 * @param to     the state after (for a CHANGE, equal to {@code from})
 * @param best   the incumbent after the event
 * @param reason why, for people: the step and the evidence, or the measurement that moved the lifecycle
 */
public record LearnerEvent(long window, Kind kind, LearningState from, LearningState to, Policy best, String reason) {
    public enum Kind {
        /** The incumbent was replaced by a candidate one step away that won by the rails. */
        CHANGE,
        /** LEARN -&gt; FROZEN, FROZEN -&gt; CANARY, CANARY -&gt; FROZEN or CANARY -&gt; LEARN. */
        TRANSITION
    }

    public LearnerEvent {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(best, "best");
        Objects.requireNonNull(reason, "reason");
        if ((kind == Kind.CHANGE) != (from == to)) {
            throw new IllegalArgumentException("LearnerEvent: a CHANGE keeps the state, a TRANSITION moves it: "
                    + kind + " " + from + " -> " + to);
        }
    }
}
