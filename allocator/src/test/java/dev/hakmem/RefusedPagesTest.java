package dev.hakmem;

import dev.hakmem.os.LedgerPageSource;
import dev.hakmem.os.LedgerPageSource.Op;
import dev.hakmem.os.Mem;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every page operation refused in turn, under a random mix of requests in every tier with the maintenance thread
 * purging at once: a request either succeeds or fails with {@link HakMemOutOfMemoryError}, and after every step the
 * heap's mapped and committed bytes equal the page source's ledger, every live block keeps its contents, and the
 * heap checks clean. Once the page source works again the heap serves every request and frees everything.
 */
class RefusedPagesTest {
    private static final long[] SIZES = {16, 100, 1000, 10_000, 100_000, 600_000, 3 << 20};

    private record Block(long address, long size, byte fill) {
    }

    @ParameterizedTest
    @EnumSource(Op.class)
    void aRefusedPageOperationLosesNothingAndLeavesTheHeapUsable(Op op) {
        LedgerPageSource pages = new LedgerPageSource();
        SplittableRandom rnd = new SplittableRandom(op.ordinal());
        try (HakMem h = HakMem.create(HakMemConfig.builder().pageSource(pages).purgeDelayMillis(0)
                .retainBytes(8 << 20).build())) {
            List<Block> live = new ArrayList<>();
            steps(h, pages, live, rnd, 60);
            pages.failing(op, true);
            int refused = steps(h, pages, live, rnd, 120);
            pages.failing(op, false);
            steps(h, pages, live, rnd, 60);
            live.forEach(b -> free(h, b));
            live.clear();
            assertLedger(h, pages);
            assertEquals(0, h.stats().liveBlocks());
            h.check();
            if (op == Op.RESERVE) {
                assertTrue(refused > 0, "no request needed new memory");
            }
        }
        assertEquals(0, pages.reservedBytes(), "close released everything");
    }

    /** Random mallocs and frees; returns how many requests were refused. */
    private static int steps(HakMem h, LedgerPageSource pages, List<Block> live, SplittableRandom rnd, int n) {
        int refused = 0;
        for (int i = 0; i < n; i++) {
            if (live.isEmpty() || rnd.nextInt(100) < 55) {
                long size = SIZES[rnd.nextInt(SIZES.length)] + rnd.nextInt(16);
                byte fill = (byte) rnd.nextInt();
                try {
                    long a = h.malloc(size);
                    Mem.fill(a, size, fill);
                    live.add(new Block(a, size, fill));
                } catch (HakMemOutOfMemoryError e) {
                    refused++;
                }
            } else {
                free(h, live.remove(rnd.nextInt(live.size())));
            }
            assertLedger(h, pages);
        }
        h.check();
        return refused;
    }

    private static void free(HakMem h, Block b) {
        assertEquals(b.fill, Mem.ALL.get(ValueLayout.JAVA_BYTE, b.address));
        assertEquals(b.fill, Mem.ALL.get(ValueLayout.JAVA_BYTE, b.address + b.size - 1));
        h.free(b.address);
    }

    /**
     * The maintenance thread may purge or trim between two reads, which only ever lowers the ledger: a stats snapshot
     * taken between two equal readings of the ledger saw the same state.
     */
    private static void assertLedger(HakMem h, LedgerPageSource pages) {
        for (;;) {
            long reserved = pages.reservedBytes();
            long committed = pages.committedBytes();
            HakMemStats s = h.stats();
            if (reserved == pages.reservedBytes() && committed == pages.committedBytes()) {
                assertEquals(reserved, s.mappedBytes(), "mapped bytes against the page source");
                assertEquals(committed, s.committedBytes(), "committed bytes against the page source");
                return;
            }
        }
    }
}
