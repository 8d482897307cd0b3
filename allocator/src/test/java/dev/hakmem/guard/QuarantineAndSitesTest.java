package dev.hakmem.guard;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Guard mode's bookkeeping on its own: a thread's quarantine count bound as guard mode sets it, and site sampling and
 * naming. GuardBookkeepingModelTest compares the quarantine with a model at every byte and count bound.
 */
class QuarantineAndSitesTest {
    @Test
    void theQuarantineHoldsAtMost4096BlocksWhateverTheirBytes() {
        Quarantine q = new Quarantine(Long.MAX_VALUE, Quarantine.MAX_BLOCKS);
        for (int i = 0; i < 4096; i++) {
            q.add(i << 8, (i << 8) + 32, 16);
            assertFalse(q.over(), "block " + i);
        }
        q.add(4096 << 8, (4096 << 8) + 32, 16);
        assertTrue(q.over());
        assertEquals(0, q.innerAt(0), "the oldest leaves first");
        q.dropOldest();
        assertFalse(q.over());
        assertEquals(1 << 8, q.innerAt(0));
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
