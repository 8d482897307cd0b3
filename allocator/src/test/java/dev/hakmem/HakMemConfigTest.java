package dev.hakmem;

import org.junit.jupiter.api.Test;

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
                "sharedHeaps", "3", "mappedLimit", "2g");
        HakMemConfig c = HakMemConfig.fromLookup(env::get);
        assertEquals(1.5, c.wMax());
        assertEquals(16L << 20, c.retainBytes());
        assertEquals(10, c.purgeDelayMillis());
        assertEquals(3, c.sharedHeaps());
        assertEquals(2L << 30, c.mappedLimit());
        assertEquals(c, c.toBuilder().build());
    }

    @Test
    void absentSettingsKeepDefaults() {
        assertEquals(HakMemConfig.defaults(), HakMemConfig.fromLookup(k -> null));
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
        assertEquals("hakmem.guard: not a boolean: maybe", e.getMessage());
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
        assertEquals("purgeDelayMillis must be >= 0: -1", assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.builder().purgeDelayMillis(-1)).getMessage());
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
                base.toBuilder().pageSource(new dev.hakmem.os.LedgerPageSource()).build()}) {
            assertNotEquals(base, other, other.toString());
        }
        assertNotEquals(base, "a string");
        assertTrue(base.toBuilder().guard(true).build().guard().enabled());
        assertEquals("HakMemConfig[guard=off, wMax=1.25, retainBytes=67108864, purgeDelayMillis=250, sharedHeaps="
                + base.sharedHeaps() + ", mappedLimit=none]", base.toString());
        assertTrue(base.toBuilder().mappedLimit(5).build().toString().endsWith("mappedLimit=5]"));
        assertTrue(base.toBuilder().guard(true).build().toString().startsWith("HakMemConfig[guard=GuardOptions["));
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
