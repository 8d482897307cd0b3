package dev.hakmem.netty;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.LeakReport;
import io.netty.buffer.ByteBuf;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A buffer misused on a heap in guard mode: hakmem's reports, and never an access to freed memory. */
class HakMemByteBufGuardTest {

    private static HakMem guarded(GuardOptions options) {
        return HakMem.create(HakMemConfig.builder().guard(options).build());
    }

    @Test
    void aSecondReleaseIsHakmemsDoubleFree() {
        try (HakMem heap = guarded(GuardOptions.on())) {
            ByteBuf buf = new HakMemByteBufAllocator(heap).directBuffer(64);
            long address = buf.memoryAddress();
            buf.release();
            DoubleFreeException e = assertThrows(DoubleFreeException.class, buf::release);
            assertEquals(address, e.address());
            assertTrue(e.getMessage().contains("already freed"), e.getMessage());
            assertInstanceOf(IllegalReferenceCountException.class, e.getSuppressed()[0]);
            assertEquals(1, heap.violations());
            assertThrows(DoubleFreeException.class, () -> buf.release(1));
            assertEquals(2, heap.violations());
            heap.check();
        }
    }

    @Test
    void reportingGuardCountsTheDoubleFreeAndNettyRefusesTheRelease() {
        try (HakMem heap = guarded(GuardOptions.on().withThrowOnViolation(false))) {
            ByteBuf buf = new HakMemByteBufAllocator(heap).directBuffer(64);
            buf.release();
            assertThrows(IllegalReferenceCountException.class, buf::release);
            assertEquals(1, heap.violations());
        }
    }

    @Test
    void overReleasingALiveBufferIsNettysErrorAlone() {
        try (HakMem heap = guarded(GuardOptions.on())) {
            ByteBuf buf = new HakMemByteBufAllocator(heap).directBuffer(64);
            assertThrows(IllegalReferenceCountException.class, () -> buf.release(2));
            assertEquals(1, buf.refCnt());
            assertEquals(0, heap.violations());
            buf.release();
        }
    }

    @Test
    void withoutGuardModeASecondReleaseIsNettysErrorAndTheHeapIsIntact() {
        try (HakMem heap = HakMem.create()) {
            HakMemByteBufAllocator alloc = new HakMemByteBufAllocator(heap);
            ByteBuf buf = alloc.directBuffer(64);
            buf.release();
            ByteBuf other = alloc.directBuffer(64);
            assertThrows(IllegalReferenceCountException.class, buf::release);
            assertEquals(1, heap.stats().liveBlocks(), "the second release freed another buffer's block");
            assertEquals(0, heap.stats().events().invalidFrees());
            other.release();
        }
    }

    /**
     * Every access through a released buffer is refused before memory is touched: the freed block's poison is still
     * intact afterwards (check() verifies every quarantined block's poison), and no read returns its contents.
     */
    @Test
    void aReleasedBufferNeverTouchesTheFreedBlock() {
        try (HakMem heap = guarded(GuardOptions.on())) {
            ByteBuf buf = new HakMemByteBufAllocator(heap).directBuffer(256);
            buf.writeLong(42);
            ByteBuf slice = buf.slice(0, 8);
            buf.release();
            List<Consumer<ByteBuf>> accesses = List.of(
                    b -> b.setByte(0, 1), b -> b.writeLong(1), b -> b.setBytes(0, new byte[8]),
                    b -> b.setBytes(0, ByteBuffer.allocate(8)), b -> b.getByte(0), b -> b.getLong(0),
                    b -> b.readByte(), b -> b.getBytes(0, new byte[8]), b -> b.nioBuffer(), b -> b.memoryAddress(),
                    b -> b.copy(), b -> b.retain());
            for (ByteBuf b : List.of(buf, slice)) {
                for (Consumer<ByteBuf> access : accesses) {
                    assertThrows(IllegalReferenceCountException.class, () -> access.accept(b));
                }
            }
            assertThrows(IllegalReferenceCountException.class, () -> buf.capacity(512));
            heap.check();
            assertEquals(0, heap.violations());
            assertEquals(0, heap.stats().liveBlocks());
        }
    }

    @Test
    void aWriteAfterReleaseThroughAStaleNioBufferIsReported() {
        try (HakMem heap = guarded(GuardOptions.on())) {
            ByteBuf buf = new HakMemByteBufAllocator(heap).directBuffer(128);
            ByteBuffer stale = buf.nioBuffer(0, 128);
            buf.release();
            stale.put(5, (byte) 1);
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
            assertTrue(e.getMessage().contains("write after free"), e.getMessage());
        }
    }

    @Test
    void aLeakedBufferIsInTheLeakReportUnderItsSite() {
        try (HakMem heap = guarded(GuardOptions.on())) {
            HakMemByteBufAllocator alloc = new HakMemByteBufAllocator(heap);
            ByteBuf released = alloc.directBuffer(100);
            ByteBuf leaked = leak(alloc);
            released.release();
            LeakReport report = heap.leakReport();
            assertEquals(1, report.blocks());
            assertEquals(1000, report.bytes());
            assertTrue(report.sites().getFirst().stack().contains("HakMemByteBufGuardTest.leak"), report.toString());
            leaked.release();
            assertEquals(0, heap.leakReport().blocks());
        }
    }

    private static ByteBuf leak(HakMemByteBufAllocator alloc) {
        return alloc.directBuffer(1000);
    }
}
