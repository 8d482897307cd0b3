package dev.hakmem.json;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A small, strict JSON codec (RFC 8259) for the files the allocator reads and writes itself, a saved
 * {@link dev.hakmem.Policy} first: the allocator has no third-party run-time dependency, so it carries its own.
 * Values are plain Java objects:
 *
 * <pre>
 *   object      -&gt; Map&lt;String, Object&gt;  (a LinkedHashMap: members in document order)
 *   array       -&gt; List&lt;Object&gt;
 *   string      -&gt; String
 *   number      -&gt; BigDecimal           (exact: 1.25 stays 1.25 and 2^70 stays 2^70; {@link #write} also takes
 *                                        Integer, Long and finite Double)
 *   true, false -&gt; Boolean
 *   null        -&gt; null
 * </pre>
 *
 * <p>Strict: {@link #read} refuses everything RFC 8259's grammar refuses (comments, single quotes, trailing commas,
 * leading zeros, {@code +1}, {@code .5}, NaN, unescaped control characters, a byte order mark, anything after the
 * value), and also what the RFC leaves to implementations (section 4: names SHOULD be unique; section 9: limits on
 * size, nesting and numbers): duplicate names, nesting deeper than {@value #MAX_DEPTH} containers, texts longer than
 * {@value #MAX_CHARS} characters, numbers longer than {@value #MAX_NUMBER_CHARS} characters. A file that breaks
 * these was not written by {@link #write}, which never does.
 *
 * <p>Every refusal is an {@link IllegalArgumentException} whose message starts with the path of the value at fault,
 * from the root name the caller gives ({@code policy.sites[2].site}), and ends with the line and column.
 */
public final class Json {
    /** The most containers nested in one another; a policy needs three. */
    public static final int MAX_DEPTH = 16;
    /** The longest text read, in characters (1 MiB): a policy with every site rule takes less than 100 KiB. */
    public static final int MAX_CHARS = 1 << 20;
    /** The longest number: enough for any long or double, and no quadratic BigDecimal parsing of huge literals. */
    public static final int MAX_NUMBER_CHARS = 100;
    /** Member names longer than this are shortened in paths, so that a message stays readable. */
    private static final int MAX_NAME_IN_PATH = 40;

    private Json() {
    }

    /**
     * Reads one JSON text.
     *
     * @param root the name of the whole value in messages, e.g. {@code "policy"}
     * @throws IllegalArgumentException naming the path of the value at fault, if the text is not strict JSON
     */
    public static Object read(String text, String root) {
        Objects.requireNonNull(text, "text");
        if (text.length() > MAX_CHARS) {
            throw new IllegalArgumentException(root + ": longer than " + MAX_CHARS + " characters: " + text.length());
        }
        Reader r = new Reader(text);
        Object value = r.value(root, 0);
        r.skipWhitespace();
        if (r.pos != text.length()) {
            throw r.error(root, "unexpected " + r.describeNext() + " after the value");
        }
        return value;
    }

    /**
     * Writes a value as JSON: two-space indentation, one member per line, except that a container holding no
     * container is written on one line ({@code [40960]}, {@code {"site": "parser", "longLived": false}}).
     *
     * @throws IllegalArgumentException for a value that is not one of the types above (or a NaN or infinite Double)
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, 0);
        return sb.toString();
    }

    // ---- typed access to what read returned; each refusal names the path ----

    /** The members of an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> object(Object value, String path) {
        if (value instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw typeError(path, "an object", value);
    }

    @SuppressWarnings("unchecked")
    public static List<Object> array(Object value, String path) {
        if (value instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw typeError(path, "an array", value);
    }

    public static String string(Object value, String path) {
        if (value instanceof String s) {
            return s;
        }
        throw typeError(path, "a string", value);
    }

    public static boolean bool(Object value, String path) {
        if (value instanceof Boolean b) {
            return b;
        }
        throw typeError(path, "true or false", value);
    }

    /** A number with no fractional part ({@code 250}, also {@code 250.0} or {@code 2.5e2}) that fits a long. */
    public static long integer(Object value, String path) {
        if (!(value instanceof BigDecimal n)) {
            throw typeError(path, "an integer", value);
        }
        if (n.signum() != 0 && n.scale() > 0 && n.stripTrailingZeros().scale() > 0) {
            throw new IllegalArgumentException(path + ": expected an integer, not " + n);
        }
        try {
            return n.longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(path + ": out of the range of a long: " + n, e);
        }
    }

    /** The double nearest to a number (infinite beyond the range of a double: the caller's range check refuses it). */
    public static double number(Object value, String path) {
        if (value instanceof BigDecimal n) {
            return n.doubleValue();
        }
        throw typeError(path, "a number", value);
    }

    /**
     * Refuses the first member of {@code members} whose name is not in {@code known}.
     *
     * @throws IllegalArgumentException naming the unknown member's path and the names known
     */
    public static void refuseUnknown(Map<String, Object> members, String path, List<String> known) {
        for (String name : members.keySet()) {
            if (!known.contains(name)) {
                throw new IllegalArgumentException(member(path, name) + ": unknown field (known: "
                        + String.join(", ", known) + ")");
            }
        }
    }

    /**
     * A required member.
     *
     * @throws IllegalArgumentException naming the member's path when it is absent
     */
    public static Object required(Map<String, Object> members, String path, String name) {
        if (!members.containsKey(name)) {
            throw new IllegalArgumentException(member(path, name) + ": missing");
        }
        return members.get(name);
    }

    /**
     * The path of member {@code name} of the object at {@code path}: {@code path.name} for a short identifier,
     * else {@code path["name"]}, quoted as JSON and shortened, so that any name gives a readable, unambiguous path.
     */
    public static String member(String path, String name) {
        if (name.length() <= MAX_NAME_IN_PATH && isIdentifier(name)) {
            return path + "." + name;
        }
        StringBuilder sb = new StringBuilder(path).append('[');
        quote(sb, name.length() <= MAX_NAME_IN_PATH ? name : name.substring(0, MAX_NAME_IN_PATH) + "...");
        return sb.append(']').toString();
    }

    private static boolean isIdentifier(String name) {
        if (name.isEmpty() || !Character.isJavaIdentifierStart(name.charAt(0)) || name.charAt(0) > 0x7f) {
            return false;
        }
        for (int i = 1; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c > 0x7f || !Character.isJavaIdentifierPart(c)) {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException typeError(String path, String wanted, Object found) {
        return new IllegalArgumentException(path + ": expected " + wanted + ", not " + kind(found));
    }

    private static String kind(Object value) {
        return switch (value) {
            case null -> "null";
            case Map<?, ?> _ -> "an object";
            case List<?> _ -> "an array";
            case String _ -> "a string";
            case Boolean b -> b.toString();
            case BigDecimal n -> n.toString().length() <= MAX_NAME_IN_PATH ? "the number " + n : "a number";
            default -> value.getClass().getName();
        };
    }

    // ---- writer ----

    private static void write(StringBuilder sb, Object value, int indent) {
        switch (value) {
            case null -> sb.append("null");
            case Boolean b -> sb.append(b);
            case String s -> quote(sb, s);
            case Integer i -> sb.append(i);
            case Long l -> sb.append(l);
            case BigDecimal n -> sb.append(n);
            case Double d -> {
                if (!Double.isFinite(d)) {
                    throw new IllegalArgumentException("JSON has no " + d);
                }
                // Double.toString gives the shortest decimal that reads back as the same double (JDK 19+), in a
                // form JSON's grammar accepts: 1.25, 1.0E-5.
                sb.append(d);
            }
            case Map<?, ?> m -> writeContainer(sb, '{', '}', m.entrySet(), indent, m.values().stream()
                    .anyMatch(Json::isContainer));
            case List<?> l -> writeContainer(sb, '[', ']', l, indent, l.stream().anyMatch(Json::isContainer));
            default -> throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    private static boolean isContainer(Object value) {
        return value instanceof Map<?, ?> || value instanceof List<?>;
    }

    private static void writeContainer(StringBuilder sb, char open, char close, Iterable<?> items, int indent,
                                       boolean multiLine) {
        sb.append(open);
        boolean first = true;
        for (Object item : items) {
            sb.append(first ? "" : ",");
            if (multiLine) {
                sb.append('\n').repeat(' ', indent + 2);
            } else if (!first) {
                sb.append(' ');
            }
            first = false;
            if (item instanceof Map.Entry<?, ?> e) {
                if (!(e.getKey() instanceof String name)) {
                    throw new IllegalArgumentException("a JSON member name must be a string: " + e.getKey());
                }
                quote(sb, name);
                sb.append(": ");
                write(sb, e.getValue(), indent + 2);
            } else {
                write(sb, item, indent + 2);
            }
        }
        if (multiLine && !first) {
            sb.append('\n').repeat(' ', indent);
        }
        sb.append(close);
    }

    /** Escapes what must be escaped, and lone surrogates, which UTF-8 cannot encode; the rest is written as is. */
    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || Character.isSurrogate(c) && !pairedAt(s, i)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c)) {
                        sb.append(c).append(s.charAt(++i));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Whether the surrogate at {@code i} is the high half of a pair (the low half is consumed with it). */
    private static boolean pairedAt(String s, int i) {
        return Character.isHighSurrogate(s.charAt(i)) && i + 1 < s.length()
                && Character.isLowSurrogate(s.charAt(i + 1));
    }

    // ---- reader ----

    /** Recursive descent over the text; the recursion is bounded by {@link #MAX_DEPTH}. */
    private static final class Reader {
        private final String text;
        private int pos;

        Reader(String text) {
            this.text = text;
        }

        Object value(String path, int depth) {
            skipWhitespace();
            if (pos == text.length()) {
                throw error(path, "expected a value, found the end of the text");
            }
            char c = text.charAt(pos);
            return switch (c) {
                case '{' -> object(path, enter(path, depth));
                case '[' -> array(path, enter(path, depth));
                case '"' -> string(path);
                case 't' -> literal(path, "true", Boolean.TRUE);
                case 'f' -> literal(path, "false", Boolean.FALSE);
                case 'n' -> literal(path, "null", null);
                default -> {
                    if (c == '-' || c >= '0' && c <= '9') {
                        yield number(path);
                    }
                    throw error(path, "expected a value, found " + describeNext());
                }
            };
        }

        private int enter(String path, int depth) {
            if (depth == MAX_DEPTH) {
                throw error(path, "nested deeper than " + MAX_DEPTH + " containers");
            }
            return depth + 1;
        }

        private Map<String, Object> object(String path, int depth) {
            pos++;
            Map<String, Object> members = new LinkedHashMap<>();
            skipWhitespace();
            if (next() == '}') {
                pos++;
                return members;
            }
            while (true) {
                skipWhitespace();
                if (next() != '"') {
                    throw error(path, "expected a member name in double quotes, found " + describeNext());
                }
                int nameAt = pos;
                String name = string(path);
                String memberPath = member(path, name);
                if (members.containsKey(name)) {
                    pos = nameAt;
                    throw error(memberPath, "duplicate name");
                }
                skipWhitespace();
                expect(':', memberPath);
                members.put(name, value(memberPath, depth));
                skipWhitespace();
                if (next() == '}') {
                    pos++;
                    return members;
                }
                expect(',', path, "',' or '}'");
            }
        }

        private List<Object> array(String path, int depth) {
            pos++;
            List<Object> items = new ArrayList<>();
            skipWhitespace();
            if (next() == ']') {
                pos++;
                return items;
            }
            while (true) {
                items.add(value(path + "[" + items.size() + "]", depth));
                skipWhitespace();
                if (next() == ']') {
                    pos++;
                    return items;
                }
                expect(',', path, "',' or ']'");
            }
        }

        private String string(String path) {
            pos++;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos == text.length()) {
                    throw error(path, "unterminated string");
                }
                char c = text.charAt(pos);
                if (c == '"') {
                    pos++;
                    return sb.toString();
                }
                if (c < 0x20) {
                    throw error(path, String.format("control character U+%04X in a string (escape it)", (int) c));
                }
                if (c == '\\') {
                    sb.append(escape(path));
                } else {
                    sb.append(c);
                    pos++;
                }
            }
        }

        /** One escape sequence, the backslash at {@code pos}. */
        private char escape(String path) {
            if (pos + 1 == text.length()) {
                throw error(path, "unterminated string");
            }
            char c = text.charAt(pos + 1);
            pos += 2;
            return switch (c) {
                case '"', '\\', '/' -> c;
                case 'b' -> '\b';
                case 'f' -> '\f';
                case 'n' -> '\n';
                case 'r' -> '\r';
                case 't' -> '\t';
                case 'u' -> {
                    int v = 0;
                    for (int i = 0; i < 4; i++, pos++) {
                        int digit = pos < text.length() ? Character.digit(text.charAt(pos), 16) : -1;
                        if (digit < 0) {
                            throw error(path, "\\u needs four hexadecimal digits");
                        }
                        v = v << 4 | digit;
                    }
                    yield (char) v;
                }
                default -> {
                    pos -= 2;
                    throw error(path, "invalid escape \\" + c);
                }
            };
        }

        /** {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?}, RFC 8259 section 6. */
        private BigDecimal number(String path) {
            int start = pos;
            if (next() == '-') {
                pos++;
            }
            if (next() == '0') {
                pos++;
            } else {
                digits(path, "a digit");
            }
            if (next() == '.') {
                pos++;
                digits(path, "a digit after the decimal point");
            }
            if (next() == 'e' || next() == 'E') {
                pos++;
                if (next() == '+' || next() == '-') {
                    pos++;
                }
                digits(path, "a digit in the exponent");
            }
            if (pos - start > MAX_NUMBER_CHARS) {
                pos = start;
                throw error(path, "a number longer than " + MAX_NUMBER_CHARS + " characters");
            }
            try {
                return new BigDecimal(text.substring(start, pos));
            } catch (NumberFormatException e) {
                pos = start;
                throw error(path, "a number out of range (its exponent is beyond an int)");
            }
        }

        private void digits(String path, String wanted) {
            int start = pos;
            while (next() >= '0' && next() <= '9') {
                pos++;
            }
            if (pos == start) {
                throw error(path, "expected " + wanted + ", found " + describeNext());
            }
        }

        private Object literal(String path, String word, Object value) {
            if (!text.startsWith(word, pos)) {
                throw error(path, "expected a value, found " + describeNext());
            }
            pos += word.length();
            return value;
        }

        private void expect(char c, String path) {
            expect(c, path, "'" + c + "'");
        }

        private void expect(char c, String path, String wanted) {
            if (next() != c) {
                throw error(path, "expected " + wanted + ", found " + describeNext());
            }
            pos++;
        }

        /** The character at {@code pos}, or 0 at the end (0 is never valid where next() is asked). */
        private char next() {
            return pos < text.length() ? text.charAt(pos) : 0;
        }

        void skipWhitespace() {
            while (pos < text.length()) {
                char c = text.charAt(pos);
                if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                    return;
                }
                pos++;
            }
        }

        String describeNext() {
            if (pos == text.length()) {
                return "the end of the text";
            }
            char c = text.charAt(pos);
            return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
        }

        /** A refusal at {@code pos}, with its line and column (both from 1; a column counts UTF-16 chars). */
        IllegalArgumentException error(String path, String what) {
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < pos; i++) {
                if (text.charAt(i) == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            return new IllegalArgumentException(path + ": " + what + " at line " + line + ", column "
                    + (pos - lineStart + 1));
        }
    }
}
