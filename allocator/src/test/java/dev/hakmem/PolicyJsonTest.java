package dev.hakmem;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolicyJsonTest {
    private static final Policy EXAMPLE = Policy.builder().bridgeClasses(40960)
            .site(new Policy.SiteRule("parser", false, false, 34816)).build();
    /** The format as docs and the contract show it. */
    private static final String EXAMPLE_JSON = """
            {
              "format": 2,
              "wMax": 1.25,
              "bigThreshold": 1048576,
              "retainBytes": 67108864,
              "purgeDelayMillis": 250,
              "bridgeClasses": [40960],
              "sites": [
                {"site": "parser", "longLived": false, "direct": false, "presize": 34816}
              ]
            }""";

    @Test
    void writesTheDocumentedFormat() {
        assertEquals(EXAMPLE_JSON, EXAMPLE.toJson());
        assertEquals(EXAMPLE, Policy.fromJson(EXAMPLE_JSON));
        assertEquals("""
                {
                  "format": 2,
                  "wMax": 1.25,
                  "bigThreshold": 1048576,
                  "retainBytes": 67108864,
                  "purgeDelayMillis": 250,
                  "bridgeClasses": [],
                  "sites": []
                }""", Policy.defaults().toJson());
    }

    @Test
    void roundTripsPoliciesAtTheirBounds() {
        Policy.Builder most = Policy.builder().wMax(HakMemConfig.MAX_W_MAX).bigThreshold(Policy.MIN_BIG_THRESHOLD)
                .retainBytes(Policy.MAX_RETAIN_BYTES).purgeDelayMillis(Policy.MAX_PURGE_DELAY_MILLIS)
                .bridgeClasses(1088, 2048, 3968, 40960, 63488, 126976, 507904, 1 << 20);
        for (int i = 0; i < Policy.MAX_SITES - 1; i++) {
            most.site(new Policy.SiteRule("site " + i + " \"q\" \\ \n \u00e9 \uD83D\uDE00 \uDC00", i % 2 == 0,
                    i % 3 == 0, i % 5 == 0 ? 1088 + 64 * (i % 15) : 0));
        }
        most.site(new Policy.SiteRule("x".repeat(512), true, true, 1 << 20));
        Policy[] policies = {most.build(), Policy.builder().wMax(HakMemConfig.MIN_W_MAX).retainBytes(0)
                .purgeDelayMillis(0).build(), Policy.builder().wMax(1.1).build(), Policy.builder().wMax(Math.nextUp(1.5))
                .build(), Policy.builder().wMax(Math.nextDown(HakMemConfig.MAX_W_MAX)).build()};
        for (Policy p : policies) {
            assertEquals(p, Policy.fromJson(p.toJson()), p.toString());
            assertEquals(p.toJson(), Policy.fromJson(p.toJson()).toJson());
        }
        assertTrue(policies[0].toJson().length() < 300_000, "the largest policy is far below the reader's limit");
    }

    /** A policy saved before the site rules' presize (format 1) loads, each rule pre-sizing nothing. */
    @Test
    void readsFormatOneWithNoPreSizedClasses() {
        String format1 = EXAMPLE_JSON.replace("\"format\": 2", "\"format\": 1").replace(", \"presize\": 34816", "");
        assertEquals(EXAMPLE.toBuilder().site(new Policy.SiteRule("parser", false, false)).build(),
                Policy.fromJson(format1));
    }

    @Test
    void absentBridgeClassesAndSitesAreNone() {
        Policy p = Policy.fromJson("{\"purgeDelayMillis\": 0, \"retainBytes\": 1, \"bigThreshold\": 65536,"
                + " \"wMax\": 1.5, \"format\": 1}");
        assertEquals(Policy.builder().wMax(1.5).bigThreshold(65536).retainBytes(1).purgeDelayMillis(0).build(), p);
        assertArrayEquals(new int[0], p.bridgeClasses());
        assertTrue(p.sites().isEmpty());
        assertEquals(Policy.builder().bridgeClasses(2048, 1088).build(), Policy.fromJson(EXAMPLE_JSON
                .replace("[40960]", "[2048, 1088]").replace("{\"site\": \"parser\", \"longLived\": false, "
                        + "\"direct\": false, \"presize\": 34816}", "")), "bridge classes sorted, empty sites");
        assertEquals(EXAMPLE, Policy.fromJson(EXAMPLE_JSON.replace("250", "2.5e2").replace("1048576", "1048576.0")),
                "an integer may be written with a fraction of zero or an exponent");
        assertEquals(EXAMPLE, Policy.fromJson(EXAMPLE_JSON.replace("1.25", "125e-2")));
    }

    /** Each line: what replaces what in {@link #EXAMPLE_JSON}, and the message expected. */
    @ParameterizedTest(name = "{index}: {0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // the format
            "`\"format\": 2`| `\"format\": 3` | policy.format: format 3 is not supported (this build reads formats 1 and 2)",
            "`\"format\": 2`| `\"format\": 0` | policy.format: format 0 is not supported (this build reads formats 1 and 2)",
            "`\"format\": 2`| `\"format\": 1` | policy.sites[0].presize: format 1 has no presize (format 2 has)",
            "`\"format\": 2`| `\"format\": 0.5`| policy.format: expected an integer, not 0.5",
            "`\"format\": 2`| `\"format\": \"1\"`| policy.format: expected an integer, not a string",
            "`\"format\": 2,`| ``             | policy.format: missing",
            "`\"format\": 2,`| `\"format\": 3, \"w\": 1,` | policy.format: format 3 is not supported (this build reads formats 1 and 2)",
            // the shape
            "`\"wMax\": 1.25,`| `\"wMax\": 1.25, \"wMin\": 1,`| policy.wMin: unknown field (known: format, wMax, bigThreshold, retainBytes, purgeDelayMillis, bridgeClasses, sites)",
            "`\"wMax\": 1.25,`| `\"wMax\": 1.25, \"wMax\": 1.5,`| policy.wMax: duplicate name at line 3, column 17",
            "`\"wMax\": 1.25,`| ``              | policy.wMax: missing",
            "`\"bigThreshold\": 1048576,`| ``   | policy.bigThreshold: missing",
            "`\"retainBytes\": 67108864,`| ``   | policy.retainBytes: missing",
            "`\"purgeDelayMillis\": 250,`| ``   | policy.purgeDelayMillis: missing",
            "`\\n}`         | `\\n} 1`          | policy: unexpected '1' after the value at line 11, column 3",
            "`\\n}`         | `\\n`             | policy: expected ',' or '}', found the end of the text at line 11, column 1",
            // types
            "`1.25`         | `\"1.25\"`        | policy.wMax: expected a number, not a string",
            "`1.25`         | `null`            | policy.wMax: expected a number, not null",
            "`1048576`      | `1048576.5`       | policy.bigThreshold: expected an integer, not 1048576.5",
            "`67108864`     | `6.7108864e7`     | ",
            "`67108864`     | `67108864.1`      | policy.retainBytes: expected an integer, not 67108864.1",
            "`67108864`     | `[67108864]`      | policy.retainBytes: expected an integer, not an array",
            "`250`          | `1e-1`            | policy.purgeDelayMillis: expected an integer, not 0.1",
            "`250`          | `true`            | policy.purgeDelayMillis: expected an integer, not true",
            "`250`          | `18446744073709551866` | policy.purgeDelayMillis: out of the range of a long: 18446744073709551866",
            "`[40960]`      | `40960`           | policy.bridgeClasses: expected an array, not the number 40960",
            "`[40960]`      | `null`            | policy.bridgeClasses: expected an array, not null",
            "`[40960]`      | `[40960.5]`       | policy.bridgeClasses[0]: expected an integer, not 40960.5",
            "`[40960]`      | `[\"40960\"]`     | policy.bridgeClasses[0]: expected an integer, not a string",
            "`\"sites\": [`  | `\"sites\": {`    | policy.sites: expected a member name in double quotes, found '{' at line 9, column 5",
            "`false, \"direct\"` | `0, \"direct\"` | policy.sites[0].longLived: expected true or false, not the number 0",
            "`\"direct\": false` | `\"direct\": \"no\"` | policy.sites[0].direct: expected true or false, not a string",
            "`\"parser\"`   | `7`               | policy.sites[0].site: expected a string, not the number 7",
            "`{\"site\": \"parser\", \"longLived\": false, \"direct\": false, \"presize\": 34816}` | `[]` | policy.sites[0]: expected an object, not an array",
            "`, \"presize\": 34816` | ``     | policy.sites[0].presize: missing",
            "`34816`        | `34816.5`         | policy.sites[0].presize: expected an integer, not 34816.5",
            "`34816`        | `true`            | policy.sites[0].presize: expected an integer, not true",
            "`, \"direct\": false` | ``       | policy.sites[0].direct: missing",
            "`\"site\": \"parser\", ` | ``    | policy.sites[0].site: missing",
            "`\"direct\": false` | `\"direct\": false, \"ttl\": 5` | policy.sites[0].ttl: unknown field (known: site, longLived, direct, presize)",
            "`\"direct\": false` | `\"direct\": false, \"direct\": true` | policy.sites[0].direct: duplicate name at line 9, column 61",
            // ranges: the builder's check, named by the JSON path
            "`1.25`         | `1.0`             | policy.wMax: wMax must be in [1.0625, 2.0]: 1.0",
            "`1.25`         | `2.0000001`       | policy.wMax: wMax must be in [1.0625, 2.0]: 2.0000001",
            "`1.25`         | `1e400`           | policy.wMax: wMax must be in [1.0625, 2.0]: Infinity",
            "`1048576`      | `2097152`         | policy.bigThreshold: bigThreshold must be a power of two in [65536, 1048576]: 2097152",
            "`1048576`      | `100000`          | policy.bigThreshold: bigThreshold must be a power of two in [65536, 1048576]: 100000",
            "`67108864`     | `-1`              | policy.retainBytes: retainBytes must be in [0, 1099511627776]: -1",
            "`67108864`     | `1099511627777`   | policy.retainBytes: retainBytes must be in [0, 1099511627776]: 1099511627777",
            "`250`          | `60001`           | policy.purgeDelayMillis: purgeDelayMillis must be in [0, 60000]: 60001",
            "`250`          | `-9223372036854775808` | policy.purgeDelayMillis: purgeDelayMillis must be in [0, 60000]: -9223372036854775808",
            "`[40960]`      | `[40960, 1000]`   | policy.bridgeClasses[1]: 1000 is not a pool size (above 1024, at most 1048576, a multiple of 64 with at most 5 significant bits)",
            "`[40960]`      | `[4294971392]`    | policy.bridgeClasses[0]: 4294971392 is not a pool size (above 1024, at most 1048576, a multiple of 64 with at most 5 significant bits)",
            "`[40960]`      | `[40960, 40960]`  | policy.bridgeClasses: bridgeClasses: 40960 appears twice",
            "`[40960]`      | `[2048, 3072, 4096, 5120, 6144, 7168, 8192, 9216, 10240]` | policy.bridgeClasses: bridgeClasses: at most 8, not 9",
            "`\"parser\"`   | `\"\"`            | policy.sites[0].site: sites: a site name must have 1 to 512 characters: \"\"",
            "`34816}`       | `34816}, {\"site\": \"parser\", \"longLived\": true, \"direct\": true, \"presize\": 0}` | policy.sites[1].site: \"parser\" has a rule already",
            "`34816`        | `34000`           | policy.sites[0].presize: 34000 is neither 0 nor a pool size (above 1024, at most 1048576, a multiple of 64 with at most 5 significant bits)",
            "`34816`        | `1024`            | policy.sites[0].presize: 1024 is neither 0 nor a pool size (above 1024, at most 1048576, a multiple of 64 with at most 5 significant bits)",
            "`34816`        | `4294971392`      | policy.sites[0].presize: 4294971392 is neither 0 nor a pool size (above 1024, at most 1048576, a multiple of 64 with at most 5 significant bits)",
    })
    void refusesEachMistakeNamingTheField(String from, String to, String message) {
        String text = EXAMPLE_JSON.replace(from.replace("\\n", "\n"), to == null ? "" : to.replace("\\n", "\n"));
        assertTrue(!text.equals(EXAMPLE_JSON), "the replacement applies");
        if (message == null) {
            assertEquals(EXAMPLE, Policy.fromJson(text));
            return;
        }
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(text)).getMessage());
    }

    @Test
    void refusesWhatIsNotAPolicyAtAll() {
        assertEquals("policy: expected an object, not an array",
                assertThrows(IllegalArgumentException.class, () -> Policy.fromJson("[]")).getMessage());
        assertEquals("policy: expected a value, found the end of the text at line 1, column 1",
                assertThrows(IllegalArgumentException.class, () -> Policy.fromJson("")).getMessage());
        assertEquals("policy.format: missing",
                assertThrows(IllegalArgumentException.class, () -> Policy.fromJson("{}")).getMessage());
        String deep = EXAMPLE_JSON.replace("\"parser\"", "[".repeat(14) + "]".repeat(14));
        assertEquals("policy.sites[0].site" + "[0]".repeat(13) + ": nested deeper than 16 containers at line 9, "
                + "column 27", assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(deep)).getMessage());
        String big = EXAMPLE_JSON.replace("\"parser\"", "\"" + "p".repeat(1 << 20) + "\"");
        assertEquals("policy: longer than 1048576 characters: " + big.length(),
                assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(big)).getMessage());
        assertThrows(NullPointerException.class, () -> Policy.fromJson(null));
    }

    @Test
    void refusesTheSiteBeyondTheLast() {
        String sites = IntStream.rangeClosed(0, Policy.MAX_SITES).mapToObj(i -> "{\"site\": \"s" + i
                + "\", \"longLived\": false, \"direct\": false, \"presize\": 0}").collect(Collectors.joining(", "));
        String text = EXAMPLE_JSON.replace("{\"site\": \"parser\", \"longLived\": false, \"direct\": false, "
                + "\"presize\": 34816}", sites);
        assertEquals("policy.sites: sites: at most 1024",
                assertThrows(IllegalArgumentException.class, () -> Policy.fromJson(text)).getMessage());
        String fits = text.replace(", {\"site\": \"s1024\", \"longLived\": false, \"direct\": false, "
                + "\"presize\": 0}", "");
        assertEquals(Policy.MAX_SITES, Policy.fromJson(fits).sites().size());
    }
}
