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
 * @param quarantineBytes  full mode: freed blocks held poisoned before reuse, in bytes per freeing thread (default
 *                         256 KiB)
 * @param siteDepth        full mode: stack frames kept per allocation site (default 8; 0: no sites)
 * @param siteSampling     full mode: record the site of one allocation in this many (default 1: every one)
 * @param traceRingSize    full mode: events kept per thread in the trace ring (default 256)
 * @param traceFile        full mode: where the trace is written on a violation, or null (sampled mode writes no
 *                         trace: each of its reports carries the block's stacks)
 * @param leakReportAtExit print a leak report of the global heap when the JVM exits
 * @param sampleRate       sampled mode: guard one allocation in this many on average; 0: sampled mode off
 * @param scanMillis       sampled mode: period of the background scan of the sampled slots (0: no scan)
 * @param guardPages       sampled mode: the report file of the optional guard pages, or null (the default: off); see
 *                         {@link #withGuardPages}
 */
public record GuardOptions(boolean enabled, boolean throwOnViolation, long quarantineBytes, int siteDepth,
                           int siteSampling, int traceRingSize, Path traceFile, boolean leakReportAtExit,
                           int sampleRate, long scanMillis, Path guardPages) {

    /**
     * Sampled mode's default rate. A sample in a small slot (most blocks, up to 992 B) costs about 3 us of CPU: two
     * stack captures, the guard's lock, the slot's canaries written and checked. At 1 in 32768 that is about 0.1 ns
     * a malloc, under 1% of the hottest loop's 15 ns a malloc+free. A denser rate was not taken: the bench's worst
     * row, random_mixed_256 at two threads, measured 0.945x plain hakmem's throughput at this rate, already at the
     * edge of the 5% budget, so 1 in 16384 stayed out; and the bug hunt at this rate found both planted bugs in 100
     * of 100 runs. docs/GUARD_MODE.md, "Why 1 in 32768", has the measurements (the bench's row: PERFORMANCE.md,
     * change 21).
     */
    public static final int DEFAULT_SAMPLE_RATE = 32768;
    /** The largest rate: a countdown drawn in [1, 2N] fits the guard's 31 bits of a thread heap's countdown. */
    public static final int MAX_SAMPLE_RATE = 1 << 30;
    /**
     * The largest trace ring: 2^20 events, 32 MiB of Java heap per thread's ring. A ring is allocated at a thread's
     * first guarded malloc, so a size past this would fail a malloc (an array past an int's range, or the Java
     * heap exhausted) rather than the configuration.
     */
    public static final int MAX_TRACE_RING_SIZE = 1 << 20;
    /** The deepest site: stack frames kept per allocation site. */
    public static final int MAX_SITE_DEPTH = 64;
    /**
     * Sampled mode's default scan period: a whole scan reads the live sampled slots (64 KiB at most) and asks the
     * residency of the freed ones once.
     */
    public static final long DEFAULT_SCAN_MILLIS = 500;

    /**
     * Checks the settings.
     *
     * @throws IllegalArgumentException naming the setting, when {@code quarantineBytes} is negative, {@code siteDepth}
     *                                  is not in [0, {@value #MAX_SITE_DEPTH}], {@code siteSampling} is below 1,
     *                                  {@code traceRingSize} is not in [1, {@value #MAX_TRACE_RING_SIZE}],
     *                                  {@code sampleRate} is not in [0, {@value #MAX_SAMPLE_RATE}] or
     *                                  {@code scanMillis} is negative
     */
    public GuardOptions {
        inRange("quarantineBytes", quarantineBytes, 0, Long.MAX_VALUE);
        inRange("siteDepth", siteDepth, 0, MAX_SITE_DEPTH);
        inRange("siteSampling", siteSampling, 1, Integer.MAX_VALUE);
        inRange("traceRingSize", traceRingSize, 1, MAX_TRACE_RING_SIZE);
        inRange("sampleRate", sampleRate, 0, MAX_SAMPLE_RATE);
        inRange("scanMillis", scanMillis, 0, Long.MAX_VALUE);
    }

    private static void inRange(String setting, long value, long min, long max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException("guard options: " + setting + " not in [" + min + ", " + max + "]: "
                    + value);
        }
    }

    /**
     * The settings of full mode only, sampled mode off (the record's form before sampled mode existed), with the
     * default scan period.
     *
     * @param enabled          full guard mode on
     * @param throwOnViolation throw on a detected heap error; false: report it, count it and go on
     * @param quarantineBytes  freed blocks held poisoned before reuse, in bytes, at least 0
     * @param siteDepth        stack frames kept per allocation site, in [0, {@value #MAX_SITE_DEPTH}] (0: no sites)
     * @param siteSampling     record the site of one allocation in this many, at least 1
     * @param traceRingSize    events kept per thread in the trace ring, at least 1
     * @param traceFile        where the trace is written on a violation, or null
     * @param leakReportAtExit print a leak report of the global heap when the JVM exits
     * @throws IllegalArgumentException when a value is out of range
     */
    public GuardOptions(boolean enabled, boolean throwOnViolation, long quarantineBytes, int siteDepth,
                        int siteSampling, int traceRingSize, Path traceFile, boolean leakReportAtExit) {
        this(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, 0, DEFAULT_SCAN_MILLIS, null);
    }

    /**
     * Guard mode off, with the defaults of the other settings (which apply once a level is turned on).
     *
     * @return options with both levels off, throwing on violations, a 256 KiB quarantine per thread, 8 frames per site recorded
     *         for every allocation, 256 trace events per thread, no trace file, no leak report at exit
     */
    public static GuardOptions off() {
        return new GuardOptions(false, true, 256L << 10, 8, 1, 256, null, false);
    }

    /**
     * Full guard mode with its defaults.
     *
     * @return {@link #off()}'s settings with full mode on
     */
    public static GuardOptions on() {
        return off().withEnabled(true);
    }

    /**
     * Sampled guard mode: one allocation in {@code rate} on average is guarded.
     *
     * @param rate in [1, {@value #MAX_SAMPLE_RATE}] (1: every one, for tests); {@value #DEFAULT_SAMPLE_RATE} is the
     *             default of the production setting
     * @return {@link #off()}'s settings with sampled mode on at that rate
     * @throws IllegalArgumentException when {@code rate} is out of range
     */
    public static GuardOptions sampled(int rate) {
        if (rate < 1) {
            throw new IllegalArgumentException("sample rate must be at least 1: " + rate);
        }
        return off().withSampleRate(rate);
    }

    /**
     * Whether sampled mode is the level in force.
     *
     * @return true when sampled mode is on and full mode off
     */
    public boolean sampling() {
        return !enabled && sampleRate > 0;
    }

    /**
     * Turns full guard mode on or off.
     *
     * @param on true for full mode
     * @return a copy of these options with {@code enabled} changed
     */
    public GuardOptions withEnabled(boolean on) {
        return new GuardOptions(on, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Whether a detected heap error throws, or is reported, counted and the block quarantined for good.
     *
     * @param t true to throw (the default), false to report and go on
     * @return a copy of these options with {@code throwOnViolation} changed
     */
    public GuardOptions withThrowOnViolation(boolean t) {
        return new GuardOptions(enabled, t, quarantineBytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Full mode's quarantine of freed blocks, held poisoned before reuse: each freeing thread holds its latest frees
     * up to this many bytes (and at most 4096 blocks).
     *
     * @param bytes the quarantine's size in bytes per thread, at least 0
     * @return a copy of these options with {@code quarantineBytes} changed
     * @throws IllegalArgumentException when {@code bytes} is negative
     */
    public GuardOptions withQuarantineBytes(long bytes) {
        return new GuardOptions(enabled, throwOnViolation, bytes, siteDepth, siteSampling, traceRingSize, traceFile,
                leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Full mode's recording of allocation sites.
     *
     * @param depth    stack frames kept per site, in [0, {@value #MAX_SITE_DEPTH}] (0: no sites)
     * @param sampling record the site of one allocation in this many, at least 1
     * @return a copy of these options with {@code siteDepth} and {@code siteSampling} changed
     * @throws IllegalArgumentException when a value is out of range
     */
    public GuardOptions withSites(int depth, int sampling) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, depth, sampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Full mode's trace ring: the latest heap events kept per thread.
     *
     * @param size the number of events, in [1, {@value #MAX_TRACE_RING_SIZE}]
     * @return a copy of these options with {@code traceRingSize} changed
     * @throws IllegalArgumentException when {@code size} is out of that range
     */
    public GuardOptions withTraceRingSize(int size) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, size, traceFile,
                leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Full mode's trace file: where the trace rings are written on a violation. Sampled mode does not use it (each of
     * its reports carries the block's stacks; its guard pages have their own file, {@link #withGuardPages}).
     *
     * @param file the file, or null for none
     * @return a copy of these options with {@code traceFile} changed
     */
    public GuardOptions withTraceFile(Path file) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                file, leakReportAtExit, sampleRate, scanMillis, guardPages);
    }

    /**
     * Whether the global heap prints a leak report to standard error when the JVM exits.
     *
     * @param report true to print it
     * @return a copy of these options with {@code leakReportAtExit} changed
     */
    public GuardOptions withLeakReportAtExit(boolean report) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, report, sampleRate, scanMillis, guardPages);
    }

    /**
     * Sampled mode's rate: one allocation in {@code rate} on average is guarded.
     *
     * @param rate in [0, {@value #MAX_SAMPLE_RATE}]; 0 turns sampled mode off
     * @return a copy of these options with {@code sampleRate} changed
     * @throws IllegalArgumentException when {@code rate} is out of range
     */
    public GuardOptions withSampleRate(int rate) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, rate, scanMillis, guardPages);
    }

    /**
     * Sampled mode's background scan period.
     *
     * @param millis the period in milliseconds, at least 0 (0: no scan; {@link HakMem#check()} still verifies every
     *               sampled slot)
     * @return a copy of these options with {@code scanMillis} changed
     * @throws IllegalArgumentException when {@code millis} is negative
     */
    public GuardOptions withScanMillis(long millis) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, millis, guardPages);
    }

    /**
     * Sampled mode's optional guard pages, <b>off by default: a hit crashes the JVM</b>. The page slots' neighbouring
     * pages and every freed page slot are made inaccessible (mprotect), as GWP-ASan's guard pages, so that an
     * overflow or underflow past a sampled block's canary margin, and any read or write of a freed sampled block,
     * faults at the instruction that makes it: the JVM dies with an hs_err file naming the address (SIGSEGV,
     * {@code si_addr}) and the faulting thread's stack. Each sampled block's record (its slot, size, allocating and
     * freeing thread and stack) is written to {@code report} before the block is handed out and before its freed
     * slot is closed, so that the crash's address can be matched to its stacks. Every sample takes a page slot (no
     * small slots) and pays two mprotect calls and its record's write. For a debugging run that needs the faulting
     * instruction; the canaries still catch the bugs that stay inside a slot, without a crash. See docs/GUARD_MODE.md.
     *
     * @param report the file the sampled blocks' records are appended to, or null to turn guard pages off
     * @return a copy of these options with {@code guardPages} changed
     */
    public GuardOptions withGuardPages(Path report) {
        return new GuardOptions(enabled, throwOnViolation, quarantineBytes, siteDepth, siteSampling, traceRingSize,
                traceFile, leakReportAtExit, sampleRate, scanMillis, report);
    }
}
