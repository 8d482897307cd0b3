package dev.hakmem.stats;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryAccountTest {
    @Test
    void theMappedLimitIsReachedExactlyAndNeverPassedNorOverflowed() {
        MemoryAccount a = new MemoryAccount(10, 0);
        assertTrue(a.tryMap(4));
        assertTrue(a.tryMap(6), "up to the limit");
        assertFalse(a.tryMap(1), "beyond it");
        assertEquals(10, a.mappedBytes());
        a.unmapped(6);
        assertEquals(4, a.mappedBytes());
        assertEquals(10, a.mappedLimit());

        MemoryAccount unlimited = new MemoryAccount(Long.MAX_VALUE, 0);
        assertTrue(unlimited.tryMap(Long.MAX_VALUE - 1));
        assertFalse(unlimited.tryMap(2), "a sum that overflows is refused");
        assertEquals(Long.MAX_VALUE - 1, unlimited.mappedBytes());
    }

    @Test
    void theRetainBudgetIsExceededOnlyAboveIt() {
        MemoryAccount a = new MemoryAccount(Long.MAX_VALUE, 100);
        a.retained(100);
        assertFalse(a.overRetainBudget(), "at the budget");
        a.retained(1);
        assertTrue(a.overRetainBudget());
        a.retained(-101);
        assertEquals(0, a.retainedBytes());
        a.committed(7);
        a.committed(-3);
        assertEquals(4, a.committedBytes());
        assertEquals(100, a.retainBudget());
    }
}
