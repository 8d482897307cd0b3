package dev.hakmem.bench.peer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
            long key = 0x7f00_0000_0000L + 16L * random.nextInt(1 << 20);
            if (keys.isEmpty() || random.nextInt(100) < 55) {
                if (model.containsKey(key)) {
                    assertThrows(IllegalStateException.class, () -> map.put(key, "again"));
                    continue;
                }
                map.put(key, "v" + key);
                model.put(key, "v" + key);
                keys.add(key);
            } else if (random.nextInt(100) < 10) {
                // A key drawn afresh: mostly one never put, which the map must not claim to hold.
                assertEquals(model.remove(key), map.remove(key));
                keys.remove(key);
            } else {
                int at = random.nextInt(keys.size());
                long held = keys.get(at);
                keys.set(at, keys.getLast());
                keys.removeLast();
                assertEquals(model.remove(held), map.remove(held));
            }
        }
        for (long key : keys) {
            assertEquals(model.remove(key), map.remove(key));
        }
        assertEquals(Map.of(), model);
    }

    @Test
    void refusesDuplicatesAndKnowsWhatItDoesNotHold() {
        AddressMap<String> map = new AddressMap<>();
        map.put(4096, "a");
        assertThrows(IllegalStateException.class, () -> map.put(4096, "b"));
        assertThrows(IllegalArgumentException.class, () -> map.put(0, "c"));
        assertThrows(IllegalArgumentException.class, () -> map.put(1L << 48, "d"));
        assertNull(map.remove(8192));
        assertEquals("a", map.remove(4096));
        assertNull(map.remove(4096));
    }

    @Test
    void takeReturnsTheValueOnceAndRefusesAnAddressItDoesNotHold() {
        AddressMap<String> map = new AddressMap<>();
        map.put(4096, "a");
        assertEquals("a", map.take(4096));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> map.take(4096));
        assertEquals("not a live block: 0x1000", e.getMessage());
    }

    /**
     * Threads released together into an empty map put interleaved keys, so they all need the same new tables at
     * once; every key must survive, and be removable by another thread. A map that installs tables by plain writes
     * loses the keys of the thread whose table is overwritten.
     */
    @Test
    void concurrentPutsIntoNewTablesLoseNothing() throws Exception {
        int threads = 4;
        int keysPerThread = 64;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            for (int round = 0; round < 200; round++) {
                AddressMap<Long> map = new AddressMap<>();
                CyclicBarrier start = new CyclicBarrier(threads);
                long base = 0x7f00_0000_0000L;
                List<Future<?>> puts = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    puts.add(pool.submit(() -> {
                        start.await();
                        for (int k = 0; k < keysPerThread; k++) {
                            long key = base + 16L * (k * threads + thread + 1);
                            map.put(key, key);
                        }
                        return null;
                    }));
                }
                for (Future<?> put : puts) {
                    put.get();
                }
                CompletableFuture.runAsync(() -> {
                    for (long i = 1; i <= (long) threads * keysPerThread; i++) {
                        long key = base + 16 * i;
                        assertEquals(key, map.remove(key), "key lost: 0x" + Long.toHexString(key));
                    }
                }, pool).get();
            }
        }
    }
}
