package dev.hakmem.arrow;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HeapCorruptionException;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.RootAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Misuse of Arrow buffers on a heap in guard mode: what Arrow's own checks catch is a clean exception that never
 * reaches the heap; what gets past them (an unchecked access to a stale address, as with
 * {@code arrow.enable_unsafe_memory_access=true}) is a hakmem report, never a crash.
 */
class GuardModeTest {

    /** Sites deep enough to reach past Arrow's allocation frames to the caller. */
    private final HakMem heap = HakMem.create(HakMemConfig.builder()
            .guard(GuardOptions.on().withSites(24, 1)).build());
    private final RootAllocator root = new RootAllocator(RootAllocator.configBuilder()
            .allocationManagerFactory(HakMemAllocationManager.factory(heap)).build());

    @AfterEach
    void closeAll() {
        root.close();
        heap.close();
    }

    @Test
    void useAndDoubleReleaseAfterReleaseAreRefusedByArrow() {
        ArrowBuf buf = root.buffer(256);
        buf.setInt(0, 1);
        buf.close();
        assertThrows(IllegalStateException.class, () -> buf.getInt(0));
        assertThrows(IllegalStateException.class, () -> buf.setInt(0, 2));
        assertThrows(IllegalStateException.class, buf::close);
        assertEquals(0, heap.violations(), "nothing reached the heap");
        heap.check();
    }

    @Test
    void anUncheckedWriteAfterReleaseIsAHakmemReport() {
        ArrowBuf buf = root.buffer(256);
        long stale = buf.memoryAddress();
        buf.close();
        MemorySegment.ofAddress(stale).reinterpret(256).set(ValueLayout.JAVA_INT, 16, 0x1234_5678);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertTrue(e.getMessage().contains(Long.toString(stale)) || e.getMessage().contains(Long.toHexString(stale)),
                e.getMessage());
    }

    @Test
    void aLeakedBufferIsInTheHeapsLeakReport() {
        ArrowBuf buf = root.buffer(1000);
        assertEquals(1, heap.leakReport().blocks());
        assertTrue(heap.leakReport().toString().contains(GuardModeTest.class.getName()),
                "the site names the test that allocated: " + heap.leakReport());
        buf.close();
        assertEquals(0, heap.leakReport().blocks());
    }
}
