package dev.hakmem.bench.peer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AddressMapTest {

    /** Random puts and removes, with aligned keys that collide in the low bits, agree with a HashMap. */
    @Test
    void agreesWithAHashMap() {
        SplittableRandom random = new SplittableRandom(7);
        AddressMap<String> map = new AddressMap<>();
        Map<Long, String> model = new HashMap<>();
        List<Long> keys = new ArrayList<>();
        for (int step = 0; step < 200_000; step++) {
            if (keys.isEmpty() || random.nextInt(100) < 55) {
                long key = 0x7f00_0000_0000L + 16L * random.nextInt(1 << 20);
                if (model.containsKey(key)) {
                    continue;
                }
                map.put(key, "v" + key);
                model.put(key, "v" + key);
                keys.add(key);
            } else {
                int at = random.nextInt(keys.size());
                long key = keys.get(at);
                keys.set(at, keys.getLast());
                keys.removeLast();
                assertEquals(model.remove(key), map.remove(key));
            }
            assertEquals(model.size(), map.size());
        }
        for (long key : keys) {
            assertEquals(model.get(key), map.remove(key));
        }
        assertEquals(0, map.size());
    }

    @Test
    void refusesDuplicatesAndKnowsWhatItDoesNotHold() {
        AddressMap<String> map = new AddressMap<>();
        map.put(4096, "a");
        assertThrows(IllegalStateException.class, () -> map.put(4096, "b"));
        assertThrows(IllegalArgumentException.class, () -> map.put(0, "c"));
        assertNull(map.remove(8192));
        assertEquals("a", map.remove(4096));
        assertNull(map.remove(4096));
    }
}
