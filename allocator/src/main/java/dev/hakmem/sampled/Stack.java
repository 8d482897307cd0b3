package dev.hakmem.sampled;

/**
 * A call stack captured for a report, as cheaply as the JDK allows: constructing it fills in the throwable's
 * backtrace, which the VM keeps in its compact internal form (method and bytecode index per frame); the
 * {@link StackTraceElement}s, with their class, method and file names, are built only when {@link #frames} prints
 * them, that is when a report is made. A rate-1 run of {@code SampledGuardBenchmark} and a comparison with
 * {@link StackWalker} limited to 8 or 16 frames (slower at every depth tried: StackWalker materialises a frame object
 * per frame) chose it; docs/GUARD_MODE.md has the figures. Full guard mode may record its sites with it too.
 */
public final class Stack extends Throwable {
    /** Captures the caller's stack: no message, no cause, not suppressible, the backtrace filled in. */
    public Stack() {
        super(null, null, false, true);
    }

    /**
     * The frames outside the allocator ({@link SampledGuard#isAllocatorFrame}), innermost first, at most
     * {@code depth}, each preceded by {@code separator}.
     */
    public String frames(String separator, int depth) {
        StringBuilder sb = new StringBuilder();
        int n = 0;
        for (StackTraceElement f : getStackTrace()) {
            if (n < depth && !SampledGuard.isAllocatorFrame(f.getClassName())) {
                sb.append(separator).append(f);
                n++;
            }
        }
        return sb.toString();
    }
}
