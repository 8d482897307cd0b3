package dev.hakmem;

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
 * <tr><td>guard mode</td><td>hakmem.guard / HAKMEM_GUARD</td><td>off</td></tr>
 * <tr><td>guard: report instead of throwing</td><td>hakmem.guardReport / HAKMEM_GUARD_REPORT</td><td>false</td></tr>
 * <tr><td>guard: quarantine bytes</td><td>hakmem.guardQuarantine / HAKMEM_GUARD_QUARANTINE</td><td>16m</td></tr>
 * <tr><td>guard: site depth, sampling (1 in N)</td><td>hakmem.guardSiteDepth, hakmem.guardSiteSampling</td><td>8, 1</td></tr>
 * <tr><td>guard: trace ring events per thread</td><td>hakmem.guardTraceRing / HAKMEM_GUARD_TRACE_RING</td><td>256</td></tr>
 * <tr><td>guard: trace file written on a violation</td><td>hakmem.guardTraceFile / HAKMEM_GUARD_TRACE_FILE</td><td>none</td></tr>
 * <tr><td>guard: leak report at exit (global heap)</td><td>hakmem.guardLeakReport / HAKMEM_GUARD_LEAK_REPORT</td><td>false</td></tr>
 * <tr><td>W_MAX: largest class/request ratio in the pools</td><td>hakmem.wmax / HAKMEM_WMAX</td><td>1.25</td></tr>
 * <tr><td>bytes kept mapped while empty</td><td>hakmem.retain / HAKMEM_RETAIN</td><td>64m</td></tr>
 * <tr><td>delay before empty memory is given back</td><td>hakmem.purgeDelayMs / HAKMEM_PURGE_DELAY_MS</td><td>250</td></tr>
 * <tr><td>heaps shared by virtual threads</td><td>hakmem.sharedHeaps / HAKMEM_SHARED_HEAPS</td><td>2 x CPUs</td></tr>
 * <tr><td>limit on mapped bytes</td><td>hakmem.mappedLimit / HAKMEM_MAPPED_LIMIT</td><td>none</td></tr>
 * </table>
 * Sizes take an optional k, m or g suffix.
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
    public static final double MAX_W_MAX = 2.0;

    private final GuardOptions guard;
    private final double wMax;
    private final long retainBytes;
    private final long purgeDelayMillis;
    private final int sharedHeaps;
    private final long mappedLimit;
    private final PageSource pageSource;

    private HakMemConfig(Builder b) {
        this.guard = b.guard;
        this.wMax = b.wMax;
        this.retainBytes = b.retainBytes;
        this.purgeDelayMillis = b.purgeDelayMillis;
        this.sharedHeaps = b.sharedHeaps;
        this.mappedLimit = b.mappedLimit;
        this.pageSource = b.pageSource;
    }

    public static HakMemConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The configuration the process asks for through {@code hakmem.*} properties and {@code HAKMEM_*} variables. */
    public static HakMemConfig fromSystem() {
        return fromLookup(name -> {
            String v = System.getProperty("hakmem." + name);
            return v != null ? v : System.getenv("HAKMEM_" + envName(name));
        });
    }

    /** Reads settings through {@code lookup} (name without prefix, e.g. "wmax"); unknown or absent names keep defaults. */
    static HakMemConfig fromLookup(Function<String, String> lookup) {
        Builder b = builder();
        String v;
        GuardOptions g = GuardOptions.off();
        if ((v = lookup.apply("guard")) != null) {
            g = g.withEnabled(parseBoolean("guard", v));
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
            depth = Math.toIntExact(parseSize("guardSiteDepth", v));
        }
        if ((v = lookup.apply("guardSiteSampling")) != null) {
            sampling = Math.toIntExact(parseSize("guardSiteSampling", v));
        }
        g = g.withSites(depth, sampling);
        if ((v = lookup.apply("guardTraceRing")) != null) {
            g = g.withTraceRingSize(Math.toIntExact(parseSize("guardTraceRing", v)));
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
        if ((v = lookup.apply("sharedHeaps")) != null) {
            b.sharedHeaps(Math.toIntExact(parseSize("sharedHeaps", v)));
        }
        if ((v = lookup.apply("mappedLimit")) != null) {
            b.mappedLimit(parseSize("mappedLimit", v));
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

    /** Guard mode and its settings. */
    public GuardOptions guard() {
        return guard;
    }

    /** The pools never round a request up by more than this factor. */
    public double wMax() {
        return wMax;
    }

    /** How many bytes of empty SuperSlabs and cached big mappings stay mapped for reuse. */
    public long retainBytes() {
        return retainBytes;
    }

    /** How long empty memory stays committed before it is given back with madvise. */
    public long purgeDelayMillis() {
        return purgeDelayMillis;
    }

    /** How many heaps the virtual threads share (they never get one each). */
    public int sharedHeaps() {
        return sharedHeaps;
    }

    /** The most bytes this heap may have mapped at once; beyond it allocation fails with HakMemOutOfMemoryError. */
    public long mappedLimit() {
        return mappedLimit;
    }

    /** Where memory comes from. */
    public PageSource pageSource() {
        return pageSource;
    }

    public Builder toBuilder() {
        return builder().guard(guard).wMax(wMax).retainBytes(retainBytes).purgeDelayMillis(purgeDelayMillis)
                .sharedHeaps(sharedHeaps).mappedLimit(mappedLimit).pageSource(pageSource);
    }

    @Override
    public String toString() {
        return "HakMemConfig[guard=" + (guard.enabled() ? guard : "off") + ", wMax=" + wMax + ", retainBytes=" + retainBytes
                + ", purgeDelayMillis=" + purgeDelayMillis + ", sharedHeaps=" + sharedHeaps
                + ", mappedLimit=" + (mappedLimit == Long.MAX_VALUE ? "none" : mappedLimit) + "]";
    }

    public static final class Builder {
        private GuardOptions guard = GuardOptions.off();
        private double wMax = 1.25;
        private long retainBytes = 64L << 20;
        private long purgeDelayMillis = 250;
        private int sharedHeaps = 2 * Runtime.getRuntime().availableProcessors();
        private long mappedLimit = Long.MAX_VALUE;
        private PageSource pageSource;

        private Builder() {
        }

        /** Guard mode on with its default settings, or off. */
        public Builder guard(boolean on) {
            this.guard = guard.withEnabled(on);
            return this;
        }

        public Builder guard(GuardOptions options) {
            this.guard = java.util.Objects.requireNonNull(options);
            return this;
        }

        public Builder wMax(double w) {
            if (!(w >= MIN_W_MAX && w <= MAX_W_MAX)) {
                throw new IllegalArgumentException("wMax must be in [" + MIN_W_MAX + ", " + MAX_W_MAX + "]: " + w);
            }
            this.wMax = w;
            return this;
        }

        public Builder retainBytes(long bytes) {
            if (bytes < 0) {
                throw new IllegalArgumentException("retainBytes must be >= 0: " + bytes);
            }
            this.retainBytes = bytes;
            return this;
        }

        public Builder purgeDelayMillis(long millis) {
            if (millis < 0) {
                throw new IllegalArgumentException("purgeDelayMillis must be >= 0: " + millis);
            }
            this.purgeDelayMillis = millis;
            return this;
        }

        public Builder sharedHeaps(int count) {
            if (count < 1 || count > 4096) {
                throw new IllegalArgumentException("sharedHeaps must be in [1, 4096]: " + count);
            }
            this.sharedHeaps = count;
            return this;
        }

        public Builder mappedLimit(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("mappedLimit must be > 0: " + bytes);
            }
            this.mappedLimit = bytes;
            return this;
        }

        public Builder pageSource(PageSource source) {
            this.pageSource = source;
            return this;
        }

        public HakMemConfig build() {
            if (pageSource == null) {
                pageSource = PageSource.system();
            }
            return new HakMemConfig(this);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HakMemConfig c && guard.equals(c.guard) && wMax == c.wMax && retainBytes == c.retainBytes
                && purgeDelayMillis == c.purgeDelayMillis && sharedHeaps == c.sharedHeaps
                && mappedLimit == c.mappedLimit && pageSource.equals(c.pageSource);
    }

    @Override
    public int hashCode() {
        return Objects.hash(guard, wMax, retainBytes, purgeDelayMillis, sharedHeaps, mappedLimit, pageSource);
    }
}
