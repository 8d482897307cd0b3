package dev.hakmem;

import java.nio.file.Path;

/**
 * Guard mode's settings (see docs/GUARD_MODE.md). Off by default; {@link #on()} gives the defaults below.
 *
 * @param enabled          guard mode on
 * @param throwOnViolation throw on a detected heap error (the default); false: report it, count it, quarantine the
 *                         block for good and go on
 * @param quarantineBytes  freed blocks held poisoned before reuse, in bytes (default 16 MiB)
 * @param siteDepth        stack frames kept per allocation site (default 8; 0: no sites)
 * @param siteSampling     record the site of one allocation in this many (default 1: every one)
 * @param traceRingSize    events kept per thread in the trace ring (default 256)
 * @param traceFile        where the trace is written on a violation, or null
 * @param leakReportAtExit print a leak report of the global heap when the JVM exits
 */
public record GuardOptions(boolean enabled, boolean throwOnViolation, long quarantineBytes, int siteDepth,
                           int siteSampling, int traceRingSize, Path traceFile, boolean leakReportAtExit) {

    public GuardOptions {
        if (quarantineBytes < 0 || siteDepth < 0 || siteDepth > 64 || siteSampling < 1 || traceRingSize < 1) {
            throw new IllegalArgumentException("guard options out of range: " + quarantineBytes + ", " + siteDepth
                    + ", " + siteSampling + ", " + traceRingSize);
        }
    }

    public static GuardOptions off() {
        return new GuardOptions(false, true, 16L << 20, 8, 1, 256, null, false);
    }

    public static GuardOptions on() {
        return off().withEnabled(true);
    }

    public GuardOptions withEnabled(boolean on) {
        return new GuardOptions(on, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit);
    }

    public GuardOptions withThrowOnViolation(boolean t) {
        return new GuardOptions(enabled, t, quarantineBytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit);
    }

    public GuardOptions withQuarantineBytes(long bytes) {
        return new GuardOptions(enabled, throwOnViolation, bytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit);
    }

    public GuardOptions withSites(int depth, int sampling) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, depth, sampling, traceRingSize,
                traceFile, leakReportAtExit);
    }

    public GuardOptions withTraceRingSize(int size) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, size, traceFile,
                leakReportAtExit);
    }

    public GuardOptions withTraceFile(Path file) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                file, leakReportAtExit);
    }

    public GuardOptions withLeakReportAtExit(boolean report) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, report);
    }
}
