package dev.hakmem.site;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sampled-block table against a {@code HashMap} oracle, its invariant checked after every step: addresses of
 * 64 KiB blocks in a few SuperSlabs, so that keys share home slots, runs wrap around, stripes grow and removals shift.
 * The table's whole content (each address's site, birth and thread) is compared with the oracle's, and the stripes'
 * logs folded into the sites match what the steps did.
 */
class SampledBlocksTest {
    private static final SiteState[] SITES = {new SiteState("a"), new SiteState("b"), new SiteState("c")};

    private record Block(SiteState site, long born, long thread) {
    }

    @Test
    void agreesWithAMapAfterEveryPutAndRemove() {
        SampledBlocks table = new SampledBlocks(Integer.MAX_VALUE, System::nanoTime);
        Map<Long, Block> oracle = new HashMap<>();
        SplittableRandom random = new SplittableRandom(11);
        List<Long> keys = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            keys.add((0x7f00_0000_0000L + random.nextLong(1 << 12)) << 16);
        }
        long samples = 0;
        long freed = 0;
        for (int step = 0; step < 200_000; step++) {
            long address = keys.get(random.nextInt(step < 100_000 ? keys.size() : 64));
            int op = random.nextInt(6);
            if (op == 0) {
                assertEquals(oracle.remove(address) != null, table.lost(address), "lost at step " + step);
            } else if (op == 1) {
                Block b = oracle.remove(address);
                assertEquals(b != null, table.freed(address, step, 1), "freed at step " + step);
                freed += b != null ? 1 : 0;
            } else if (oracle.containsKey(address)) {
                continue;
            } else {
                Block b = new Block(SITES[random.nextInt(SITES.length)], step, random.nextInt(3));
                oracle.put(address, b);
                table.sampled(address, b.site, 8, 0, 1, b.born, b.thread);
                samples++;
            }
            if (step % 97 == 0 || step > 199_000) {
                assertNull(table.check(), "step " + step);
                assertEquals(oracle.size(), table.size());
            }
        }
        assertEquals(oracle, contents(table));
        table.fold();
        long sampled = 0;
        long remembered = 0;
        for (SiteState s : SITES) {
            sampled += s.samples();
            remembered += s.remembered();
            assertNull(s.check());
        }
        assertEquals(samples, sampled, "every sample folded into its site once");
        assertEquals(oracle.size(), remembered, "each site remembers its blocks still in the table");
        for (long a : oracle.keySet()) {
            assertTrue(table.freed(a, Long.MAX_VALUE, 1));
        }
        freed += oracle.size();
        assertEquals(0, table.size());
        assertNull(table.check());
        table.fold();
        long lifetimes = 0;
        for (SiteState s : SITES) {
            assertEquals(0, s.remembered(), s + ": every block forgotten once");
            lifetimes += s.snapshot(0, new long[0]).lifetimes();
            assertNull(s.check());
        }
        assertEquals(freed, lifetimes, "a lifetime per block freed, none for a block lost");
    }

    private static Map<Long, Block> contents(SampledBlocks table) {
        Map<Long, Block> out = new HashMap<>();
        table.forEach((address, site, born, thread) -> out.put(address, new Block(site, born, thread)));
        return out;
    }
}
