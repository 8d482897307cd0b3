package dev.hakmem.bench.peer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every peer hands out distinct, writable blocks that keep their contents until freed. */
class PeersTest {
    static final List<String> NAMES = Peers.NAMES;

    /** A peer whose library is not installed is skipped, as the benchmarks skip it. */
    private static NativeAllocator createOrSkip(String name) {
        try {
            return Peers.create(name);
        } catch (PeerUnavailableException e) {
            return Assumptions.abort(e.getMessage());
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void blocksAreDistinctWritableAndKeepTheirContents(String name) {
        MemorySegment all = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
        try (NativeAllocator peer = createOrSkip(name)) {
            assertEquals(name, peer.name());
            int count = 200;
            long[] blocks = new long[count];
            Set<Long> distinct = new HashSet<>();
            for (int i = 0; i < count; i++) {
                long size = 16 + i * 5L;
                blocks[i] = peer.malloc(size);
                assertNotEquals(0, blocks[i]);
                assertTrue(distinct.add(blocks[i]), "address handed out twice");
                all.asSlice(blocks[i], size).fill((byte) i);
            }
            for (int i = 0; i < count; i++) {
                long size = 16 + i * 5L;
                assertEquals((byte) i, all.get(JAVA_BYTE, blocks[i]));
                assertEquals((byte) i, all.get(JAVA_BYTE, blocks[i] + size - 1));
                peer.free(blocks[i]);
            }
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void createsThePeerItIsAskedFor(String name) {
        try (NativeAllocator peer = createOrSkip(name)) {
            assertEquals(name, peer.name());
        }
    }

    @Test
    void unknownNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Peers.create("no-such-allocator"));
    }
}
