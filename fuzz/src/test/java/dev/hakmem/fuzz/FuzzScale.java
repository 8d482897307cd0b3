package dev.hakmem.fuzz;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Multiplies every property's tries by the system property {@code fuzz.scale} (default 1), so the default build stays
 * quick and a nightly run can ask for {@code -Dfuzz.scale=100} (the {@code nightly} profile does, with chains four
 * times longer). {@code -Dfuzz.seed=N} runs every property from seed N: the nightly job draws one, records it in its
 * summary, and replays a failure with it; without it jqwik draws a fresh seed per property and reports it.
 */
public final class FuzzScale implements AroundPropertyHook {

    static final int SCALE = Math.max(1, Integer.getInteger("fuzz.scale", 1));
    /** Multiplies the longest operation chains (system property {@code fuzz.chainScale}, default 1). */
    static final int CHAIN_SCALE = Math.max(1, Integer.getInteger("fuzz.chainScale", 1));
    /** Empty when not given (the surefire configuration passes the property through even when unset). */
    private static final String SEED = System.getProperty("fuzz.seed", "").strip();

    /** Registered on a container class, it must reach the properties inside. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        context.attributes().tries().ifPresent(tries -> context.attributes().setTries(tries * SCALE));
        if (!SEED.isEmpty()) {
            context.attributes().setSeed(SEED);
        }
        return property.execute();
    }
}
