package dev.hakmem.guard;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Guard mode's bookkeeping on its own: the quarantine's count bound as guard mode sets it, and site sampling and
 * naming. GuardBookkeepingModelTest compares the quarantine with a model at every byte and count bound.
 */
class QuarantineAndSitesTest {
    private static Quarantine.Entry entry(long i, long size) {
        return new Quarantine.Entry(i << 8, (i << 8) + 32, size);
    }

    @Test
    void theQuarantineHoldsAtMost65536BlocksWhateverTheirBytes() {
        Quarantine q = new Quarantine(Long.MAX_VALUE, Quarantine.MAX_BLOCKS);
        for (int i = 0; i < 1 << 16; i++) {
            assertEquals(List.of(), q.add(entry(i, 16)));
        }
        assertEquals(List.of(entry(0, 16)), q.add(entry(1 << 16, 16)));
    }

    @Test
    void sitesAreSampledOneInNAndInterned() {
        // The chain starts below this package's frames (guard mode's own), here in the test engine: one call site.
        Sites every = new Sites(2, 1);
        int[] ids = new int[2];
        for (int i = 0; i < 2; i++) {
            ids[i] = every.capture();
        }
        assertNotEquals(Sites.NONE, ids[0]);
        assertEquals(ids[0], ids[1], "one call chain, one id");
        assertEquals(2, every.name(ids[0]).split(" <- ").length, "two frames deep: " + every.name(ids[0]));
        assertFalse(every.name(ids[0]).contains("dev.hakmem.guard."), "guard mode's own frames are skipped");
        assertEquals("(site not recorded: guard site sampling or depth 0)", every.name(Sites.NONE));
        assertEquals("(unknown site 99)", every.name(99));
        assertEquals("(unknown site -1)", every.name(-1));

        Sites third = new Sites(4, 3);
        int recorded = 0;
        for (int i = 0; i < 9; i++) {
            recorded += third.capture() == Sites.NONE ? 0 : 1;
        }
        assertEquals(3, recorded, "one in three");
        assertEquals(Sites.NONE, new Sites(0, 1).capture(), "depth 0 records nothing");
    }
}
