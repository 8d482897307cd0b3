package dev.hakmem.json;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JsonTest {

    private static String refusal(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Json.read(text, "x"), text).getMessage();
    }

    @Test
    void readsEveryKindOfValueExactlyAndInOrder() {
        Object v = Json.read(" {\"b\": [1.25, -0, 1180591620717411303424, 2.5E-3, true, false, null],\r\n\t\"a\": "
                + "{\"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\", \"e\": {}, \"l\": []}} ", "x");
        Map<String, Object> root = Json.object(v, "x");
        assertEquals(List.of("b", "a"), List.copyOf(root.keySet()), "members in document order");
        List<Object> b = Json.array(root.get("b"), "x.b");
        assertEquals(new BigDecimal("1.25"), b.get(0));
        assertEquals(new BigDecimal("0"), b.get(1));
        assertEquals(BigDecimal.TWO.pow(70), b.get(2), "2^70 stays exact");
        assertEquals(new BigDecimal("2.5E-3"), b.get(3));
        assertEquals(Arrays.asList(true, false, null), b.subList(4, 7));
        Map<String, Object> a = Json.object(root.get("a"), "x.a");
        assertEquals("q\"\\/\b\f\n\r\t\u00e9\uD83D\uDE00", a.get("s"));
        assertEquals(Map.of(), a.get("e"));
        assertEquals(List.of(), a.get("l"));
        assertEquals("plain", Json.read("\"plain\"", "x"), "any value may be the whole text");
        assertEquals(Map.of("e", Map.of(), "l", List.of()), Json.read("{\"e\": { }, \"l\": [\n]}", "x"),
                "whitespace inside empty containers");
        assertEquals("\uD800", Json.read("\"\\uD800\"", "x"), "the grammar allows a lone surrogate escaped");
    }

    @ParameterizedTest(name = "{index}: {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "``                    | x: expected a value, found the end of the text at line 1, column 1",
            "`  `                  | x: expected a value, found the end of the text at line 1, column 3",
            "{\"a\":1,}            | x: expected a member name in double quotes, found '}' at line 1, column 8",
            "[1,]                  | x[1]: expected a value, found ']' at line 1, column 4",
            "[1 2]                 | x: expected ',' or ']', found '2' at line 1, column 4",
            "{\"a\" 1}             | x.a: expected ':', found '1' at line 1, column 6",
            "{\"a\":1 \"b\":2}     | x: expected ',' or '}', found '\"' at line 1, column 8",
            "{a:1}                 | x: expected a member name in double quotes, found 'a' at line 1, column 2",
            "{'a':1}               | x: expected a member name in double quotes, found ''' at line 1, column 2",
            "01                    | x: unexpected '1' after the value at line 1, column 2",
            "+1                    | x: expected a value, found '+' at line 1, column 1",
            ".5                    | x: expected a value, found '.' at line 1, column 1",
            "-                     | x: expected a digit, found the end of the text at line 1, column 2",
            "-a                    | x: expected a digit, found 'a' at line 1, column 2",
            "1.                    | x: expected a digit after the decimal point, found the end of the text at line 1, column 3",
            "1.e5                  | x: expected a digit after the decimal point, found 'e' at line 1, column 3",
            "1e                    | x: expected a digit in the exponent, found the end of the text at line 1, column 3",
            "1e+                   | x: expected a digit in the exponent, found the end of the text at line 1, column 4",
            "1e99999999999         | x: a number out of range (its exponent is beyond an int) at line 1, column 1",
            "NaN                   | x: expected a value, found 'N' at line 1, column 1",
            "Infinity              | x: expected a value, found 'I' at line 1, column 1",
            "-Infinity             | x: expected a digit, found 'I' at line 1, column 2",
            "tru                   | x: expected a value, found 't' at line 1, column 1",
            "nul                   | x: expected a value, found 'n' at line 1, column 1",
            "truex                 | x: unexpected 'x' after the value at line 1, column 5",
            "[true]]               | x: unexpected ']' after the value at line 1, column 7",
            "// c\\n1              | x: expected a value, found '/' at line 1, column 1",
            "\"abc                 | x: unterminated string at line 1, column 5",
            "\"ab\\                | x: unterminated string at line 1, column 4",
            "\"a\\xb\"             | x: invalid escape \\x at line 1, column 3",
            "\"\\u12G4\"           | x: \\u needs four hexadecimal digits at line 1, column 6",
            "\"\\u12\"             | x: \\u needs four hexadecimal digits at line 1, column 6",
            "{\"a\":1,\"a\":2}     | x.a: duplicate name at line 1, column 8",
            "{\"a\":{\"b\":[0, {\"c\":1,\"c\":1}]}} | x.a.b[1].c: duplicate name at line 1, column 22",
            "{\"a b\":1,\"a b\":2} | x[\"a b\"]: duplicate name at line 1, column 10",
    })
    void refusesWhatRfc8259RefusesAndWhatItLeavesOpenNamingThePlace(String text, String message) {
        assertEquals(message, refusal(text.replace("\\n", "\n")));
    }

    @Test
    void refusesControlCharactersAByteOrderMarkAndOtherWhitespace() {
        assertEquals("x.a: control character U+000A in a string (escape it) at line 1, column 9",
                refusal("{\"a\": \"b\nc\"}"));
        assertEquals("x: control character U+0000 in a string (escape it) at line 1, column 2", refusal("\"\0\""));
        assertEquals("x: expected a value, found U+FEFF at line 1, column 1", refusal("\uFEFF{}"));
        assertEquals("x: expected a value, found U+00A0 at line 1, column 1", refusal("\u00A01"));
        assertEquals("x: expected a value, found U+000B at line 1, column 1", refusal("\u000B1"));
        assertEquals("x: unexpected U+0000 after the value at line 1, column 3", refusal("[]\0"));
    }

    @Test
    void countsLinesAndColumnsFromOne() {
        assertEquals("x.b[3]: expected a value, found ']' at line 3, column 8",
                refusal("{\"a\": 1,\n \"b\": [1,\r\n  2, 3,]}"));
    }

    @Test
    void nestsSixteenContainersAndNoMore() {
        String sixteen = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        assertEquals(List.of(), unwrap(Json.read(sixteen, "x"), Json.MAX_DEPTH - 1));
        String seventeen = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);
        assertEquals("x" + "[0]".repeat(Json.MAX_DEPTH) + ": nested deeper than 16 containers at line 1, column 17",
                refusal(seventeen));
        assertEquals("x.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a: nested deeper than 16 containers at line 1, column 81",
                refusal("{\"a\":".repeat(Json.MAX_DEPTH + 1) + "1" + "}".repeat(Json.MAX_DEPTH + 1)));
    }

    private static Object unwrap(Object v, int levels) {
        for (int i = 0; i < levels; i++) {
            v = ((List<?>) v).getFirst();
        }
        return v;
    }

    @Test
    void readsUpToOneMebibyteOfText() {
        String longest = " ".repeat(Json.MAX_CHARS - 1) + "7";
        assertEquals(BigDecimal.valueOf(7), Json.read(longest, "x"));
        assertEquals("x: longer than 1048576 characters: 1048577", refusal(longest + " "));
    }

    @Test
    void numbersHaveAtMostAHundredCharacters() {
        String hundred = "1" + "0".repeat(Json.MAX_NUMBER_CHARS - 1);
        assertEquals(BigDecimal.TEN.pow(Json.MAX_NUMBER_CHARS - 1), Json.read(hundred, "x"));
        assertEquals("x[0]: a number longer than 100 characters at line 1, column 2", refusal("[" + hundred + "0]"));
        assertEquals("x: a number longer than 100 characters at line 1, column 1",
                refusal("0." + "0".repeat(Json.MAX_NUMBER_CHARS)));
    }

    @Test
    void writesContainersOfScalarsOnOneLineAndTheRestIndented() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", 1);
        m.put("empty", List.of());
        m.put("list", List.of(1L, new BigDecimal("2.50"), 1.25, -0.0, 1e-5));
        m.put("rows", List.of(Map.of("k", true), List.of(), Map.of("m", List.of(Map.of("x", 1)))));
        m.put("obj", new LinkedHashMap<>());
        m.put("z", null);
        assertEquals("""
                {
                  "n": 1,
                  "empty": [],
                  "list": [1, 2.50, 1.25, -0.0, 1.0E-5],
                  "rows": [
                    {"k": true},
                    [],
                    {
                      "m": [
                        {"x": 1}
                      ]
                    }
                  ],
                  "obj": {},
                  "z": null
                }""", Json.write(m));
        assertEquals("[]", Json.write(List.of()));
        assertEquals("\"s\"", Json.write("s"));
    }

    @Test
    void writesStringsThatReadBackAsTheSameString() {
        String s = "q\"\\/\b\f\n\r\t\u0001\u001f\u007f\u00e9\u2028\uD83D\uDE00 lone: \uD800 \uDC00 end\uD83D";
        String written = Json.write(s);
        assertEquals("\"q\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\u007f\u00e9\u2028\uD83D\uDE00 lone: \\ud800 \\udc00"
                + " end\\ud83d\"", written, "control characters and lone surrogates escaped, the rest as is");
        assertEquals(s, Json.read(written, "x"));
    }

    @Test
    void whatIsWrittenReadsBackAsTheSameTree() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", List.of(new BigDecimal("1E+3"), new BigDecimal("-0.000001"), Map.of("b", List.of(List.of()))));
        m.put("weird \"name\"\n", Boolean.FALSE);
        assertEquals(m, Json.read(Json.write(m), "x"));
    }

    @Test
    void refusesToWriteWhatJsonCannotSay() {
        assertEquals("JSON has no NaN", assertThrows(IllegalArgumentException.class,
                () -> Json.write(List.of(Double.NaN))).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.write(Double.NEGATIVE_INFINITY));
        assertEquals("not a JSON value: java.lang.Object", assertThrows(IllegalArgumentException.class,
                () -> Json.write(new Object())).getMessage());
        assertEquals("a JSON member name must be a string: 1", assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of(1, 2))).getMessage());
    }

    @Test
    void typedAccessNamesThePathAndWhatWasFound() {
        assertEquals(250, Json.integer(new BigDecimal("250"), "p"));
        assertEquals(250, Json.integer(new BigDecimal("250.000"), "p"), "no fractional part");
        assertEquals(250, Json.integer(new BigDecimal("2.5E+2"), "p"));
        assertEquals(0, Json.integer(new BigDecimal("0.00"), "p"));
        assertEquals(Long.MIN_VALUE, Json.integer(new BigDecimal(Long.MIN_VALUE), "p"));
        assertEquals("p: expected an integer, not 1.5",
                assertThrows(IllegalArgumentException.class, () -> Json.integer(new BigDecimal("1.5"), "p"))
                        .getMessage());
        assertEquals("p: expected an integer, not 1E-300", assertThrows(IllegalArgumentException.class,
                () -> Json.integer(new BigDecimal("1e-300"), "p")).getMessage());
        assertEquals("p: out of the range of a long: 9223372036854775808", assertThrows(IllegalArgumentException.class,
                () -> Json.integer(new BigDecimal("9223372036854775808"), "p")).getMessage());
        assertEquals("p: out of the range of a long: 1E+99999999", assertThrows(IllegalArgumentException.class,
                () -> Json.integer(new BigDecimal("1e99999999"), "p")).getMessage());
        assertEquals("p: expected an integer, not a string",
                assertThrows(IllegalArgumentException.class, () -> Json.integer("1", "p")).getMessage());
        assertEquals("p: expected a number, not null",
                assertThrows(IllegalArgumentException.class, () -> Json.number(null, "p")).getMessage());
        assertEquals(Double.POSITIVE_INFINITY, Json.number(new BigDecimal("1e400"), "p"));
        assertEquals(1.25, Json.number(new BigDecimal("1.25"), "p"));
        assertEquals("p: expected true or false, not the number 1",
                assertThrows(IllegalArgumentException.class, () -> Json.bool(BigDecimal.ONE, "p")).getMessage());
        assertFalse(Json.bool(false, "p"));
        assertEquals("p: expected a string, not an array",
                assertThrows(IllegalArgumentException.class, () -> Json.string(List.of(), "p")).getMessage());
        assertEquals("p: expected an array, not an object",
                assertThrows(IllegalArgumentException.class, () -> Json.array(Map.of(), "p")).getMessage());
        assertEquals("p: expected an object, not true",
                assertThrows(IllegalArgumentException.class, () -> Json.object(true, "p")).getMessage());
        assertEquals("p: expected an object, not a number", assertThrows(IllegalArgumentException.class,
                () -> Json.object(BigDecimal.TEN.pow(50), "p")).getMessage(), "a long number is not echoed");
    }

    @Test
    void membersAreRequiredOrRefusedWhenUnknown() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", null);
        m.put("b", 1);
        assertNull(Json.required(m, "p", "a"), "present, and null");
        assertEquals("p.c: missing",
                assertThrows(IllegalArgumentException.class, () -> Json.required(m, "p", "c")).getMessage());
        Json.refuseUnknown(m, "p", List.of("a", "b"));
        assertEquals("p.b: unknown field (known: a, c)", assertThrows(IllegalArgumentException.class,
                () -> Json.refuseUnknown(m, "p", List.of("a", "c"))).getMessage());
    }

    @Test
    void pathsNameAnyMemberReadablyAndUnambiguously() {
        assertEquals("p.wMax", Json.member("p", "wMax"));
        assertEquals("p._a1$", Json.member("p", "_a1$"));
        assertEquals("p[\"a.b\"]", Json.member("p", "a.b"));
        assertEquals("p[\"\"]", Json.member("p", ""));
        assertEquals("p[\"1a\"]", Json.member("p", "1a"));
        assertEquals("p[\"\u00e9\"]", Json.member("p", "\u00e9"));
        assertEquals("p[\"\\\"\\n\"]", Json.member("p", "\"\n"));
        String longName = "n".repeat(41);
        assertEquals("p[\"" + "n".repeat(40) + "...\"]", Json.member("p", longName));
        assertEquals("p." + "n".repeat(40), Json.member("p", "n".repeat(40)));
    }
}
