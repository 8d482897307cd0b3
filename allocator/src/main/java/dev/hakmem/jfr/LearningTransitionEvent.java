package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A learning heap moved between LEARN, FROZEN and CANARY. */
@Name("dev.hakmem.LearningTransition")
@Label("Learning Transition")
@Category("hakmem")
@Description("A hakmem heap's learner changed state; the policy is the one in force after the change")
@StackTrace(false)
public final class LearningTransitionEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("From")
    String from;
    @Label("To")
    String to;
    @Label("Policy")
    String policy;
}
