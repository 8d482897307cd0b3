package dev.hakmem.site;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * The sampled-block table against a {@code HashMap} oracle, its invariant checked after every step: addresses of
 * 64 KiB blocks in a few SuperSlabs, so that keys share home slots, runs wrap around, stripes grow and removals shift.
 */
class SampledBlocksTest {
    private static final SiteState SITE = new SiteState("t");

    @Test
    void agreesWithAMapAfterEveryPutAndRemove() {
        SampledBlocks table = new SampledBlocks(size -> 1);
        Map<Long, SampledBlock> oracle = new HashMap<>();
        SplittableRandom random = new SplittableRandom(11);
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            keys.add((0x7f00_0000_0000L + random.nextLong(1 << 12)) << 16);
        }
        for (int step = 0; step < 200_000; step++) {
            long address = keys.get(random.nextInt(step < 100_000 ? keys.size() : 64));
            if (random.nextInt(3) == 0) {
                assertSame(oracle.remove(address), table.lost(address), "remove at step " + step);
            } else {
                SampledBlock b = new SampledBlock(SITE, step, step, 1);
                oracle.put(address, b);
                table.sampled(address, b, SITE, 8, 0);
            }
            if (step % 97 == 0 || step > 199_000) {
                assertNull(table.check(), "step " + step);
                assertEquals(oracle.size(), table.size());
            }
        }
        long[] addresses = table.addresses();
        Arrays.sort(addresses);
        assertArrayEquals(oracle.keySet().stream().mapToLong(Long::longValue).sorted().toArray(), addresses);
        List<SampledBlock> walked = new ArrayList<>();
        table.forEach(walked::add);
        assertEquals(oracle.size(), walked.size());
        for (long a : addresses) {
            assertSame(oracle.get(a), table.freed(a, 0, 1));
        }
        assertEquals(0, table.size());
        assertNull(table.check());
    }
}
