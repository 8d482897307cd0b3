package dev.hakmem.fuzz;

import dev.hakmem.HakMemConfig;
import dev.hakmem.Policy;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A saved policy is the one input a heap reads from outside at start ({@code hakmem.policy}), so its reader is fuzzed
 * three ways, each against a general rule rather than an expected text:
 * <ul>
 * <li>every valid policy round-trips: {@code fromJson(p.toJson()).equals(p)}, and the text is canonical;</li>
 * <li>whatever a mutated, truncated or garbage text gives, it is a valid policy (one {@link Policy.Builder} accepts
 *     as it is, and which round-trips) or an IllegalArgumentException naming a path under {@code policy}: never
 *     another exception, never a hang;</li>
 * <li>a field set to any JSON value is read exactly when an independent oracle (BigDecimal arithmetic and the
 *     builder's own range checks) says the value is of the field's type and in range, to exactly that value, and
 *     refused naming that field otherwise. Integers are drawn also beyond a long, at a multiple of 2^64 from an
 *     in-range value, where a reader that narrows instead of checking would read them as the in-range value.</li>
 * </ul>
 */
@AddLifecycleHook(FuzzScale.class)
class PolicyJsonProperties {

    private static final List<Integer> GRID = IntStream.rangeClosed(1025, (int) Policy.MAX_BIG_THRESHOLD)
            .filter(Policy::isPoolGridSize).boxed().toList();
    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);
    /** RFC 8259's number grammar: what the oracle treats as a number. */
    private static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");

    @Property(tries = 200)
    void everyValidPolicyRoundTrips(@ForAll("policies") Policy p) {
        String json = p.toJson();
        Policy read = Policy.fromJson(json);
        assertEquals(p, read);
        assertEquals(json, read.toJson(), "one text per policy");
    }

    @Property(tries = 500)
    void aMutatedTextGivesAValidPolicyOrARefusalNamingAField(@ForAll("policies") Policy p,
                                                             @ForAll("edits") List<Edit> edits) {
        String text = p.toJson();
        for (Edit e : edits) {
            text = e.apply(text);
        }
        checkReadOrRefused(text);
        // Both outcomes must occur, or the edits have stopped testing one side of the rule.
        Statistics.coverage(c -> {
            c.check("read").count(n -> n > 0);
            c.check("refused").count(n -> n > 0);
        });
    }

    @Property(tries = 300)
    void garbageGivesAValidPolicyOrARefusal(@ForAll("garbage") String text) {
        checkReadOrRefused(text);
    }

    @Property(tries = 1000)
    void aFieldIsReadExactlyWhenItsValueIsWellTypedAndInRange(@ForAll("policies") Policy policy,
                                                             @ForAll Field field, @ForAll("values") String literal) {
        Policy p = field.ofFirstSite && policy.sites().isEmpty()
                ? policy.toBuilder().site(new Policy.SiteRule("s", false, false)).build() : policy;
        String text = field.set(p.toJson(), literal);
        Optional<Policy> expected = field.expected(p, literal);
        Statistics.collect(field, expected.isPresent() ? "read" : "refused");
        if (expected.isPresent()) {
            assertEquals(expected.get(), Policy.fromJson(text), text);
        } else {
            try {
                Policy read = Policy.fromJson(text);
                fail(field.path + " = " + literal + " was read as " + read + "; the oracle refuses it");
            } catch (IllegalArgumentException e) {
                String path = field.refusedAt(p, literal);
                assertTrue(e.getMessage().startsWith(path + ":") || e.getMessage().startsWith(path + "["),
                        path + " = " + literal + ": " + e);
            }
        }
    }

    /** The general rule: a valid policy, or an IllegalArgumentException naming a path; nothing else, and soon. */
    private static void checkReadOrRefused(String text) {
        Object outcome = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            try {
                return Policy.fromJson(text);
            } catch (IllegalArgumentException e) {
                return e;
            }
        }, () -> "no answer in 10 s for " + text);
        if (outcome instanceof Policy q) {
            Statistics.collect("read");
            assertEquals(q, q.toBuilder().build(), "a policy read is one the builder accepts as it is");
            assertEquals(q, Policy.fromJson(q.toJson()));
        } else {
            Statistics.collect("refused");
            String message = ((IllegalArgumentException) outcome).getMessage();
            assertTrue(message.startsWith("policy.") || message.startsWith("policy[") || message.startsWith("policy:"),
                    message);
        }
    }

    // ---- the fields the oracle knows ----

    enum Field {
        FORMAT("policy.format"), WMAX("policy.wMax"), BIG_THRESHOLD("policy.bigThreshold"),
        RETAIN_BYTES("policy.retainBytes"), PURGE_DELAY("policy.purgeDelayMillis"),
        /** A one-element bridgeClasses array. */
        BRIDGE_CLASS("policy.bridgeClasses"),
        /** The first site's longLived. */
        LONG_LIVED("policy.sites[0].longLived"),
        /** The first site's presize. */
        PRESIZE("policy.sites[0].presize");

        final String path;
        /** A field of the first site rule: the policy is given one if it has none. */
        final boolean ofFirstSite;

        Field(String path) {
            this.path = path;
            this.ofFirstSite = path.startsWith("policy.sites[0].");
        }

        /**
         * The field a refusal must name: this one, except a format 1 text with site rules, refused at the first
         * rule's presize, which format 1 does not have.
         */
        String refusedAt(Policy p, String literal) {
            return this == FORMAT && integer(literal).filter(v -> v == 1).isPresent() && !p.sites().isEmpty()
                    ? PRESIZE.path : path;
        }

        /** The text with this field's value replaced by {@code literal}. */
        String set(String json, String literal) {
            String name = path.substring(path.lastIndexOf('.') + 1);
            String pattern = this == BRIDGE_CLASS ? "\"bridgeClasses\": \\[[^\\]]*\\]"
                    : "\"" + name + "\": [^,\\n}]*";
            String value = this == BRIDGE_CLASS ? "[" + literal + "]" : literal;
            Matcher m = Pattern.compile(pattern).matcher(json);
            assertTrue(m.find(), name);
            return json.substring(0, m.start()) + "\"" + name + "\": " + value + json.substring(m.end());
        }

        /** What reading the text must give: the policy with the field set, or empty for a refusal. */
        Optional<Policy> expected(Policy p, String literal) {
            return switch (this) {
                // Format 1 is format 2 without the site rules' presize: the same text reads as it only with no rule.
                case FORMAT -> integer(literal).filter(v -> v == Policy.FORMAT_VERSION || v == 1 && p.sites().isEmpty())
                        .map(v -> p);
                case WMAX -> number(literal).flatMap(n -> built(b -> b.wMax(n.doubleValue()), p));
                case BIG_THRESHOLD -> integer(literal).flatMap(v -> built(b -> b.bigThreshold(v), p));
                case RETAIN_BYTES -> integer(literal).flatMap(v -> built(b -> b.retainBytes(v), p));
                case PURGE_DELAY -> integer(literal).flatMap(v -> built(b -> b.purgeDelayMillis(v), p));
                case BRIDGE_CLASS -> integer(literal).filter(v -> v == (int) (long) v)
                        .flatMap(v -> built(b -> b.bridgeClasses((int) (long) v), p));
                case LONG_LIVED -> literal.equals("true") || literal.equals("false")
                        ? Optional.of(p.toBuilder().site(new Policy.SiteRule(p.sites().keySet().iterator().next(),
                        Boolean.parseBoolean(literal), first(p).direct(), first(p).presize())).build())
                        : Optional.empty();
                case PRESIZE -> integer(literal).filter(v -> v == 0 || Policy.isPoolGridSize(v))
                        .map(v -> p.toBuilder().site(new Policy.SiteRule(first(p).site(), first(p).longLived(),
                                first(p).direct(), (int) (long) v)).build());
            };
        }

        private static Policy.SiteRule first(Policy p) {
            return p.sites().values().iterator().next();
        }

        private static Optional<BigDecimal> number(String literal) {
            return JSON_NUMBER.matcher(literal).matches() ? Optional.of(new BigDecimal(literal)) : Optional.empty();
        }

        /** The value of a number with no fractional part within a long's range. */
        private static Optional<Long> integer(String literal) {
            return number(literal).filter(n -> n.signum() == 0 || n.stripTrailingZeros().scale() <= 0)
                    .filter(n -> n.compareTo(BigDecimal.valueOf(Long.MIN_VALUE)) >= 0
                            && n.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0)
                    .map(BigDecimal::longValueExact);
        }

        /** The policy with one knob changed, or empty when the builder refuses the value. */
        private static Optional<Policy> built(Function<Policy.Builder, Policy.Builder> change, Policy p) {
            try {
                return Optional.of(change.apply(p.toBuilder()).build());
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    // ---- generators ----

    @Provide
    Arbitrary<Policy> policies() {
        Arbitrary<Double> wMax = Arbitraries.frequencyOf(
                Tuple.of(1, Arbitraries.of(HakMemConfig.MIN_W_MAX, 1.125, 1.25, 1.5, HakMemConfig.MAX_W_MAX)),
                // every double of the range, by its bits (positive doubles order as their bits do)
                Tuple.of(3, Arbitraries.longs().between(Double.doubleToLongBits(HakMemConfig.MIN_W_MAX),
                        Double.doubleToLongBits(HakMemConfig.MAX_W_MAX)).map(Double::longBitsToDouble)));
        Arbitrary<Long> bigThreshold = Arbitraries.integers().between(16, 20).map(k -> 1L << k);
        Arbitrary<Long> retain = Arbitraries.longs().between(0, Policy.MAX_RETAIN_BYTES);
        Arbitrary<Long> purge = Arbitraries.longs().between(0, Policy.MAX_PURGE_DELAY_MILLIS);
        Arbitrary<int[]> bridges = Arbitraries.of(GRID).set().ofMaxSize(Policy.MAX_BRIDGE_CLASSES)
                .map(s -> s.stream().mapToInt(Integer::intValue).toArray());
        Arbitrary<Integer> presize = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.of(GRID)));
        Arbitrary<List<Policy.SiteRule>> sites = Combinators.combine(
                        Arbitraries.strings().all().ofMinLength(1).ofMaxLength(40), Arbitraries.of(false, true),
                        Arbitraries.of(false, true), presize)
                .as(Policy.SiteRule::new).list().ofMaxSize(12).uniqueElements(Policy.SiteRule::site);
        return Combinators.combine(wMax, bigThreshold, retain, purge, bridges, sites).as((w, big, r, d, bc, s) -> {
            Policy.Builder b = Policy.builder().wMax(w).bigThreshold(big).retainBytes(r).purgeDelayMillis(d)
                    .bridgeClasses(bc);
            s.forEach(b::site);
            return b.build();
        });
    }

    /** One change to a text; positions are per-mille of its length, so that they shrink and stay in range. */
    record Edit(Kind kind, int at, int length, String insert) {
        enum Kind { DELETE, INSERT, REPLACE, COPY, TRUNCATE }

        String apply(String text) {
            int from = (int) ((long) at * text.length() / 1000);
            int to = Math.min(text.length(), from + length);
            return switch (kind) {
                case DELETE -> text.substring(0, from) + text.substring(to);
                case INSERT -> text.substring(0, from) + insert + text.substring(from);
                case REPLACE -> text.substring(0, from) + insert + text.substring(to);
                case COPY -> {
                    // a slice copied elsewhere: repeated members, repeated elements, nesting
                    int where = (int) ((long) (1000 - at) * text.length() / 1000);
                    yield text.substring(0, where) + text.substring(from, to) + text.substring(where);
                }
                case TRUNCATE -> text.substring(0, from);
            };
        }
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<String> tokens = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("{", "}", "[", "]", ",", ":", "\"", "\\", "-", "0", "9", ".", "e", "E", "+",
                        " ", "\n", "\t", "\u0000", "\u001f", "\uFEFF", "\u00A0", "\uD800", "'", "/", "true", "null",
                        "\\u", "\\uD83D", "\\\"")),
                Tuple.of(2, Arbitraries.of("\"wMax\": 1.5, ", "\"format\": 1, ", "\"format\": 3, ", "\"sites\": [], ",
                        "\"x\": {}, ", "\"presize\": 1088, ", "\"presize\": 1000, ",
                        "1e400", "-0", "1.0", "18446744073709551866", "1" + "0".repeat(120), "[[[[[[[[[[[[[[[[[",
                        "{\"site\": \"a\", \"longLived\": true, \"direct\": false, \"presize\": 0}, ")),
                Tuple.of(1, Arbitraries.strings().all().ofMaxLength(8)));
        return Combinators.combine(Arbitraries.of(Edit.Kind.class), Arbitraries.integers().between(0, 1000),
                        Arbitraries.integers().between(0, 40), tokens)
                .as(Edit::new).list().ofMinSize(1).ofMaxSize(4);
    }

    @Provide
    Arbitrary<String> garbage() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.strings().all().ofMaxLength(200)),
                Tuple.of(3, Arbitraries.strings().withChars("{}[],:\"\\-0123456789.eE+ truefalsn\n").ofMaxLength(200)),
                Tuple.of(1, Arbitraries.integers().between(1, 40).map(n -> "{\"sites\": " + "[".repeat(n))),
                Tuple.of(1, Arbitraries.integers().between(0, 4).map(n -> " ".repeat((1 << 20) - 2 + n) + "{}")));
    }

    /** JSON values for one field: integers of every size and form, fractions, and values of other types. */
    @Provide
    Arbitrary<String> values() {
        Arbitrary<BigInteger> near = Arbitraries.of(0L, 1L, -1L, 2L, 250L, 1024L, 1088L, 3968L, 4032L, 40960L, 60_000L,
                        60_001L, 65_536L, 100_000L, 1L << 20, (1L << 20) + 64, 2L << 20, Policy.MAX_RETAIN_BYTES,
                        Policy.MAX_RETAIN_BYTES + 1, (long) Integer.MAX_VALUE, 1L << 32, Long.MAX_VALUE, Long.MIN_VALUE)
                .map(BigInteger::valueOf);
        Arbitrary<BigInteger> integers = Arbitraries.frequencyOf(
                Tuple.of(4, near),
                Tuple.of(2, Arbitraries.longs().map(BigInteger::valueOf)),
                // beyond a long, congruent to an in-range value modulo 2^64
                Tuple.of(3, Combinators.combine(near, Arbitraries.of(-2, -1, 1, 2))
                        .as((v, k) -> v.add(TWO_64.multiply(BigInteger.valueOf(k))))),
                Tuple.of(1, Arbitraries.bigIntegers().between(BigInteger.TWO.pow(63), BigInteger.TWO.pow(200))));
        Arbitrary<String> integerForms = Combinators.combine(integers, Arbitraries.of(0, 1, 2, 3, 4)).as((v, form) ->
                switch (form) {
                    case 0, 1 -> v.toString();
                    case 2 -> v + ".0";
                    case 3 -> v.signum() == 0 ? "0e-1" : v + "0e-1";
                    default -> v.signum() == 0 ? "0e5" : new BigDecimal(v).movePointLeft(2) + "e2";
                });
        Arbitrary<String> fractions = Arbitraries.frequencyOf(
                Tuple.of(2, integers.map(v -> v + ".5")),
                Tuple.of(2, Arbitraries.longs().between(Double.doubleToLongBits(1.0), Double.doubleToLongBits(2.5))
                        .map(bits -> Double.toString(Double.longBitsToDouble(bits)))),
                Tuple.of(1, Arbitraries.of("1.0625", "1.06249999999999999999", "2.00000000000000000001", "125e-2",
                        "1e400", "-1e400", "1e-400", "0.0", "-0.0", "1E+0", "2e0")));
        Arbitrary<String> others = Arbitraries.of("true", "false", "null", "\"1\"", "\"\"", "[]", "[1]", "{}",
                "{\"v\": 1}");
        return Arbitraries.frequencyOf(Tuple.of(6, integerForms), Tuple.of(3, fractions), Tuple.of(2, others));
    }
}
