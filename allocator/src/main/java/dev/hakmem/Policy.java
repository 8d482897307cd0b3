package dev.hakmem;

import dev.hakmem.json.Json;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * The knobs in force in a heap: one immutable snapshot. The learner publishes a new one with a single release store;
 * every allocation reads the snapshot once and never locks. A new policy applies to slabs carved after it: no block
 * ever moves, so a block allocated under one policy is freed correctly under any other (docs/ADAPTIVE.md).
 *
 * <p>Every value is checked where it is built: a policy that exists is in range.
 *
 * <table>
 * <caption>Knobs</caption>
 * <tr><th>knob</th><th>range</th><th>default</th><th>trades</th></tr>
 * <tr><td>{@link #wMax()}</td><td>[1.0625, 2]</td><td>1.25</td><td>internal waste against slab reuse</td></tr>
 * <tr><td>{@link #bigThreshold()}</td><td>64 KiB .. 1 MiB, a power of two</td><td>1 MiB</td>
 *     <td>pool slabs against a mapping of its own per block</td></tr>
 * <tr><td>{@link #retainBytes()}</td><td>[0, 1 TiB]</td><td>64 MiB</td><td>mapping calls against address space</td></tr>
 * <tr><td>{@link #purgeDelayMillis()}</td><td>[0, 60000]</td><td>250</td><td>page faults against RSS</td></tr>
 * <tr><td>{@link #bridgeClasses()}</td><td>up to 8 pool sizes</td><td>none</td>
 *     <td>extra classes at peaks of the size distribution</td></tr>
 * <tr><td>{@link #sites()}</td><td>up to 1024 sites</td><td>none</td>
 *     <td>per-site lifetime class, routing and pre-sized class</td></tr>
 * </table>
 *
 * <p>A learned policy is saved with {@link #toJson()} and loaded at start with {@link #fromJson} (the
 * {@code hakmem.policy} setting of {@link HakMemConfig}):
 * <pre>
 * {
 *   "format": 2,
 *   "wMax": 1.25,
 *   "bigThreshold": 1048576,
 *   "retainBytes": 67108864,
 *   "purgeDelayMillis": 250,
 *   "bridgeClasses": [40960],
 *   "sites": [
 *     {"site": "parser", "longLived": false, "direct": false, "presize": 34816}
 *   ]
 * }
 * </pre>
 * Format 1 is format 2 without the site rules' {@code presize} (issue 10): {@link #fromJson} still reads it, each rule
 * with no pre-sized class, and refuses a {@code presize} in it as a field format 1 does not have.
 */
public final class Policy {
    /** The version of {@link #toJson()}'s format; {@link #fromJson} reads it and format 1, and refuses any other. */
    public static final int FORMAT_VERSION = 2;
    /** The first format: site rules without {@code presize}. */
    private static final int FORMAT_1 = 1;
    /** The smallest {@link #bigThreshold()}, in bytes: 64 KiB. */
    public static final long MIN_BIG_THRESHOLD = 64L << 10;
    /** The largest {@link #bigThreshold()}, in bytes: 1 MiB, the largest pool size. */
    public static final long MAX_BIG_THRESHOLD = 1L << 20;
    /** The largest {@link #retainBytes()}: 1 TiB. */
    public static final long MAX_RETAIN_BYTES = 1L << 40;
    /** The longest {@link #purgeDelayMillis()}: one minute. */
    public static final long MAX_PURGE_DELAY_MILLIS = 60_000;
    /** The most {@link #bridgeClasses()} a policy has. */
    public static final int MAX_BRIDGE_CLASSES = 8;
    /** The most site rules ({@link #sites()}) a policy has. */
    public static final int MAX_SITES = 1024;
    /** Pool sizes are multiples of 64 with at most 5 significant bits: the grid every W_MAX's classes lie on. */
    private static final int GRID_BITS = 5;
    private static final int POOL_MIN = 1 << 10;
    /** What {@link #isPoolGridSize} accepts, for refusals. */
    private static final String POOL_SIZES = "(above " + POOL_MIN + ", at most " + MAX_BIG_THRESHOLD
            + ", a multiple of 64 with at most " + GRID_BITS + " significant bits)";
    /** The fields of {@link #toJson()}'s format, in its order, and of each site rule in it. */
    private static final List<String> FIELDS = List.of("format", "wMax", "bigThreshold", "retainBytes",
            "purgeDelayMillis", "bridgeClasses", "sites");
    private static final List<String> SITE_FIELDS = List.of("site", "longLived", "direct", "presize");

    private static final Policy DEFAULTS = builder().build();

    private final double wMax;
    private final long bigThreshold;
    private final long retainBytes;
    private final long purgeDelayMillis;
    /** Sorted, distinct, on the pool grid. */
    private final int[] bridgeClasses;
    /** By site name, in insertion order. */
    private final Map<String, SiteRule> sites;

    private Policy(Builder b) {
        this.wMax = b.wMax;
        this.bigThreshold = b.bigThreshold;
        this.retainBytes = b.retainBytes;
        this.purgeDelayMillis = b.purgeDelayMillis;
        this.bridgeClasses = b.bridgeClasses.clone();
        this.sites = Collections.unmodifiableMap(new LinkedHashMap<>(b.sites));
    }

    /**
     * The default policy.
     *
     * @return W_MAX 1.25, big threshold 1 MiB, 64 MiB retained, 250 ms purge delay, no bridge classes, no site rules
     */
    public static Policy defaults() {
        return DEFAULTS;
    }

    /**
     * A builder starting from the {@link #defaults()}.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A builder starting from this policy, to derive another from it; this policy is not changed.
     *
     * @return a new builder holding this policy's knobs and site rules
     */
    public Builder toBuilder() {
        Builder b = builder().wMax(wMax).bigThreshold(bigThreshold).retainBytes(retainBytes)
                .purgeDelayMillis(purgeDelayMillis).bridgeClasses(bridgeClasses);
        sites.values().forEach(b::site);
        return b;
    }

    /**
     * This policy as JSON, in the format of the class comment: fields in that order, two-space indentation, wMax as
     * the shortest decimal that reads back as the same double. {@code fromJson(p.toJson()).equals(p)} for every p.
     *
     * @return the JSON text, in format {@value #FORMAT_VERSION}
     */
    public String toJson() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT_VERSION);
        json.put("wMax", wMax);
        json.put("bigThreshold", bigThreshold);
        json.put("retainBytes", retainBytes);
        json.put("purgeDelayMillis", purgeDelayMillis);
        json.put("bridgeClasses", IntStream.of(bridgeClasses).boxed().toList());
        json.put("sites", sites.values().stream().map(r -> {
            Map<String, Object> site = new LinkedHashMap<>();
            site.put("site", r.site());
            site.put("longLived", r.longLived());
            site.put("direct", r.direct());
            site.put("presize", r.presize());
            return site;
        }).toList());
        return Json.write(json);
    }

    /**
     * Reads a policy written by {@link #toJson()}. Every field is required except {@code bridgeClasses} and
     * {@code sites} (absent: none); the format must be {@value #FORMAT_VERSION}, or 1 (whose site rules have no
     * {@code presize}: none is pre-sized). The text must be strict JSON
     * ({@link Json}: no duplicate names, at most 16 levels, at most 1 MiB), with no field unknown to this format, each
     * of its type (an integer where one is wanted, not a fraction), in the range {@link Builder} accepts, and no site
     * named twice.
     *
     * @param json the JSON text
     * @return the policy it describes
     * @throws IllegalArgumentException otherwise, naming the field's path ({@code policy.sites[1].longLived: ...}); no
     *                                  policy is built from part of a text
     */
    public static Policy fromJson(String json) {
        Map<String, Object> root = Json.object(Json.read(json, "policy"), "policy");
        // The format first: a text of another format is refused as such, not for the fields it names differently.
        long format = Json.integer(Json.required(root, "policy", "format"), "policy.format");
        if (format != FORMAT_VERSION && format != FORMAT_1) {
            throw new IllegalArgumentException("policy.format: format " + format + " is not supported (this build reads"
                    + " formats " + FORMAT_1 + " and " + FORMAT_VERSION + ")");
        }
        Json.refuseUnknown(root, "policy", FIELDS);
        Builder b = builder();
        double w = Json.number(Json.required(root, "policy", "wMax"), "policy.wMax");
        knob("policy.wMax", b::wMax, w);
        long big = Json.integer(Json.required(root, "policy", "bigThreshold"), "policy.bigThreshold");
        knob("policy.bigThreshold", b::bigThreshold, big);
        long retain = Json.integer(Json.required(root, "policy", "retainBytes"), "policy.retainBytes");
        knob("policy.retainBytes", b::retainBytes, retain);
        long purge = Json.integer(Json.required(root, "policy", "purgeDelayMillis"), "policy.purgeDelayMillis");
        knob("policy.purgeDelayMillis", b::purgeDelayMillis, purge);
        if (root.containsKey("bridgeClasses")) {
            List<Object> sizes = Json.array(root.get("bridgeClasses"), "policy.bridgeClasses");
            int[] classes = new int[sizes.size()];
            for (int i = 0; i < classes.length; i++) {
                String path = "policy.bridgeClasses[" + i + "]";
                long size = Json.integer(sizes.get(i), path);
                // Checked here as well as in the builder only to name the element; it also makes the cast exact.
                if (!isPoolGridSize(size)) {
                    throw new IllegalArgumentException(path + ": " + size + " is not a pool size " + POOL_SIZES);
                }
                classes[i] = (int) size;
            }
            knob("policy.bridgeClasses", b::bridgeClasses, classes);
        }
        if (root.containsKey("sites")) {
            List<Object> rules = Json.array(root.get("sites"), "policy.sites");
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < rules.size(); i++) {
                String path = "policy.sites[" + i + "]";
                Map<String, Object> rule = Json.object(rules.get(i), path);
                if (format == FORMAT_1 && rule.containsKey("presize")) {
                    throw new IllegalArgumentException(path + ".presize: format 1 has no presize (format "
                            + FORMAT_VERSION + " has)");
                }
                Json.refuseUnknown(rule, path, SITE_FIELDS);
                String site = Json.string(Json.required(rule, path, "site"), path + ".site");
                boolean longLived = Json.bool(Json.required(rule, path, "longLived"), path + ".longLived");
                boolean direct = Json.bool(Json.required(rule, path, "direct"), path + ".direct");
                long presize = format == FORMAT_1 ? 0
                        : Json.integer(Json.required(rule, path, "presize"), path + ".presize");
                // Range-checked here, not only by the rule, to name the field; it also makes the cast exact.
                if (presize != 0 && !isPoolGridSize(presize)) {
                    throw new IllegalArgumentException(path + ".presize: " + presize + " is neither 0 nor a pool size "
                            + POOL_SIZES);
                }
                SiteRule r = knob(path + ".site", name -> new SiteRule(name, longLived, direct, (int) presize), site);
                if (!seen.add(site)) {
                    throw new IllegalArgumentException(path + ".site: \"" + site + "\" has a rule already");
                }
                knob("policy.sites", b::site, r);
            }
        }
        return b.build();
    }

    /** Applies a builder setter (or constructor) whose range check names the knob, and prefixes the JSON path. */
    private static <T, R> R knob(String path, Function<T, R> setter, T value) {
        try {
            return setter.apply(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * The pools never round a request up by more than this factor (bridge classes only lower it).
     *
     * @return W_MAX, the largest ratio of a pool class to a request, in [{@value HakMemConfig#MIN_W_MAX},
     *         {@value HakMemConfig#MAX_W_MAX}]
     */
    public double wMax() {
        return wMax;
    }

    /**
     * Requests above this many bytes get a mapping of their own (the Big tier); the rest come from slabs.
     *
     * @return the threshold in bytes, a power of two from {@value #MIN_BIG_THRESHOLD} to {@value #MAX_BIG_THRESHOLD}
     */
    public long bigThreshold() {
        return bigThreshold;
    }

    /**
     * How many bytes of empty SuperSlabs and cached big mappings stay mapped for reuse.
     *
     * @return the retained bytes, from 0 to {@value #MAX_RETAIN_BYTES}
     */
    public long retainBytes() {
        return retainBytes;
    }

    /**
     * How long empty memory stays committed before it is given back with madvise.
     *
     * @return the delay in milliseconds, from 0 to {@value #MAX_PURGE_DELAY_MILLIS}
     */
    public long purgeDelayMillis() {
        return purgeDelayMillis;
    }

    /**
     * Extra pool classes: sizes at peaks of the size distribution that W_MAX's classes round up.
     *
     * @return a copy of the sizes in bytes, ascending, distinct, on the pool grid; at most
     *         {@value #MAX_BRIDGE_CLASSES}, often none
     */
    public int[] bridgeClasses() {
        return bridgeClasses.clone();
    }

    /**
     * The rules of named sites, in the order they were added.
     *
     * @return an unmodifiable map from site name to rule
     */
    public Map<String, SiteRule> sites() {
        return sites;
    }

    /**
     * The rule of a site.
     *
     * @param name the site's name
     * @return the site's rule, or null when it has none
     */
    public SiteRule site(String name) {
        return sites.get(name);
    }

    /**
     * Whether {@code size} is on the pool grid: above 1 KiB, at most 1 MiB, a multiple of 64 with 5 significant bits.
     *
     * @param size a size in bytes, any value
     * @return true when {@code size} may be a bridge class or a site rule's {@code presize}
     */
    public static boolean isPoolGridSize(long size) {
        if (size <= POOL_MIN || size > MAX_BIG_THRESHOLD || size % 64 != 0) {
            return false;
        }
        int significant = 64 - Long.numberOfLeadingZeros(size) - Long.numberOfTrailingZeros(size);
        return significant <= GRID_BITS;
    }

    /**
     * What a site's profile decided for it.
     *
     * @param site      the site's name
     * @param longLived its blocks live long: they get slabs apart from short-lived blocks, so that a few survivors do
     *                  not pin slabs the short-lived blocks would empty
     * @param direct    its blocks above 64 KiB are mapped directly instead of coming from the pools
     * @param presize   0, or a pool size ({@link #isPoolGridSize}) that this site's requests of at most that many
     *                  bytes are served from when the active classes would round them up further: a class of the
     *                  site's own at the peak of its sizes, which the heap's grid already holds (a bridge class for
     *                  one site)
     */
    public record SiteRule(String site, boolean longLived, boolean direct, int presize) {
        /**
         * Checks a rule.
         *
         * @throws NullPointerException when {@code site} is null
         * @throws IllegalArgumentException when {@code site} does not have 1 to 512 characters, or {@code presize} is
         *                                  neither 0 nor a pool size
         */
        public SiteRule {
            Objects.requireNonNull(site, "site");
            if (site.isEmpty() || site.length() > 512) {
                // A name past the bound is quoted by its start and length only: it may be any size at all.
                throw new IllegalArgumentException("sites: a site name must have 1 to 512 characters: "
                        + (site.isEmpty() ? "\"\"" : "\"" + site.substring(0, 64) + "\"... (" + site.length()
                        + " characters)"));
            }
            if (presize != 0 && !isPoolGridSize(presize)) {
                throw new IllegalArgumentException("sites: presize must be 0 or a pool size " + POOL_SIZES + ": "
                        + presize);
            }
        }

        /**
         * A rule with no pre-sized class.
         *
         * @param site      the site's name, 1 to 512 characters
         * @param longLived whether its blocks live long (see {@link #longLived()})
         * @param direct    whether its blocks above 64 KiB are mapped directly
         * @throws IllegalArgumentException when {@code site} does not have 1 to 512 characters
         */
        public SiteRule(String site, boolean longLived, boolean direct) {
            this(site, longLived, direct, 0);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Policy p && Double.compare(wMax, p.wMax) == 0 && bigThreshold == p.bigThreshold
                && retainBytes == p.retainBytes && purgeDelayMillis == p.purgeDelayMillis
                && Arrays.equals(bridgeClasses, p.bridgeClasses) && sites.equals(p.sites);
    }

    @Override
    public int hashCode() {
        return Objects.hash(wMax, bigThreshold, retainBytes, purgeDelayMillis, Arrays.hashCode(bridgeClasses), sites);
    }

    @Override
    public String toString() {
        return "Policy[wMax=" + wMax + ", bigThreshold=" + bigThreshold + ", retainBytes=" + retainBytes
                + ", purgeDelayMillis=" + purgeDelayMillis + ", bridgeClasses=" + Arrays.toString(bridgeClasses)
                + ", sites=" + sites.values() + "]";
    }

    /** Builds a policy; each setter refuses an out-of-range value with IllegalArgumentException naming the knob. */
    public static final class Builder {
        private double wMax = 1.25;
        private long bigThreshold = MAX_BIG_THRESHOLD;
        private long retainBytes = 64L << 20;
        private long purgeDelayMillis = 250;
        private int[] bridgeClasses = new int[0];
        private final Map<String, SiteRule> sites = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * Sets W_MAX (see {@link Policy#wMax()}).
         *
         * @param w the largest ratio of a pool class to a request, in [{@value HakMemConfig#MIN_W_MAX},
         *          {@value HakMemConfig#MAX_W_MAX}]
         * @return this builder
         * @throws IllegalArgumentException when {@code w} is out of range or NaN
         */
        public Builder wMax(double w) {
            if (!(w >= HakMemConfig.MIN_W_MAX && w <= HakMemConfig.MAX_W_MAX)) {
                throw new IllegalArgumentException("wMax must be in [" + HakMemConfig.MIN_W_MAX + ", "
                        + HakMemConfig.MAX_W_MAX + "]: " + w);
            }
            this.wMax = w;
            return this;
        }

        /**
         * Sets the big threshold (see {@link Policy#bigThreshold()}).
         *
         * @param bytes a power of two from {@value Policy#MIN_BIG_THRESHOLD} to {@value Policy#MAX_BIG_THRESHOLD}
         * @return this builder
         * @throws IllegalArgumentException when {@code bytes} is out of range or not a power of two
         */
        public Builder bigThreshold(long bytes) {
            if (bytes < MIN_BIG_THRESHOLD || bytes > MAX_BIG_THRESHOLD || Long.bitCount(bytes) != 1) {
                throw new IllegalArgumentException("bigThreshold must be a power of two in [" + MIN_BIG_THRESHOLD
                        + ", " + MAX_BIG_THRESHOLD + "]: " + bytes);
            }
            this.bigThreshold = bytes;
            return this;
        }

        /**
         * Sets how many bytes of empty memory stay mapped (see {@link Policy#retainBytes()}).
         *
         * @param bytes from 0 to {@value Policy#MAX_RETAIN_BYTES}
         * @return this builder
         * @throws IllegalArgumentException when {@code bytes} is out of range
         */
        public Builder retainBytes(long bytes) {
            if (bytes < 0 || bytes > MAX_RETAIN_BYTES) {
                throw new IllegalArgumentException("retainBytes must be in [0, " + MAX_RETAIN_BYTES + "]: " + bytes);
            }
            this.retainBytes = bytes;
            return this;
        }

        /**
         * Sets the purge delay (see {@link Policy#purgeDelayMillis()}).
         *
         * @param millis milliseconds, from 0 to {@value Policy#MAX_PURGE_DELAY_MILLIS}
         * @return this builder
         * @throws IllegalArgumentException when {@code millis} is out of range
         */
        public Builder purgeDelayMillis(long millis) {
            if (millis < 0 || millis > MAX_PURGE_DELAY_MILLIS) {
                throw new IllegalArgumentException("purgeDelayMillis must be in [0, " + MAX_PURGE_DELAY_MILLIS + "]: "
                        + millis);
            }
            this.purgeDelayMillis = millis;
            return this;
        }

        /**
         * Sets the bridge classes (see {@link Policy#bridgeClasses()}), replacing any set before.
         *
         * @param sizes sizes in bytes on the pool grid ({@link #isPoolGridSize}), distinct, in any order, at most
         *              {@value #MAX_BRIDGE_CLASSES}; kept sorted (the array is copied)
         * @return this builder
         * @throws IllegalArgumentException when a size is off the grid or repeated, or there are too many
         */
        public Builder bridgeClasses(int... sizes) {
            int[] sorted = sizes.clone();
            Arrays.sort(sorted);
            if (sorted.length > MAX_BRIDGE_CLASSES) {
                throw new IllegalArgumentException("bridgeClasses: at most " + MAX_BRIDGE_CLASSES + ", not "
                        + sorted.length);
            }
            for (int i = 0; i < sorted.length; i++) {
                if (!isPoolGridSize(sorted[i])) {
                    throw new IllegalArgumentException("bridgeClasses: " + sorted[i] + " is not a pool size "
                            + POOL_SIZES);
                }
                if (i > 0 && sorted[i] == sorted[i - 1]) {
                    throw new IllegalArgumentException("bridgeClasses: " + sorted[i] + " appears twice");
                }
            }
            this.bridgeClasses = sorted;
            return this;
        }

        /**
         * Adds or replaces the rule of {@code rule.site()}.
         *
         * @param rule the rule
         * @return this builder
         * @throws NullPointerException when {@code rule} is null
         * @throws IllegalArgumentException when the rule is new and the builder already has {@value #MAX_SITES}
         */
        public Builder site(SiteRule rule) {
            Objects.requireNonNull(rule, "rule");
            if (!sites.containsKey(rule.site()) && sites.size() == MAX_SITES) {
                throw new IllegalArgumentException("sites: at most " + MAX_SITES);
            }
            sites.put(rule.site(), rule);
            return this;
        }

        /**
         * Removes every site rule.
         *
         * @return this builder
         */
        public Builder clearSites() {
            sites.clear();
            return this;
        }

        /**
         * Builds the policy; the builder may be changed and used again afterwards.
         *
         * @return a new immutable policy with this builder's knobs and rules
         */
        public Policy build() {
            return new Policy(this);
        }
    }
}
