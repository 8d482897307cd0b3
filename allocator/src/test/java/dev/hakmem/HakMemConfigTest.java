package dev.hakmem;

import dev.hakmem.HakMemConfig.Mode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HakMemConfigTest {
    @Test
    void readsEverySettingWithSizeSuffixes() {
        Map<String, String> env = Map.of("wmax", "1.5", "retain", "16m", "purgeDelayMs", "10",
                "sharedHeaps", "3", "mappedLimit", "2g", "monitoring", "false");
        HakMemConfig c = HakMemConfig.fromLookup(env::get);
        assertFalse(c.monitoring());
        assertEquals(1.5, c.wMax());
        assertEquals(16L << 20, c.retainBytes());
        assertEquals(10, c.purgeDelayMillis());
        assertEquals(3, c.sharedHeaps());
        assertEquals(2L << 30, c.mappedLimit());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void absentSettingsKeepDefaults() {
        HakMemConfig read = HakMemConfig.fromLookup(k -> null);
        assertEquals(HakMemConfig.defaults(), read);
        assertEquals(HakMemConfig.Mode.BALANCED, read.mode());
        assertEquals(Policy.defaults(), read.policy());
        assertFalse(read.startsFrozen());
        assertEquals(0.5, read.memoryWeight());
        assertEquals(1000, read.learnWindowMillis());
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.fromLookup(Map.of("wmax", "3")::get));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.fromLookup(Map.of("retain", "lots")::get));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().sharedHeaps(0));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().mappedLimit(0));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().retainBytes(-1));
    }

    @Test
    void readsEveryGuardSetting() {
        Map<String, String> env = new HashMap<>(Map.of("guard", " On ", "guardReport", "yes",
                "guardQuarantine", "1k", "guardSiteDepth", "3", "guardSiteSampling", "7", "guardTraceRing", "64",
                "guardTraceFile", " /tmp/trace.txt ", "guardLeakReport", "1"));
        GuardOptions g = HakMemConfig.fromLookup(env::get).guard();
        assertEquals(new GuardOptions(true, false, 1024, 3, 7, 64, Path.of("/tmp/trace.txt"), true), g);
        env.putAll(Map.of("guard", "off", "guardReport", "0", "guardLeakReport", "", "guardTraceFile", " "));
        g = HakMemConfig.fromLookup(env::get).guard();
        assertFalse(g.enabled());
        assertTrue(g.throwOnViolation());
        assertFalse(g.leakReportAtExit());
        assertNull(g.traceFile(), "a blank file name is no file");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("guard", "maybe")::get));
        assertEquals("hakmem.guard: not a level: maybe (off, sample or full, or a boolean: true for full, false for"
                + " off)", e.getMessage());
    }

    /**
     * The sample rate applies to the sample level only, but a bad one is refused naming the property whatever the
     * level (it was read, and so checked, at the sample level only).
     */
    @Test
    void theSampleRateIsCheckedAtEveryLevelAndAppliesToTheSampleLevelOnly() {
        for (String level : new String[] {"off", "full", "sample", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HakMemConfig.fromLookup(Map.of("guard", level, "guardSampleRate", "0")::get), level);
            assertEquals("hakmem.guardSampleRate: not in [1, 1073741824]: 0", e.getMessage());
        }
        assertEquals("hakmem.guardSampleRate: not a size: often", assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("guardSampleRate", "often")::get)).getMessage());
        assertEquals(GuardOptions.off(), HakMemConfig.fromLookup(Map.of("guardSampleRate", "7")::get).guard());
        assertEquals(GuardOptions.on(), HakMemConfig.fromLookup(Map.of("guard", "full", "guardSampleRate", "7")::get)
                .guard());
        assertEquals(7, HakMemConfig.fromLookup(Map.of("guard", "sample", "guardSampleRate", "7")::get).guard()
                .sampleRate());
    }

    /**
     * A guard count past its range is refused where it is read, naming the property, not at a thread's first
     * guarded malloc: a trace ring of 2^29 events was an array past an int's range there, and a 4g one an
     * ArithmeticException without a name.
     */
    @Test
    void guardCountsOutOfRangeAreRefusedNamingTheProperty() {
        // property, refused value, its range
        String[][] rows = {{"guardTraceRing", "4g", "[1, 1048576]"}, {"guardSiteDepth", "65", "[0, 64]"},
                {"guardSiteSampling", "0", "[1, 2147483647]"}, {"guardSampleRate", "2g", "[1, 1073741824]"}};
        for (String[] row : rows) {
            String level = row[0].equals("guardSampleRate") ? "sample" : "on";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HakMemConfig.fromLookup(Map.of("guard", level, row[0], row[1])::get), row[0]);
            assertEquals("hakmem." + row[0] + ": not in " + row[2] + ": " + row[1], e.getMessage());
        }
        assertEquals(GuardOptions.MAX_TRACE_RING_SIZE, HakMemConfig.fromLookup(Map.of("guard", "on",
                "guardTraceRing", "1m")::get).guard().traceRingSize());
        assertEquals("guard options: traceRingSize not in [1, 1048576]: 1048577",
                assertThrows(IllegalArgumentException.class,
                        () -> GuardOptions.on().withTraceRingSize(GuardOptions.MAX_TRACE_RING_SIZE + 1)).getMessage());
        assertEquals("guard options: siteDepth not in [0, 64]: -1",
                assertThrows(IllegalArgumentException.class, () -> GuardOptions.on().withSites(-1, 1)).getMessage());
    }

    @Test
    void sizesTakeBinarySuffixesAndNothingElse() {
        assertEquals(123, HakMemConfig.parseSize("x", " 123 "));
        assertEquals(64L << 10, HakMemConfig.parseSize("x", "64K"));
        assertEquals(3L << 20, HakMemConfig.parseSize("x", "3m"));
        assertEquals(2L << 30, HakMemConfig.parseSize("x", "2g"));
        assertEquals(5L << 20, HakMemConfig.parseSize("x", "5 m"));
        for (String bad : new String[]{"", "m", "12t", "1.5m", "9999999999g"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> HakMemConfig.parseSize("retain", bad), bad);
            assertEquals("hakmem.retain: not a size: " + bad, e.getMessage());
        }
        assertEquals("hakmem.wmax: not a number: x",
                assertThrows(IllegalArgumentException.class, () -> HakMemConfig.fromLookup(Map.of("wmax", "x")::get))
                        .getMessage());
    }

    @Test
    void theBuilderAcceptsItsBoundsAndRefusesBeyondThem() {
        HakMemConfig c = HakMemConfig.builder().wMax(HakMemConfig.MIN_W_MAX).retainBytes(0).purgeDelayMillis(0)
                .sharedHeaps(1).mappedLimit(1).build();
        assertEquals(HakMemConfig.MIN_W_MAX, c.wMax());
        assertEquals(0, c.retainBytes());
        assertEquals(0, c.purgeDelayMillis());
        assertEquals(1, c.sharedHeaps());
        assertEquals(1, c.mappedLimit());
        assertEquals(HakMemConfig.MAX_W_MAX, HakMemConfig.builder().wMax(HakMemConfig.MAX_W_MAX).build().wMax());
        assertEquals(4096, HakMemConfig.builder().sharedHeaps(4096).build().sharedHeaps());
        assertEquals("wMax must be in [1.0625, 2.0]: 1.0",
                assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().wMax(1.0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().wMax(2.01));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().wMax(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.builder().sharedHeaps(4097));
        assertEquals("purgeDelayMillis must be in [0, 60000]: -1", assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.builder().purgeDelayMillis(-1)).getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.builder().purgeDelayMillis(Policy.MAX_PURGE_DELAY_MILLIS + 1));
        assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.builder().retainBytes(Policy.MAX_RETAIN_BYTES + 1));
        assertEquals(Policy.MAX_RETAIN_BYTES,
                HakMemConfig.builder().retainBytes(Policy.MAX_RETAIN_BYTES).build().retainBytes());
        assertThrows(NullPointerException.class, () -> HakMemConfig.builder().guard((GuardOptions) null));
    }

    @Test
    void configsAreEqualExactlyWhenEverySettingIs() {
        HakMemConfig base = HakMemConfig.builder().pageSource(PageSource.system()).build();
        assertEquals(base, base.toBuilder().build());
        assertEquals(base.hashCode(), base.toBuilder().build().hashCode());
        for (HakMemConfig other : new HakMemConfig[]{
                base.toBuilder().guard(true).build(), base.toBuilder().wMax(1.5).build(),
                base.toBuilder().retainBytes(1).build(), base.toBuilder().purgeDelayMillis(1).build(),
                base.toBuilder().sharedHeaps(base.sharedHeaps() + 1).build(), base.toBuilder().mappedLimit(1).build(),
                base.toBuilder().pageSource(new dev.hakmem.os.LedgerPageSource()).build(),
                base.toBuilder().mode(HakMemConfig.Mode.FAST).build(),
                base.toBuilder().policy(Policy.defaults()).build(),
                base.toBuilder().policy(Policy.builder().bigThreshold(Policy.MIN_BIG_THRESHOLD).build()).build(),
                base.toBuilder().memoryWeight(0.25).build(), base.toBuilder().learnWindowMillis(999).build(),
                base.toBuilder().learnSeed(base.learnSeed() + 1).build(),
                base.toBuilder().monitoring(false).build()}) {
            assertNotEquals(base, other, other.toString());
        }
        assertNotEquals(base, "a string");
        assertTrue(base.toBuilder().guard(true).build().guard().enabled());
        assertEquals("HakMemConfig[guard=off, mode=BALANCED, policy=" + Policy.defaults() + ", startsFrozen=false, "
                + "memoryWeight=0.5, learnWindowMillis=1000, learnSeed=" + base.learnSeed() + ", sharedHeaps="
                + base.sharedHeaps() + ", mappedLimit=none, monitoring=true]", base.toString());
        assertTrue(base.toBuilder().mappedLimit(5).build().toString().endsWith("mappedLimit=5, monitoring=true]"));
        assertTrue(base.toBuilder().guard(true).build().toString().startsWith("HakMemConfig[guard=GuardOptions["));
    }

    @Test
    void modesAreReadInAnyCaseAndMinimalKeepsNothingUnlessToldTo() {
        assertEquals(Mode.LEARNING, HakMemConfig.fromLookup(Map.of("mode", " Learning ")::get).mode());
        assertEquals(Mode.RESEARCH, HakMemConfig.fromLookup(Map.of("mode", "RESEARCH")::get).mode());
        HakMemConfig minimal = HakMemConfig.fromLookup(Map.of("mode", "minimal")::get);
        assertEquals(Policy.defaults().toBuilder().retainBytes(0).purgeDelayMillis(0).build(), minimal.policy());
        assertEquals(0, minimal.retainBytes());
        assertEquals(0, minimal.purgeDelayMillis());
        assertFalse(minimal.startsFrozen());
        HakMemConfig retaining = HakMemConfig.fromLookup(Map.of("mode", "minimal", "retain", "16m")::get);
        assertEquals(16L << 20, retaining.retainBytes(), "set explicitly: wins over the preset");
        assertEquals(0, retaining.purgeDelayMillis());
        assertEquals(7, HakMemConfig.builder().purgeDelayMillis(7).mode(Mode.MINIMAL).build().purgeDelayMillis(),
                "whatever the order of the calls");
        assertEquals(64L << 20, minimal.toBuilder().mode(Mode.BALANCED).build().retainBytes(),
                "the preset is the mode's, not a knob set explicitly");
        assertEquals(Policy.defaults(), HakMemConfig.builder().mode(Mode.FAST).build().policy());
        assertEquals("hakmem.mode: not a mode: slow (minimal, fast, balanced, learning or research)",
                assertThrows(IllegalArgumentException.class, () -> HakMemConfig.fromLookup(Map.of("mode", "slow")::get))
                        .getMessage());
        assertThrows(NullPointerException.class, () -> HakMemConfig.builder().mode(null));
    }

    @Test
    void aGivenPolicyStartsFrozenAndKnobsSetExplicitlyWinOverIt() {
        Policy learned = Policy.builder().wMax(1.5).bigThreshold(256 << 10).retainBytes(1).purgeDelayMillis(1000)
                .bridgeClasses(40960).site(new Policy.SiteRule("parser", true, false)).build();
        HakMemConfig frozen = HakMemConfig.builder().policy(learned).mode(Mode.MINIMAL).build();
        assertEquals(learned, frozen.policy(), "a given policy is taken as it is, the mode's preset aside");
        assertTrue(frozen.startsFrozen());
        assertEquals(1.5, frozen.wMax());
        assertEquals(1, frozen.retainBytes());
        assertEquals(1000, frozen.purgeDelayMillis());
        HakMemConfig tuned = HakMemConfig.builder().wMax(1.125).policy(learned).build();
        assertEquals(learned.toBuilder().wMax(1.125).build(), tuned.policy());
        assertTrue(tuned.startsFrozen());
        assertEquals(tuned, tuned.toBuilder().build());
        assertEquals(learned, tuned.toBuilder().policy(learned).build().toBuilder().wMax(1.5).build().policy());
        assertThrows(NullPointerException.class, () -> HakMemConfig.builder().policy(null));
    }

    @Test
    void readsThePolicyFileHakmemPolicyNames(@TempDir Path dir) throws IOException {
        Policy learned = Policy.builder().wMax(1.125).bridgeClasses(3072).site(new Policy.SiteRule("vm", false, true))
                .build();
        Path file = Files.writeString(dir.resolve("learned.json"), learned.toJson() + "\n");
        HakMemConfig c = HakMemConfig.fromLookup(Map.of("policy", " " + file + " ")::get);
        assertEquals(learned, c.policy());
        assertTrue(c.startsFrozen());
        assertEquals(learned.toBuilder().purgeDelayMillis(5).build(),
                HakMemConfig.fromLookup(Map.of("policy", file.toString(), "purgeDelayMs", "5")::get).policy());
        assertFalse(HakMemConfig.fromLookup(Map.of("policy", "  ")::get).startsFrozen(), "blank: no file");
        Path padded = Files.writeString(dir.resolve("padded.json"),
                learned.toJson() + " ".repeat((1 << 20) - learned.toJson().length()));
        assertEquals(learned, HakMemConfig.readPolicy(padded.toString()), "1 MiB exactly");

        Path missing = dir.resolve("missing.json");
        assertEquals("hakmem.policy: cannot read " + missing + ": java.nio.file.NoSuchFileException: " + missing,
                refusal(missing.toString()));
        assertTrue(refusal(dir.toString()).startsWith("hakmem.policy: cannot read " + dir + ": java.io.IOException"));
        assertTrue(refusal("a\0b").startsWith("hakmem.policy: cannot read a\0b: java.nio.file.InvalidPathException"));
        Path bad = Files.writeString(dir.resolve("bad.json"), learned.toJson().replace("1.125", "3"));
        assertEquals("hakmem.policy: " + bad + ": policy.wMax: wMax must be in [1.0625, 2.0]: 3.0",
                refusal(bad.toString()));
        Path other = Files.writeString(dir.resolve("v3.json"), learned.toJson().replace("\"format\": 2", "\"format\": 3"));
        assertEquals("hakmem.policy: " + other + ": policy.format: format 3 is not supported (this build reads formats"
                + " 1 and 2)", refusal(other.toString()));
        Path latin1 = Files.write(dir.resolve("latin1.json"), new byte[]{'{', '"', (byte) 0xe9, '"', '}'});
        assertTrue(refusal(latin1.toString()).startsWith("hakmem.policy: " + latin1 + ": not UTF-8: "));
        Path huge = Files.writeString(dir.resolve("huge.json"), " ".repeat((1 << 20) + 1));
        assertEquals("hakmem.policy: " + huge + ": larger than 1048576 bytes", refusal(huge.toString()));
    }

    private static String refusal(String policyFile) {
        return assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("policy", policyFile)::get)).getMessage();
    }

    @Test
    void readsTheLearnerSettingsAndChecksTheirBounds() {
        HakMemConfig c = HakMemConfig.fromLookup(Map.of("memoryWeight", "2.5", "learnWindowMs", "250",
                "learnSeed", " -42 ")::get);
        assertEquals(2.5, c.memoryWeight());
        assertEquals(250, c.learnWindowMillis());
        assertEquals(-42, c.learnSeed());
        assertEquals(c, c.toBuilder().build());
        HakMemConfig bounds = HakMemConfig.builder().memoryWeight(0).learnWindowMillis(10).build();
        assertEquals(0, bounds.memoryWeight());
        assertEquals(10, bounds.learnWindowMillis());
        bounds = HakMemConfig.builder().memoryWeight(10).learnWindowMillis(600_000).build();
        assertEquals(10, bounds.memoryWeight());
        assertEquals(600_000, bounds.learnWindowMillis());
        for (double w : new double[]{-0.1, 10.01, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertEquals("memoryWeight must be in [0, 10.0]: " + w, assertThrows(IllegalArgumentException.class,
                    () -> HakMemConfig.builder().memoryWeight(w)).getMessage());
        }
        for (long ms : new long[]{9, 600_001, -1}) {
            assertEquals("learnWindowMillis must be in [10, 600000]: " + ms, assertThrows(IllegalArgumentException.class,
                    () -> HakMemConfig.builder().learnWindowMillis(ms)).getMessage());
        }
        assertEquals("hakmem.learnSeed: not an integer: 1.5", assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("learnSeed", "1.5")::get)).getMessage());
        assertEquals("hakmem.memoryWeight: not a number: heavy", assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("memoryWeight", "heavy")::get)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> HakMemConfig.fromLookup(Map.of("learnWindowMs", "5")::get));
    }

    @Test
    void theSeedIsFixedUnlessSetAndKeptByToBuilder() {
        HakMemConfig.Builder b = HakMemConfig.builder();
        assertEquals(HakMemConfig.DEFAULT_LEARN_SEED, b.build().learnSeed());
        assertEquals(HakMemConfig.defaults(), HakMemConfig.defaults());
        HakMemConfig c = b.learnSeed(-3).build();
        assertEquals(c.learnSeed(), c.toBuilder().build().learnSeed());
        assertEquals(7, b.learnSeed(7).build().learnSeed());
    }

    @Test
    void fromSystemReadsPropertiesFirst() {
        System.setProperty("hakmem.purgeDelayMs", "17");
        try {
            assertEquals(17, HakMemConfig.fromSystem().purgeDelayMillis());
        } finally {
            System.clearProperty("hakmem.purgeDelayMs");
        }
    }
}
