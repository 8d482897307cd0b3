package dev.hakmem;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
