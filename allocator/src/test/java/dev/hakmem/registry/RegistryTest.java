package dev.hakmem.registry;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

class RegistryTest {
    private static final class TestRegion extends Region {
        TestRegion(long base, long span) {
            super(-1, base, span);
        }

        @Override
        protected void markReleased() {
            throw new AssertionError("the registry never releases a region");
        }
    }

    /** Far from anything the JVM maps: a fixed, 2 MiB-aligned range in the upper half of the 47-bit space. */
    private static final long BASE = 0x6000_0000_0000L;

    @Test
    void everyAddressOfARegionFindsIt() {
        TestRegion r = new TestRegion(BASE, 3 * Registry.CHUNK);
        Registry.register(r);
        try {
            assertSame(r, Registry.lookup(BASE));
            assertSame(r, Registry.lookup(BASE + Registry.CHUNK + 12345));
            assertSame(r, Registry.lookup(BASE + 3 * Registry.CHUNK - 1));
            assertNull(Registry.lookup(BASE + 3 * Registry.CHUNK));
            assertNull(Registry.lookup(BASE - 1));
        } finally {
            Registry.unregister(r);
        }
        assertNull(Registry.lookup(BASE));
    }

    @Test
    void wildAddressesFindNothing() {
        for (long a : new long[]{0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 1L << 48, 0xdead_beef_cafeL}) {
            assertNull(Registry.lookup(a));
        }
    }

    @Test
    void reRegistrationReplacesAndAStaleUnregisterKeepsTheSuccessor() {
        TestRegion old = new TestRegion(BASE, Registry.CHUNK);
        TestRegion successor = new TestRegion(BASE, Registry.CHUNK);
        Registry.register(old);
        Registry.register(successor);
        Registry.unregister(old);
        assertSame(successor, Registry.lookup(BASE));
        Registry.unregister(successor);
        assertNull(Registry.lookup(BASE));
    }

    @Test
    void refusesRegionsItCannotMap() {
        assertThrows(IllegalArgumentException.class, () -> new TestRegion(BASE + 4096, Registry.CHUNK));
        assertThrows(IllegalArgumentException.class, () -> Registry.register(new TestRegion(1L << 48, Registry.CHUNK)));
    }

    @Test
    void coversExactlyTheFortyEightBitRangeAboveZero() {
        long top = 1L << 48;
        assertTrue(Registry.covers(top - Registry.CHUNK, Registry.CHUNK), "the last chunk");
        assertFalse(Registry.covers(top - Registry.CHUNK, Registry.CHUNK + 1), "one byte beyond");
        assertFalse(Registry.covers(0, Registry.CHUNK), "address zero");
        assertTrue(Registry.covers(Registry.CHUNK, 1));
        assertFalse(Registry.covers(Registry.CHUNK, 0), "an empty range");
    }

    /** A region in a part of the address space no other test uses: its leaf is created by this registration. */
    @Test
    void theFirstRegionOfALeafCreatesIt() {
        long base = 0x2000_0000_0000L + (77L << 34);
        TestRegion r = new TestRegion(base, Registry.CHUNK);
        assertNull(Registry.lookup(base));
        Registry.register(r);
        try {
            assertSame(r, Registry.lookup(base + Registry.CHUNK - 1));
            assertTrue(r.contains(base) && r.contains(base + Registry.CHUNK - 1));
            assertFalse(r.contains(base - 1) || r.contains(base + Registry.CHUNK));
            assertNull(Registry.lookup(base + Registry.CHUNK));
        } finally {
            Registry.unregister(r);
        }
        assertNull(Registry.lookup(base));
    }
}
