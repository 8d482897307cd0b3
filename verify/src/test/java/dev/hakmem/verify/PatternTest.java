package dev.hakmem.verify;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PatternTest {

    private static final int GUARD = 32;
    private static final byte GUARD_BYTE = (byte) 0xA5;

    @Test
    void fillThenCheckMatchesForEverySizeAndAlignment() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4096, 16);
            for (int misalign = 0; misalign < 8; misalign++) {
                for (int size = 0; size <= 80; size++) {
                    long address = seg.address() + misalign;
                    Pattern.fill(address, size, 42);
                    assertEquals(-1, Pattern.check(address, size, 42), "size " + size + " misalign " + misalign);
                }
            }
        }
    }

    @Test
    void checkReportsTheFirstChangedByte() {
        try (Arena arena = Arena.ofConfined()) {
            int size = 203;
            MemorySegment seg = arena.allocate(size, 16);
            Pattern.fill(seg.address(), size, 7);
            for (int offset : new int[] {0, 1, 7, 8, 63, 64, 199, 200, 202}) {
                byte original = seg.get(ValueLayout.JAVA_BYTE, offset);
                seg.set(ValueLayout.JAVA_BYTE, offset, (byte) (original ^ 0x10));
                seg.set(ValueLayout.JAVA_BYTE, size - 1, (byte) ~seg.get(ValueLayout.JAVA_BYTE, size - 1));
                assertEquals(offset, Pattern.check(seg.address(), size, 7));
                seg.set(ValueLayout.JAVA_BYTE, size - 1, (byte) ~seg.get(ValueLayout.JAVA_BYTE, size - 1));
                seg.set(ValueLayout.JAVA_BYTE, offset, original);
            }
            assertEquals(-1, Pattern.check(seg.address(), size, 7));
        }
    }

    @Test
    void fillWritesNothingOutsideItsRange() {
        try (Arena arena = Arena.ofConfined()) {
            for (int size = 0; size <= 40; size++) {
                MemorySegment seg = arena.allocate(size + 2 * GUARD, 16);
                seg.fill(GUARD_BYTE);
                Pattern.fill(seg.address() + GUARD + 3, size, 1);
                for (long i = 0; i < GUARD + 3; i++) {
                    assertEquals(GUARD_BYTE, seg.get(ValueLayout.JAVA_BYTE, i), "before, size " + size);
                }
                for (long i = GUARD + 3 + size; i < seg.byteSize(); i++) {
                    assertEquals(GUARD_BYTE, seg.get(ValueLayout.JAVA_BYTE, i), "after, size " + size);
                }
            }
        }
    }

    @Test
    void patternDependsOnSeedAndAddress() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(256, 16);
            MemorySegment b = arena.allocate(256, 16);
            Pattern.fill(a.address(), 256, 5);
            Pattern.fill(b.address(), 256, 5);
            assertNotEquals(-1, Pattern.check(a.address(), 256, 6));
            // Same seed, different address: a copy of a block is not mistaken for the block itself.
            assertNotEquals(-1, Pattern.check(b.address(), 256, 5, a.address()));
            MemorySegment.copy(a, 0, b, 0, 256);
            assertNotEquals(-1, Pattern.check(b.address(), 256, 5));
            assertEquals(-1, Pattern.check(b.address(), 256, 5, a.address()));
        }
    }

    @Test
    void expectedAgreesWithFill() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(37, 16);
            Pattern.fill(seg.address(), 37, 99);
            byte[] expected = new byte[37];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = Pattern.expected(seg.address(), 99, i);
            }
            assertArrayEquals(expected, seg.toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void patternIsNotConstant() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4096, 16);
            Pattern.fill(seg.address(), 4096, 0);
            int[] counts = new int[256];
            for (long i = 0; i < 4096; i++) {
                counts[seg.get(ValueLayout.JAVA_BYTE, i) & 0xff]++;
            }
            for (int c : counts) {
                // 16 expected per value; a stuck or zero pattern would pile into few values.
                assertTrue(c < 64, "byte value histogram too skewed: " + c);
            }
        }
    }

    @Test
    void refusesRangesThatWouldCrashTheJvm() {
        assertThrows(IllegalArgumentException.class, () -> Pattern.fill(0, 8, 1));
        assertThrows(IllegalArgumentException.class, () -> Pattern.fill(-64, 8, 1));
        assertThrows(IllegalArgumentException.class, () -> Pattern.check(4096, -1, 1));
        assertThrows(IllegalArgumentException.class, () -> Pattern.fill(Long.MAX_VALUE - 4, 8, 1));
        assertEquals(-1, Pattern.check(0, 0, 1));
    }
}
