package dev.hakmem;

import java.nio.file.Path;

/**
 * Guard mode's settings (see docs/GUARD_MODE.md). Three levels: off (the default), sampled ({@link #sampled}: one
 * allocation in {@code sampleRate} is guarded, the production setting) and full ({@link #on()}: every block guarded,
 * for a staging run). Full takes precedence when both are set.
 *
 * @param enabled          full guard mode on
 * @param throwOnViolation throw on a detected heap error (the default); false: report it, count it, quarantine the
 *                         block for good and go on
 * @param quarantineBytes  full mode: freed blocks held poisoned before reuse, in bytes (default 16 MiB)
 * @param siteDepth        full mode: stack frames kept per allocation site (default 8; 0: no sites)
 * @param siteSampling     full mode: record the site of one allocation in this many (default 1: every one)
 * @param traceRingSize    full mode: events kept per thread in the trace ring (default 256)
 * @param traceFile        where the trace (full mode) or the sampled blocks' report is written on a violation, or null
 * @param leakReportAtExit print a leak report of the global heap when the JVM exits
 * @param sampleRate       sampled mode: guard one allocation in this many on average; 0: sampled mode off
 * @param scanMillis       sampled mode: period of the background scan of the sampled slots (0: no scan)
 */
public record GuardOptions(boolean enabled, boolean throwOnViolation, long quarantineBytes, int siteDepth,
                           int siteSampling, int traceRingSize, Path traceFile, boolean leakReportAtExit,
                           int sampleRate, long scanMillis) {

    /**
     * Sampled mode's default rate. A sampled allocation costs two stack captures (at malloc and free), filling and
     * checking one slot, and a lock: about 4 to 6 us here against 15 ns for a plain malloc+free, so 1 in 16384 keeps
     * the average near 0.3 ns a call, within the 5% budget on the hottest loops (docs/GUARD_MODE.md, "Why 1 in
     * 16384").
     */
    public static final int DEFAULT_SAMPLE_RATE = 16384;
    /** The largest rate: the countdown is drawn in [1, 2N] as an int. */
    public static final int MAX_SAMPLE_RATE = 1 << 30;
    /** Sampled mode's default scan period: a whole scan of the sampled slots reads 512 KiB at most. */
    public static final long DEFAULT_SCAN_MILLIS = 500;

    public GuardOptions {
        if (quarantineBytes < 0 || siteDepth < 0 || siteDepth > 64 || siteSampling < 1 || traceRingSize < 1
                || sampleRate < 0 || sampleRate > MAX_SAMPLE_RATE || scanMillis < 0) {
            throw new IllegalArgumentException("guard options out of range: " + quarantineBytes + ", " + siteDepth
                    + ", " + siteSampling + ", " + traceRingSize + ", " + sampleRate + ", " + scanMillis);
        }
    }

    /** The settings of full mode only, sampled mode off (the record's form before sampled mode existed). */
    public GuardOptions(boolean enabled, boolean throwOnViolation, long quarantineBytes, int siteDepth,
                        int siteSampling, int traceRingSize, Path traceFile, boolean leakReportAtExit) {
        this(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, 0, DEFAULT_SCAN_MILLIS);
    }

    public static GuardOptions off() {
        return new GuardOptions(false, true, 16L << 20, 8, 1, 256, null, false);
    }

    /** Full guard mode with its defaults. */
    public static GuardOptions on() {
        return off().withEnabled(true);
    }

    /** Sampled guard mode: one allocation in {@code rate} on average is guarded (1: every one, for tests). */
    public static GuardOptions sampled(int rate) {
        if (rate < 1) {
            throw new IllegalArgumentException("sample rate must be at least 1: " + rate);
        }
        return off().withSampleRate(rate);
    }

    /** Whether sampled mode is the level in force (on, and full mode off). */
    public boolean sampling() {
        return !enabled && sampleRate > 0;
    }

    public GuardOptions withEnabled(boolean on) {
        return new GuardOptions(on, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withThrowOnViolation(boolean t) {
        return new GuardOptions(enabled, t, quarantineBytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withQuarantineBytes(long bytes) {
        return new GuardOptions(enabled, throwOnViolation, bytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withSites(int depth, int sampling) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, depth, sampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withTraceRingSize(int size) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, size, traceFile,
                leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withTraceFile(Path file) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                file, leakReportAtExit, sampleRate, scanMillis);
    }

    public GuardOptions withLeakReportAtExit(boolean report) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, report, sampleRate, scanMillis);
    }

    /** Sampled mode's rate (0: sampled mode off). */
    public GuardOptions withSampleRate(int rate) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, rate, scanMillis);
    }

    /** Sampled mode's background scan period (0: no scan; check() still verifies every sampled slot). */
    public GuardOptions withScanMillis(long millis) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, millis);
    }
}
