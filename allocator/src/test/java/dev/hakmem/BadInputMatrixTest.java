package dev.hakmem;

import dev.hakmem.os.Mem;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The segfault-free policy, row by row, in fast mode and in guard mode: every wrong input gets its documented
 * exception, the JVM survives, and afterwards every witness block keeps its contents, {@code check()} passes and
 * allocation goes on.
 */
class BadInputMatrixTest {
    private static final MethodHandle C_MALLOC;
    private static final MethodHandle C_FREE;

    static {
        Linker linker = Linker.nativeLinker();
        C_MALLOC = linker.downcallHandle(linker.defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
        C_FREE = linker.downcallHandle(linker.defaultLookup().find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(JAVA_LONG));
    }

    static Stream<Arguments> modes() {
        return Stream.of(Arguments.of(Named.of("fast", false)), Arguments.of(Named.of("guard", true)));
    }

    /** A heap with live witness blocks of every tier, each filled with a known byte. */
    private static final class Fixture implements AutoCloseable {
        final HakMem heap;
        final boolean guard;
        final List<long[]> witnesses = new ArrayList<>();

        Fixture(boolean guard) {
            this.guard = guard;
            this.heap = HakMem.create(HakMemConfig.builder().guard(guard).build());
            long[] sizes = {1, 16, 100, 1024, 5000, 70_000, 600_000, 3 << 20};
            for (int i = 0; i < sizes.length; i++) {
                long a = heap.malloc(sizes[i]);
                Mem.fill(a, sizes[i], (byte) (i + 1));
                witnesses.add(new long[]{a, sizes[i], i + 1});
            }
        }

        void assertIntact() {
            for (long[] w : witnesses) {
                for (long off = 0; off < w[1]; off += Math.max(1, w[1] / 97)) {
                    assertEquals((byte) w[2], Mem.ALL.get(java.lang.foreign.ValueLayout.JAVA_BYTE, w[0] + off),
                            "witness 0x" + Long.toHexString(w[0]) + " at " + off);
                }
            }
            heap.check();
            long a = heap.malloc(200);
            heap.free(a);
            assertEquals(witnesses.size(), heap.stats().liveBlocks());
        }

        long witness(int i) {
            return witnesses.get(i)[0];
        }

        @Override
        public void close() {
            heap.close();
        }
    }

    private static void row(boolean guard, Class<? extends Throwable> expected, Consumer<Fixture> action) {
        try (Fixture f = new Fixture(guard)) {
            assertThrows(expected, () -> action.accept(f));
            f.assertIntact();
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfNullIsANoOp(boolean guard) {
        try (Fixture f = new Fixture(guard)) {
            f.heap.free(0);
            f.assertIntact();
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfRandomAddresses(boolean guard) {
        try (Fixture f = new Fixture(guard)) {
            SplittableRandom r = new SplittableRandom(42);
            for (int i = 0; i < 10_000; i++) {
                long wild = r.nextLong();
                assertThrows(InvalidFreeException.class, () -> f.heap.free(wild), Long.toHexString(wild));
                long low = r.nextLong(1L << 47) & -16;
                assertThrows(InvalidFreeException.class, () -> f.heap.free(low), Long.toHexString(low));
            }
            f.assertIntact();
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfACHeapAddress(boolean guard) throws Throwable {
        long c = (long) C_MALLOC.invokeExact(64L);
        try {
            row(guard, InvalidFreeException.class, f -> f.heap.free(c));
        } finally {
            C_FREE.invokeExact(c);
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeInsideASuperSlabWhereNoBlockIs(boolean guard) {
        // Slab metadata lives on the Java heap; inside a SuperSlab, what is not a block is a free slot or a tail.
        row(guard, InvalidFreeException.class, f -> f.heap.free((f.witness(2) & -(2L << 20)) + (31L << 16)));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfAnInteriorPointer(boolean guard) {
        row(guard, InvalidFreeException.class, f -> f.heap.free(f.witness(2) + 32));
        row(guard, InvalidFreeException.class, f -> f.heap.free(f.witness(5) + 4096));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfAMisalignedPointer(boolean guard) {
        row(guard, InvalidFreeException.class, f -> f.heap.free(f.witness(3) + 3));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeOfTheInsideOfABigMapping(boolean guard) {
        row(guard, InvalidFreeException.class, f -> f.heap.free(f.witness(7) + (1L << 20)));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void doubleFreeOnTheSameThread(boolean guard) {
        for (long size : new long[]{40, 3000, 200_000, 4 << 20}) {
            row(guard, DoubleFreeException.class, f -> {
                long a = f.heap.malloc(size);
                f.heap.free(a);
                f.heap.free(a);
            });
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void doubleFreeOnAnotherThread(boolean guard) {
        row(guard, DoubleFreeException.class, f -> {
            long a = f.heap.malloc(40);
            f.heap.free(a);
            Throwable[] thrown = new Throwable[1];
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    f.heap.free(a);
                } catch (Throwable e) {
                    thrown[0] = e;
                }
            });
            join(t);
            if (thrown[0] instanceof RuntimeException e) {
                throw e;
            }
        });
    }

    @ParameterizedTest
    @MethodSource("modes")
    void doubleFreeAfterTheBlockWasReused(boolean guard) {
        try (Fixture f = new Fixture(guard)) {
            long a = f.heap.malloc(40);
            f.heap.free(a);
            long b = f.heap.malloc(40);
            if (guard) {
                // The quarantine keeps a out of circulation: b is another block and a's second free is caught.
                assertFalse(a == b);
                assertThrows(DoubleFreeException.class, () -> f.heap.free(a));
                f.heap.free(b);
            } else {
                // Fast mode reuses a at once: the stale free is a free of the new owner's block, as in any
                // allocator without quarantine. The heap stays consistent; guard mode is the tool for this bug.
                assertEquals(a, b);
                f.heap.free(a);
                assertThrows(DoubleFreeException.class, () -> f.heap.free(b));
            }
            f.assertIntact();
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void freeAfterClose(boolean guard) {
        HakMem h = HakMem.create(HakMemConfig.builder().guard(guard).build());
        long a = h.malloc(10);
        h.close();
        assertThrows(IllegalStateException.class, () -> h.free(a));
        assertThrows(IllegalStateException.class, () -> h.malloc(10));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void reallocOfAFreedBlock(boolean guard) {
        row(guard, DoubleFreeException.class, f -> {
            long a = f.heap.malloc(40);
            f.heap.free(a);
            f.heap.realloc(a, 100);
        });
    }

    @ParameterizedTest
    @MethodSource("modes")
    void usableSizeOfGarbage(boolean guard) {
        row(guard, InvalidFreeException.class, f -> f.heap.usableSize(0x7777_0000_1230L));
        row(guard, InvalidFreeException.class, f -> f.heap.usableSize(f.witness(4) + 16));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void negativeAndHugeSizes(boolean guard) {
        row(guard, IllegalArgumentException.class, f -> f.heap.malloc(-1));
        row(guard, IllegalArgumentException.class, f -> f.heap.realloc(f.witness(0), -8));
        row(guard, HakMemOutOfMemoryError.class, f -> f.heap.malloc(Long.MAX_VALUE));
        row(guard, HakMemOutOfMemoryError.class, f -> f.heap.malloc(1L << 50));
        row(guard, HakMemOutOfMemoryError.class, f -> f.heap.mallocAligned(1L << 50, 1L << 30));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void callocOverflow(boolean guard) {
        row(guard, IllegalArgumentException.class, f -> f.heap.calloc(1L << 40, 1L << 40));
        row(guard, IllegalArgumentException.class, f -> f.heap.calloc(-1, 8));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void alignmentsThatAreNotPowersOfTwo(boolean guard) {
        for (long align : new long[]{0, -16, 3, 24, 1000, Long.MIN_VALUE}) {
            row(guard, IllegalArgumentException.class, f -> f.heap.mallocAligned(64, align));
            row(guard, IllegalArgumentException.class, f -> f.heap.allocate(64, align));
        }
    }

    @ParameterizedTest
    @MethodSource("modes")
    void aSegmentOfAnotherHeapOrOfAJdkArena(boolean guard) {
        try (HakMem other = HakMem.create()) {
            MemorySegment foreign = other.allocate(64);
            row(guard, InvalidFreeException.class, f -> f.heap.free(foreign));
            other.free(foreign);
        }
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment jdk = confined.allocate(64);
            row(guard, InvalidFreeException.class, f -> f.heap.free(jdk));
        }
        row(guard, InvalidFreeException.class, f -> f.heap.free(MemorySegment.ofArray(new long[4])));
    }

    @ParameterizedTest
    @MethodSource("modes")
    void everyRefusalIsCounted(boolean guard) {
        try (Fixture f = new Fixture(guard)) {
            assertThrows(InvalidFreeException.class, () -> f.heap.free(f.witness(2) + 16));
            long a = f.heap.malloc(8);
            f.heap.free(a);
            assertThrows(DoubleFreeException.class, () -> f.heap.free(a));
            if (guard) {
                assertEquals(2, f.heap.violations());
            } else {
                assertEquals(2, f.heap.stats().events().invalidFrees());
                assertEquals(1, f.heap.stats().events().doubleFrees());
            }
            assertTrue(f.heap.stats().liveBlocks() > 0);
            f.assertIntact();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
