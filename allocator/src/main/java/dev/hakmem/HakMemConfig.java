package dev.hakmem;

import dev.hakmem.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * How a heap is set up. Immutable; build one with {@link #builder()}, take {@link #defaults()}, or read it from the
 * process with {@link #fromSystem()} (system properties {@code hakmem.*} win over environment variables
 * {@code HAKMEM_*}).
 *
 * <table>
 * <caption>Settings</caption>
 * <tr><th>setting</th><th>property / variable</th><th>default</th></tr>
 * <tr><td>guard mode: off, sample or full (true: full)</td><td>hakmem.guard / HAKMEM_GUARD</td><td>off</td></tr>
 * <tr><td>guard: sample 1 allocation in N, [1, 2^30]; the sample level only (checked at every level)</td>
 *     <td>hakmem.guardSampleRate / HAKMEM_GUARD_SAMPLE_RATE</td><td>32768</td></tr>
 * <tr><td>guard: sampled mode's guard pages, their report file (a hit crashes the JVM; see
 *     {@link GuardOptions#withGuardPages})</td><td>hakmem.guardPages / HAKMEM_GUARD_PAGES</td><td>none: off</td></tr>
 * <tr><td>guard: sampled slots' scan period, ms</td><td>hakmem.guardScanMs / HAKMEM_GUARD_SCAN_MS</td><td>500</td></tr>
 * <tr><td>guard: report instead of throwing</td><td>hakmem.guardReport / HAKMEM_GUARD_REPORT</td><td>false</td></tr>
 * <tr><td>guard: quarantine bytes per thread</td><td>hakmem.guardQuarantine / HAKMEM_GUARD_QUARANTINE</td><td>256k</td></tr>
 * <tr><td>guard: site depth, sampling (1 in N)</td><td>hakmem.guardSiteDepth, hakmem.guardSiteSampling</td><td>8, 1</td></tr>
 * <tr><td>guard: trace ring events per thread, at most 2^20</td><td>hakmem.guardTraceRing / HAKMEM_GUARD_TRACE_RING</td><td>256</td></tr>
 * <tr><td>guard: trace file written on a violation</td><td>hakmem.guardTraceFile / HAKMEM_GUARD_TRACE_FILE</td><td>none</td></tr>
 * <tr><td>guard: leak report at exit (global heap)</td><td>hakmem.guardLeakReport / HAKMEM_GUARD_LEAK_REPORT</td><td>false</td></tr>
 * <tr><td>preset of the adaptive layer ({@link Mode}, any case)</td><td>hakmem.mode / HAKMEM_MODE</td><td>balanced</td></tr>
 * <tr><td>starting policy: a file written by {@link Policy#toJson()}; the heap starts FROZEN from it</td>
 *     <td>hakmem.policy / HAKMEM_POLICY</td><td>none: the mode's preset</td></tr>
 * <tr><td>W_MAX: largest class/request ratio in the pools</td><td>hakmem.wmax / HAKMEM_WMAX</td><td>1.25</td></tr>
 * <tr><td>bytes kept mapped while empty</td><td>hakmem.retain / HAKMEM_RETAIN</td><td>64m (minimal: 0)</td></tr>
 * <tr><td>delay before empty memory is given back</td><td>hakmem.purgeDelayMs / HAKMEM_PURGE_DELAY_MS</td>
 *     <td>250 (minimal: 0)</td></tr>
 * <tr><td>learner: weight of memory against time in the cost, [0, 10]</td>
 *     <td>hakmem.memoryWeight / HAKMEM_MEMORY_WEIGHT</td><td>0.5</td></tr>
 * <tr><td>learner: length of a measured window, [10, 600000] ms</td>
 *     <td>hakmem.learnWindowMs / HAKMEM_LEARN_WINDOW_MS</td><td>1000</td></tr>
 * <tr><td>learner: seed of its random choices (a run replays with the same seed)</td>
 *     <td>hakmem.learnSeed / HAKMEM_LEARN_SEED</td><td>{@value #DEFAULT_LEARN_SEED}</td></tr>
 * <tr><td>heaps shared by virtual threads</td><td>hakmem.sharedHeaps / HAKMEM_SHARED_HEAPS</td><td>2 x CPUs</td></tr>
 * <tr><td>limit on mapped bytes</td><td>hakmem.mappedLimit / HAKMEM_MAPPED_LIMIT</td><td>none</td></tr>
 * <tr><td>the heap's {@link HakMemMXBean} and JFR statistics event</td><td>hakmem.monitoring / HAKMEM_MONITORING</td>
 *     <td>true</td></tr>
 * </table>
 * Sizes take an optional k, m or g suffix.
 *
 * <p>The heap's starting {@link #policy()} is the given policy, or else the mode's preset ({@link Policy#defaults()},
 * with nothing retained and no purge delay in {@link Mode#MINIMAL}); W_MAX, retain and purge delay set explicitly
 * win over either, whatever the order of the calls.
 */
public final class HakMemConfig {
    /**
     * Presets of the adaptive layer (docs/ADAPTIVE.md): what is profiled and whether a learner runs. Knobs set
     * explicitly win over the preset's.
     */
    public enum Mode {
        /** No retention (empty memory is given back at once), no profiling, no learning: the baseline to compare to. */
        MINIMAL,
        /** The policy in force never changes and sites are not profiled: the least work per call. */
        FAST,
        /** The policy in force never changes; sites are profiled by sampling. The default. */
        BALANCED,
        /** Sites are profiled and a learner tunes the policy: LEARN, then FROZEN, with CANARY windows. */
        LEARNING,
        /** LEARNING, and every window's measurements and decisions are kept for inspection. */
        RESEARCH
    }

    /** Bounds of W_MAX: below 1.0625 the pools would need hundreds of classes, above 2 they waste half a block. */
    public static final double MIN_W_MAX = 1.0625;
    /** The largest W_MAX; see {@link #MIN_W_MAX}. */
    public static final double MAX_W_MAX = 2.0;

    /** The largest {@link #memoryWeight()}. */
    public static final double MAX_MEMORY_WEIGHT = 10;
    /** The shortest {@link #learnWindowMillis()}, in milliseconds. */
    public static final long MIN_LEARN_WINDOW_MILLIS = 10;
    /** The longest {@link #learnWindowMillis()}, in milliseconds: ten minutes. */
    public static final long MAX_LEARN_WINDOW_MILLIS = 600_000;

    /** The learner's seed unless one is set: fixed, so that defaults() equals defaults() and runs replay. */
    public static final long DEFAULT_LEARN_SEED = 0x4841_4B4D_454DL;

    private final GuardOptions guard;
    private final Mode mode;
    /** The given policy, or the mode's preset, with the knobs set explicitly applied over it. */
    private final Policy policy;
    /** A policy was given ({@link Builder#policy}): the heap starts FROZEN from it instead of learning from scratch. */
    private final boolean startsFrozen;
    /** What the builder was given (null: not given), so that {@link #toBuilder()} gives back the same builder. */
    private final Policy givenPolicy;
    private final Double givenWMax;
    private final Long givenRetainBytes;
    private final Long givenPurgeDelayMillis;
    private final double memoryWeight;
    private final long learnWindowMillis;
    private final long learnSeed;
    private final int sharedHeaps;
    private final long mappedLimit;
    private final PageSource pageSource;
    private final boolean monitoring;

    private HakMemConfig(Builder b) {
        this.guard = b.guard;
        this.mode = b.mode;
        this.givenPolicy = b.policy;
        this.givenWMax = b.wMax;
        this.givenRetainBytes = b.retainBytes;
        this.givenPurgeDelayMillis = b.purgeDelayMillis;
        Policy.Builder p = (b.policy != null ? b.policy : preset(b.mode)).toBuilder();
        if (b.wMax != null) {
            p.wMax(b.wMax);
        }
        if (b.retainBytes != null) {
            p.retainBytes(b.retainBytes);
        }
        if (b.purgeDelayMillis != null) {
            p.purgeDelayMillis(b.purgeDelayMillis);
        }
        this.policy = p.build();
        this.startsFrozen = b.policy != null;
        this.memoryWeight = b.memoryWeight;
        this.learnWindowMillis = b.learnWindowMillis;
        this.learnSeed = b.learnSeed;
        this.sharedHeaps = b.sharedHeaps;
        this.mappedLimit = b.mappedLimit;
        this.pageSource = b.pageSource;
        this.monitoring = b.monitoring;
    }

    /**
     * The default configuration: every setting at the default of the class comment's table.
     *
     * @return the configuration of an empty builder
     */
    public static HakMemConfig defaults() {
        return builder().build();
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The configuration the process asks for through {@code hakmem.*} properties and {@code HAKMEM_*} variables.
     *
     * @return the configuration of the settings found, the defaults for the others
     * @throws IllegalArgumentException when a value is malformed or out of range, or the policy file cannot be read
     *                                  or is not a policy
     */
    public static HakMemConfig fromSystem() {
        return fromLookup(name -> {
            String v = System.getProperty("hakmem." + name);
            return v != null ? v : System.getenv("HAKMEM_" + envName(name));
        });
    }

    /** The starting policy of a mode when none is given: MINIMAL keeps nothing mapped or committed while empty. */
    private static Policy preset(Mode mode) {
        return mode == Mode.MINIMAL ? Policy.defaults().toBuilder().retainBytes(0).purgeDelayMillis(0).build()
                : Policy.defaults();
    }

    /** Reads settings through {@code lookup} (name without prefix, e.g. "wmax"); unknown or absent names keep defaults. */
    static HakMemConfig fromLookup(Function<String, String> lookup) {
        Builder b = builder();
        String v;
        if ((v = lookup.apply("mode")) != null) {
            b.mode(parseMode(v));
        }
        if ((v = lookup.apply("policy")) != null && !v.isBlank()) {
            b.policy(readPolicy(v.trim()));
        }
        GuardOptions g = GuardOptions.off();
        if ((v = lookup.apply("guard")) != null) {
            g = parseGuardLevel(v);
        }
        if ((v = lookup.apply("guardSampleRate")) != null) {
            // Checked at every level, so that a bad value is refused even where it does not apply.
            int rate = parseCount("guardSampleRate", v, 1, GuardOptions.MAX_SAMPLE_RATE);
            if (g.sampling()) {
                g = g.withSampleRate(rate);
            }
        }
        if ((v = lookup.apply("guardPages")) != null && !v.isBlank()) {
            g = g.withGuardPages(java.nio.file.Path.of(v.trim()));
        }
        if ((v = lookup.apply("guardScanMs")) != null) {
            g = g.withScanMillis(parseSize("guardScanMs", v));
        }
        if ((v = lookup.apply("guardReport")) != null) {
            g = g.withThrowOnViolation(!parseBoolean("guardReport", v));
        }
        if ((v = lookup.apply("guardQuarantine")) != null) {
            g = g.withQuarantineBytes(parseSize("guardQuarantine", v));
        }
        int depth = g.siteDepth();
        int sampling = g.siteSampling();
        if ((v = lookup.apply("guardSiteDepth")) != null) {
            depth = parseCount("guardSiteDepth", v, 0, GuardOptions.MAX_SITE_DEPTH);
        }
        if ((v = lookup.apply("guardSiteSampling")) != null) {
            sampling = parseCount("guardSiteSampling", v, 1, Integer.MAX_VALUE);
        }
        g = g.withSites(depth, sampling);
        if ((v = lookup.apply("guardTraceRing")) != null) {
            g = g.withTraceRingSize(parseCount("guardTraceRing", v, 1, GuardOptions.MAX_TRACE_RING_SIZE));
        }
        if ((v = lookup.apply("guardTraceFile")) != null && !v.isBlank()) {
            g = g.withTraceFile(java.nio.file.Path.of(v.trim()));
        }
        if ((v = lookup.apply("guardLeakReport")) != null) {
            g = g.withLeakReportAtExit(parseBoolean("guardLeakReport", v));
        }
        b.guard(g);
        if ((v = lookup.apply("wmax")) != null) {
            b.wMax(parseDouble("wmax", v));
        }
        if ((v = lookup.apply("retain")) != null) {
            b.retainBytes(parseSize("retain", v));
        }
        if ((v = lookup.apply("purgeDelayMs")) != null) {
            b.purgeDelayMillis(parseSize("purgeDelayMs", v));
        }
        if ((v = lookup.apply("memoryWeight")) != null) {
            b.memoryWeight(parseDouble("memoryWeight", v));
        }
        if ((v = lookup.apply("learnWindowMs")) != null) {
            b.learnWindowMillis(parseSize("learnWindowMs", v));
        }
        if ((v = lookup.apply("learnSeed")) != null) {
            b.learnSeed(parseLong("learnSeed", v));
        }
        if ((v = lookup.apply("sharedHeaps")) != null) {
            b.sharedHeaps(Math.toIntExact(parseSize("sharedHeaps", v)));
        }
        if ((v = lookup.apply("mappedLimit")) != null) {
            b.mappedLimit(parseSize("mappedLimit", v));
        }
        if ((v = lookup.apply("monitoring")) != null) {
            b.monitoring(parseBoolean("monitoring", v));
        }
        return b.build();
    }

    private static String envName(String property) {
        StringBuilder sb = new StringBuilder();
        for (char c : property.toCharArray()) {
            if (Character.isUpperCase(c)) {
                sb.append('_');
            }
            sb.append(Character.toUpperCase(c));
        }
        return sb.toString();
    }

    static Mode parseMode(String v) {
        try {
            return Mode.valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("hakmem.mode: not a mode: " + v
                    + " (minimal, fast, balanced, learning or research)", e);
        }
    }

    /**
     * Reads a policy file (UTF-8, at most {@link Json#MAX_CHARS} bytes) with {@link Policy#fromJson}.
     *
     * @throws IllegalArgumentException naming hakmem.policy and the file when it cannot be read or is not a policy
     */
    static Policy readPolicy(String file) {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            bytes = in.readNBytes(Json.MAX_CHARS + 1);
        } catch (IOException | InvalidPathException e) {
            throw new IllegalArgumentException("hakmem.policy: cannot read " + file + ": " + e, e);
        }
        if (bytes.length > Json.MAX_CHARS) {
            throw new IllegalArgumentException("hakmem.policy: " + file + ": larger than " + Json.MAX_CHARS + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("hakmem.policy: " + file + ": not UTF-8: " + e, e);
        }
        try {
            return Policy.fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("hakmem.policy: " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code hakmem.guard}: off, sample (at the default rate) or full; a boolean keeps meaning full or off. */
    private static GuardOptions parseGuardLevel(String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "sample", "sampled" -> GuardOptions.sampled(GuardOptions.DEFAULT_SAMPLE_RATE);
            case "full" -> GuardOptions.on();
            default -> {
                try {
                    yield GuardOptions.off().withEnabled(parseBoolean("guard", v));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("hakmem.guard: not a level: " + v
                            + " (off, sample or full, or a boolean: true for full, false for off)", e);
                }
            }
        };
    }

    private static boolean parseBoolean(String name, String v) {
        return switch (v.trim().toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes", "on" -> true;
            case "0", "false", "no", "off", "" -> false;
            default -> throw new IllegalArgumentException("hakmem." + name + ": not a boolean: " + v);
        };
    }

    private static double parseDouble(String name, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hakmem." + name + ": not a number: " + v, e);
        }
    }

    private static long parseLong(String name, String v) {
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("hakmem." + name + ": not an integer: " + v, e);
        }
    }

    /** A count, read as {@link #parseSize} reads a size, refused with the property's name unless in [min, max]. */
    static int parseCount(String name, String v, int min, int max) {
        long n = parseSize(name, v);
        if (n < min || n > max) {
            throw new IllegalArgumentException("hakmem." + name + ": not in [" + min + ", " + max + "]: " + v);
        }
        return (int) n;
    }

    /** Parses "123", "64k", "64m", "2g" (binary units). */
    static long parseSize(String name, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                default -> unit = 1;
            }
        }
        if (unit != 1) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(s.trim()), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("hakmem." + name + ": not a size: " + v, e);
        }
    }

    /**
     * Guard mode and its settings.
     *
     * @return the guard options; {@link GuardOptions#off()} unless set
     */
    public GuardOptions guard() {
        return guard;
    }

    /**
     * The preset of the adaptive layer: what is profiled and whether a learner runs.
     *
     * @return the mode; {@link Mode#BALANCED} unless set
     */
    public Mode mode() {
        return mode;
    }

    /**
     * The policy the heap starts with: the given one or the mode's preset, with the knobs set explicitly over it.
     *
     * @return the starting policy
     */
    public Policy policy() {
        return policy;
    }

    /**
     * Whether a policy was given: the heap then starts FROZEN from it (a learning mode may still watch, in CANARY).
     *
     * @return true when {@link Builder#policy(Policy)} was called
     */
    public boolean startsFrozen() {
        return startsFrozen;
    }

    /**
     * The learner's weight of memory (committed bytes not live) against time in its cost.
     *
     * @return the weight, in [0, {@value #MAX_MEMORY_WEIGHT}]; 0.5 unless set
     */
    public double memoryWeight() {
        return memoryWeight;
    }

    /**
     * How long the learner measures one policy before it decides (one window).
     *
     * @return the window in milliseconds, in [{@value #MIN_LEARN_WINDOW_MILLIS}, {@value #MAX_LEARN_WINDOW_MILLIS}];
     *         1000 unless set
     */
    public long learnWindowMillis() {
        return learnWindowMillis;
    }

    /**
     * The seed of the learner's random choices: the same seed and measurements give the same decisions.
     *
     * @return the seed; {@value #DEFAULT_LEARN_SEED} unless set
     */
    public long learnSeed() {
        return learnSeed;
    }

    /**
     * The starting policy's W_MAX: the pools never round a request up by more than this factor.
     *
     * @return the ratio, in [{@value #MIN_W_MAX}, {@value #MAX_W_MAX}]
     */
    public double wMax() {
        return policy.wMax();
    }

    /**
     * The starting policy's bytes of empty SuperSlabs and cached big mappings that stay mapped for reuse.
     *
     * @return the retained bytes, from 0 to {@value Policy#MAX_RETAIN_BYTES}
     */
    public long retainBytes() {
        return policy.retainBytes();
    }

    /**
     * The starting policy's delay before empty memory is given back with madvise.
     *
     * @return the delay in milliseconds, from 0 to {@value Policy#MAX_PURGE_DELAY_MILLIS}
     */
    public long purgeDelayMillis() {
        return policy.purgeDelayMillis();
    }

    /**
     * How many heaps the virtual threads share (they never get one each).
     *
     * @return the number of shared heaps, in [1, 4096]; twice the number of CPUs unless set
     */
    public int sharedHeaps() {
        return sharedHeaps;
    }

    /**
     * The most bytes this heap may have mapped at once; beyond it allocation fails with HakMemOutOfMemoryError.
     *
     * @return the limit in bytes; {@link Long#MAX_VALUE} (no limit) unless set
     */
    public long mappedLimit() {
        return mappedLimit;
    }

    /**
     * Where memory comes from.
     *
     * @return the page source; {@link PageSource#system()} unless set
     */
    public PageSource pageSource() {
        return pageSource;
    }

    /**
     * Whether the heap registers its {@link HakMemMXBean} and emits the periodic JFR statistics event.
     *
     * @return true unless turned off
     */
    public boolean monitoring() {
        return monitoring;
    }

    /**
     * A builder holding what this config was built from, its learner's seed included.
     *
     * @return a new builder; building it gives a configuration equal to this one
     */
    public Builder toBuilder() {
        Builder b = builder().guard(guard).mode(mode).memoryWeight(memoryWeight).learnWindowMillis(learnWindowMillis)
                .learnSeed(learnSeed).sharedHeaps(sharedHeaps).mappedLimit(mappedLimit).pageSource(pageSource)
                .monitoring(monitoring);
        b.policy = givenPolicy;
        b.wMax = givenWMax;
        b.retainBytes = givenRetainBytes;
        b.purgeDelayMillis = givenPurgeDelayMillis;
        return b;
    }

    @Override
    public String toString() {
        return "HakMemConfig[guard=" + (guard.enabled() || guard.sampling() ? guard : "off") + ", mode=" + mode
                + ", policy=" + policy
                + ", startsFrozen=" + startsFrozen + ", memoryWeight=" + memoryWeight + ", learnWindowMillis="
                + learnWindowMillis + ", learnSeed=" + learnSeed + ", sharedHeaps=" + sharedHeaps
                + ", mappedLimit=" + (mappedLimit == Long.MAX_VALUE ? "none" : mappedLimit)
                + ", monitoring=" + monitoring + "]";
    }

    /**
     * Builds a {@link HakMemConfig}. Each setter checks its value at the call and refuses an out-of-range one with
     * IllegalArgumentException naming the setting; a null is refused with NullPointerException.
     */
    public static final class Builder {
        private GuardOptions guard = GuardOptions.off();
        private Mode mode = Mode.BALANCED;
        /** Null: start from the mode's preset. */
        private Policy policy;
        /** Knobs set explicitly (null: from the policy or preset); they win over both. */
        private Double wMax;
        private Long retainBytes;
        private Long purgeDelayMillis;
        private double memoryWeight = 0.5;
        private long learnWindowMillis = 1000;
        private long learnSeed = DEFAULT_LEARN_SEED;
        private int sharedHeaps = 2 * Runtime.getRuntime().availableProcessors();
        private long mappedLimit = Long.MAX_VALUE;
        private PageSource pageSource;
        private boolean monitoring = true;

        private Builder() {
        }

        /**
         * Guard mode on with its default settings, or off.
         *
         * @param on true for full guard mode, false for none
         * @return this builder
         */
        public Builder guard(boolean on) {
            this.guard = guard.withEnabled(on);
            return this;
        }

        /**
         * Guard mode with settings of its own.
         *
         * @param options the guard options, e.g. {@link GuardOptions#on()} or {@link GuardOptions#sampled(int)}
         * @return this builder
         * @throws NullPointerException when {@code options} is null
         */
        public Builder guard(GuardOptions options) {
            this.guard = Objects.requireNonNull(options);
            return this;
        }

        /**
         * The preset: {@link Mode#BALANCED} unless set.
         *
         * @param m the mode
         * @return this builder
         * @throws NullPointerException when {@code m} is null
         */
        public Builder mode(Mode m) {
            this.mode = Objects.requireNonNull(m, "mode");
            return this;
        }

        /**
         * The policy to start from, FROZEN (e.g. one learned in an earlier run); knobs set explicitly win over it.
         *
         * @param p the starting policy
         * @return this builder
         * @throws NullPointerException when {@code p} is null
         */
        public Builder policy(Policy p) {
            this.policy = Objects.requireNonNull(p, "policy");
            return this;
        }

        // The three knobs below are checked by Policy.Builder, the one home of their ranges, at the call: the
        // message names the knob where the mistake is made, not at build().

        /**
         * W_MAX, over the starting policy's (see {@link Policy#wMax()}).
         *
         * @param w the largest ratio of a pool class to a request, in [{@value HakMemConfig#MIN_W_MAX},
         *          {@value HakMemConfig#MAX_W_MAX}]
         * @return this builder
         * @throws IllegalArgumentException when {@code w} is out of range or NaN
         */
        public Builder wMax(double w) {
            Policy.builder().wMax(w);
            this.wMax = w;
            return this;
        }

        /**
         * The bytes of empty memory kept mapped, over the starting policy's (see {@link Policy#retainBytes()}).
         *
         * @param bytes from 0 to {@value Policy#MAX_RETAIN_BYTES}
         * @return this builder
         * @throws IllegalArgumentException when {@code bytes} is out of range
         */
        public Builder retainBytes(long bytes) {
            Policy.builder().retainBytes(bytes);
            this.retainBytes = bytes;
            return this;
        }

        /**
         * The purge delay, over the starting policy's (see {@link Policy#purgeDelayMillis()}).
         *
         * @param millis milliseconds, from 0 to {@value Policy#MAX_PURGE_DELAY_MILLIS}
         * @return this builder
         * @throws IllegalArgumentException when {@code millis} is out of range
         */
        public Builder purgeDelayMillis(long millis) {
            Policy.builder().purgeDelayMillis(millis);
            this.purgeDelayMillis = millis;
            return this;
        }

        /**
         * The learner's weight of memory against time in its cost.
         *
         * @param weight in [0, {@value HakMemConfig#MAX_MEMORY_WEIGHT}]; 0 ignores memory
         * @return this builder
         * @throws IllegalArgumentException when {@code weight} is out of range or NaN
         */
        public Builder memoryWeight(double weight) {
            if (!(weight >= 0 && weight <= MAX_MEMORY_WEIGHT)) {
                throw new IllegalArgumentException("memoryWeight must be in [0, " + MAX_MEMORY_WEIGHT + "]: " + weight);
            }
            this.memoryWeight = weight;
            return this;
        }

        /**
         * The learner's window in milliseconds, in [{@value HakMemConfig#MIN_LEARN_WINDOW_MILLIS},
         * {@value HakMemConfig#MAX_LEARN_WINDOW_MILLIS}].
         *
         * @param millis the window's length in milliseconds
         * @return this builder
         * @throws IllegalArgumentException when {@code millis} is out of range
         */
        public Builder learnWindowMillis(long millis) {
            if (millis < MIN_LEARN_WINDOW_MILLIS || millis > MAX_LEARN_WINDOW_MILLIS) {
                throw new IllegalArgumentException("learnWindowMillis must be in [" + MIN_LEARN_WINDOW_MILLIS + ", "
                        + MAX_LEARN_WINDOW_MILLIS + "]: " + millis);
            }
            this.learnWindowMillis = millis;
            return this;
        }

        /**
         * The learner's seed; a fixed default, so that two runs of a program make the same choices from the same
         * measurements.
         *
         * @param seed any value
         * @return this builder
         */
        public Builder learnSeed(long seed) {
            this.learnSeed = seed;
            return this;
        }

        /**
         * How many heaps the virtual threads share.
         *
         * @param count in [1, 4096]
         * @return this builder
         * @throws IllegalArgumentException when {@code count} is out of range
         */
        public Builder sharedHeaps(int count) {
            if (count < 1 || count > 4096) {
                throw new IllegalArgumentException("sharedHeaps must be in [1, 4096]: " + count);
            }
            this.sharedHeaps = count;
            return this;
        }

        /**
         * The most bytes the heap may have mapped at once; beyond it allocation fails with
         * {@link HakMemOutOfMemoryError}.
         *
         * @param bytes the limit, above 0
         * @return this builder
         * @throws IllegalArgumentException when {@code bytes} is 0 or negative
         */
        public Builder mappedLimit(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("mappedLimit must be > 0: " + bytes);
            }
            this.mappedLimit = bytes;
            return this;
        }

        /**
         * Where the heap's memory comes from; a test may give one that fails on purpose.
         *
         * @param source the page source, or null for {@link PageSource#system()}
         * @return this builder
         */
        public Builder pageSource(PageSource source) {
            this.pageSource = source;
            return this;
        }

        /**
         * Whether the heap is registered as a {@link HakMemMXBean} and emits the periodic JFR statistics event (the
         * default). Registration runs in the background, so a heap's creation never waits for JMX to start; turn it
         * off for heaps nobody watches (short-lived test heaps, say).
         *
         * @param on true to register and emit, false for neither
         * @return this builder
         */
        public Builder monitoring(boolean on) {
            this.monitoring = on;
            return this;
        }

        /**
         * Builds the configuration; the builder may be changed and used again afterwards.
         *
         * @return a new immutable configuration
         */
        public HakMemConfig build() {
            if (pageSource == null) {
                pageSource = PageSource.system();
            }
            return new HakMemConfig(this);
        }
    }

    /** Equal when they set up the same heap: what was given to the builder counts only through what it resolved to. */
    @Override
    public boolean equals(Object o) {
        return o instanceof HakMemConfig c && guard.equals(c.guard) && mode == c.mode && policy.equals(c.policy)
                && startsFrozen == c.startsFrozen && Double.compare(memoryWeight, c.memoryWeight) == 0
                && learnWindowMillis == c.learnWindowMillis && learnSeed == c.learnSeed
                && sharedHeaps == c.sharedHeaps && mappedLimit == c.mappedLimit && pageSource.equals(c.pageSource)
                && monitoring == c.monitoring;
    }

    @Override
    public int hashCode() {
        return Objects.hash(guard, mode, policy, startsFrozen, memoryWeight, learnWindowMillis, learnSeed, sharedHeaps,
                mappedLimit, pageSource, monitoring);
    }
}
