package dev.hakmem.concurrency;

/**
 * How deep the Lincheck tests search: every test's iterations are multiplied by the system property
 * {@code lincheck.scale} (default 1), so the default build stays at seconds a test and the nightly job
 * ({@code .ci/nightly}) asks for minutes a test without a copy of each configuration.
 */
public final class LincheckDepth {
    private static final int SCALE = Math.max(1, Integer.getInteger("lincheck.scale", 1));

    private LincheckDepth() {
    }

    /** {@code base} iterations, scaled. */
    public static int iterations(int base) {
        return base * SCALE;
    }
}
