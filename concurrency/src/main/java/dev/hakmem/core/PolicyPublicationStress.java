package dev.hakmem.core;

import dev.hakmem.HakMemConfig;
import dev.hakmem.Policy;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The publication of a policy (Allocator.publish) against an allocation reading it: the learner compiles a policy
 * (its class table, 16 Ki entries) and publishes it with one volatile store; a reader on another thread must see
 * either the previous policy or the new one, whole: its table valid ({@code ActivePolicy.check}), its threshold the
 * policy's. A table published before it was filled, or a plain store, would let a reader route requests through a
 * half-built table.
 *
 * <p>One allocator for the whole run (a heap per state would register thousands of heaps with the maintenance
 * thread): each state's writer publishes the policy the state names, so consecutive states alternate between two
 * policies that route differently, and a reader may see either, or one from an earlier state, but always whole.
 */
public final class PolicyPublicationStress {
    private static final Allocator ALLOCATOR = new Allocator(HakMemConfig.defaults(), "stress");
    private static final Policy[] POLICIES = {
        Policy.builder().wMax(1.25).bigThreshold(Policy.MAX_BIG_THRESHOLD).build(),
        Policy.builder().wMax(2.0).bigThreshold(Policy.MIN_BIG_THRESHOLD).bridgeClasses(40960, 3 << 14).build(),
    };
    private static int states;

    private PolicyPublicationStress() {
    }

    @JCStressTest
    @Description("The learner publishes a newly compiled policy while an allocation reads the policy in force.")
    @Outcome(id = {"1, 1", "1, 2"}, expect = ACCEPTABLE, desc = "the reader saw one of the two policies, whole")
    @Outcome(expect = FORBIDDEN, desc = "the reader saw a half-built or foreign policy")
    @State
    public static class PublishWhileReading {
        private final Policy next;

        public PublishWhileReading() {
            synchronized (PolicyPublicationStress.class) {
                next = POLICIES[states++ & 1];
            }
        }

        @Actor
        public void learner() {
            ALLOCATOR.publish(next);
        }

        @Actor
        public void allocation(II_Result r) {
            ActivePolicy p = ALLOCATOR.active();
            r.r1 = p.check() == null && p.bigThreshold == p.policy.bigThreshold() ? 1 : 0;
            r.r2 = p.policy.equals(POLICIES[0]) ? 1 : p.policy.equals(POLICIES[1]) ? 2 : 0;
        }
    }
}
