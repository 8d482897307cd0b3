package dev.hakmem.netty;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.HakMemOutOfMemoryError;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.CompositeByteBuf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link io.netty.buffer.ByteBufAllocator} promises, on buffers that are hakmem blocks. */
class HakMemByteBufAllocatorTest {

    private final HakMem heap = HakMem.create();
    private final HakMemByteBufAllocator alloc = new HakMemByteBufAllocator(heap);

    @AfterEach
    void everyBlockGivenBack() {
        heap.check();
        assertEquals(0, heap.stats().liveBlocks(), "a buffer's block outlived its release");
        heap.close();
    }

    private static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    private static byte[] readable(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }

    /** The buffer's memory is exactly one live block of this heap, with room for the whole capacity. */
    private void assertOwnBlock(ByteBuf buf) {
        assertTrue(buf.isDirect());
        assertTrue(buf.hasMemoryAddress());
        assertTrue(heap.usableSize(buf.memoryAddress()) >= buf.capacity(),
                "capacity " + buf.capacity() + " beyond the block's usable size");
    }

    @Test
    void directBuffersAreHeapBlocksFreedAtRefCntZero() {
        ByteBuf buf = alloc.directBuffer(100);
        assertOwnBlock(buf);
        assertEquals(100, buf.capacity());
        assertEquals(1, heap.stats().liveBlocks());
        assertTrue(alloc.isDirectBufferPooled());
        assertSame(alloc, buf.alloc());
        assertTrue(buf.release());
        assertEquals(0, buf.refCnt());
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void bufferAndIoBufferAreDirectHeapBufferIsNot() {
        ByteBuf plain = alloc.buffer();
        ByteBuf io = alloc.ioBuffer(1000, 2000);
        ByteBuf onHeap = alloc.heapBuffer(64);
        assertOwnBlock(plain);
        assertOwnBlock(io);
        assertEquals(2000, io.maxCapacity());
        assertFalse(onHeap.isDirect());
        assertTrue(onHeap.hasArray());
        assertEquals(2, heap.stats().liveBlocks(), "a heap buffer took a hakmem block");
        plain.release();
        io.release();
        onHeap.release();
    }

    @Test
    void capacityGrowsThroughANewBlockAndKeepsTheContents() {
        ByteBuf buf = alloc.directBuffer(16, 100_000);
        byte[] data = bytes(70_000, 3);
        buf.writeBytes(data, 0, 10);
        long first = buf.memoryAddress();
        buf.writeBytes(data, 10, data.length - 10);
        assertTrue(buf.capacity() >= data.length);
        assertNotEquals(first, buf.memoryAddress());
        assertOwnBlock(buf);
        assertEquals(1, heap.stats().liveBlocks(), "the grown-out block was not freed");
        assertArrayEquals(data, readable(buf));

        buf.capacity(40);
        assertEquals(40, buf.capacity());
        assertOwnBlock(buf);
        assertArrayEquals(Arrays.copyOf(data, 40), readable(buf));
        buf.release();
    }

    @Test
    void maxCapacityIsEnforced() {
        ByteBuf buf = alloc.directBuffer(8, 32);
        buf.writeBytes(new byte[32]);
        assertThrows(IndexOutOfBoundsException.class, () -> buf.writeByte(1));
        assertThrows(IllegalArgumentException.class, () -> buf.capacity(33));
        assertThrows(IllegalArgumentException.class, () -> alloc.directBuffer(64, 32));
        assertEquals(32, buf.capacity());
        buf.release();
    }

    /** A growth the heap cannot serve fails with hakmem's error and leaves the buffer as it was. */
    @Test
    void aFailedGrowthLosesNothing() {
        try (HakMem small = HakMem.create(HakMemConfig.builder().mappedLimit(4 << 20).build())) {
            HakMemByteBufAllocator limited = new HakMemByteBufAllocator(small);
            ByteBuf buf = limited.directBuffer(1000, 64 << 20);
            byte[] data = bytes(1000, 4);
            buf.writeBytes(data);
            long address = buf.memoryAddress();
            HakMemOutOfMemoryError e = assertThrows(HakMemOutOfMemoryError.class, () -> buf.capacity(32 << 20));
            assertEquals(32 << 20, e.requestedBytes());
            assertEquals(1000, buf.capacity());
            assertEquals(address, buf.memoryAddress());
            assertArrayEquals(data, readable(buf));
            assertThrows(HakMemOutOfMemoryError.class, () -> limited.directBuffer(16 << 20));
            assertEquals(1, small.stats().liveBlocks());
            buf.release();
            small.check();
            assertEquals(0, small.stats().liveBlocks());
        }
    }

    /** A buffer released on another thread, as when an event loop hands it on, goes back as a remote free. */
    @Test
    void buffersReleasedOnAnotherThreadGoBack() throws InterruptedException {
        List<ByteBuf> bufs = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            bufs.add(alloc.directBuffer(64 + i).writeInt(i));
        }
        Thread releaser = new Thread(() -> bufs.forEach(ByteBuf::release));
        releaser.start();
        releaser.join();
        bufs.forEach(b -> assertEquals(0, b.refCnt()));
        assertTrue(heap.stats().events().remoteFrees() > 0);
    }

    @Test
    void zeroCapacityIsABlockToo() {
        ByteBuf buf = alloc.directBuffer(0);
        assertOwnBlock(buf);
        buf.writeInt(7);
        assertEquals(7, buf.readInt());
        buf.release();
    }

    @Test
    void derivedBuffersShareTheRefCntAndTheBlock() {
        ByteBuf buf = alloc.directBuffer(256);
        buf.writeBytes(bytes(256, 1));
        ByteBuf slice = buf.slice(10, 20);
        ByteBuf dup = buf.duplicate();
        ByteBuf retained = buf.retainedSlice(100, 50);
        assertEquals(2, buf.refCnt());
        assertEquals(2, slice.refCnt());
        assertEquals(buf.memoryAddress() + 100, retained.memoryAddress());
        slice.setByte(0, 0x55);
        assertEquals(0x55, buf.getByte(10));
        assertEquals(0x55, dup.getByte(10));

        assertFalse(buf.release());
        assertEquals(1, heap.stats().liveBlocks(), "freed while a retained slice still holds a reference");
        assertEquals(bytes(256, 1)[100], retained.getByte(0));
        buf.retain(2);
        assertFalse(buf.release(2));
        assertTrue(retained.release());
        assertEquals(0, heap.stats().liveBlocks());
    }

    @Test
    void nioBuffersViewTheBlock() {
        ByteBuf buf = alloc.directBuffer(128);
        buf.writeBytes(bytes(128, 9));
        assertEquals(1, buf.nioBufferCount());
        ByteBuffer nio = buf.nioBuffer(32, 64);
        long at = MemorySegment.ofBuffer(nio).address();
        assertEquals(buf.memoryAddress() + 32, at);
        nio.put(0, (byte) 0x7A);
        assertEquals(0x7A, buf.getByte(32));
        ByteBuffer[] all = buf.nioBuffers();
        assertEquals(1, all.length);
        assertEquals(128, all[0].remaining());
        assertEquals(buf.memoryAddress(), MemorySegment.ofBuffer(all[0]).address());
        buf.release();
    }

    @Test
    void compositeBuffersFreeEveryComponent() {
        CompositeByteBuf composite = alloc.compositeDirectBuffer();
        byte[] a = bytes(300, 1);
        byte[] b = bytes(5000, 2);
        composite.addComponent(true, alloc.directBuffer().writeBytes(a));
        composite.addComponent(true, alloc.directBuffer().writeBytes(b));
        assertEquals(2, heap.stats().liveBlocks());
        assertEquals(2, composite.nioBufferCount());
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        assertArrayEquals(both, readable(composite));
        composite.release();
        assertEquals(0, heap.stats().liveBlocks());

        CompositeByteBuf onHeap = alloc.compositeHeapBuffer(4);
        onHeap.addComponent(true, alloc.heapBuffer().writeBytes(a));
        assertEquals(0, heap.stats().liveBlocks());
        assertArrayEquals(a, readable(onHeap));
        onHeap.release();
    }

    @Test
    void channelsReadAndWriteTheBlock(@TempDir Path dir) throws IOException {
        byte[] data = bytes(10_000, 5);
        ByteBuf out = alloc.directBuffer(data.length).writeBytes(data);
        ByteBuf in = alloc.directBuffer(data.length);
        try (FileChannel file = FileChannel.open(dir.resolve("f"), StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertEquals(data.length, out.getBytes(0, file, 0, data.length));
            assertEquals(data.length, in.setBytes(0, file, 0, data.length));
        }
        in.writerIndex(data.length);
        assertArrayEquals(data, readable(in));

        Pipe pipe = Pipe.open();
        ByteBuf back = alloc.directBuffer(600);
        assertEquals(500, out.getBytes(100, pipe.sink(), 500));
        assertEquals(500, back.writeBytes(pipe.source(), 500));
        assertArrayEquals(Arrays.copyOfRange(data, 100, 600), readable(back));

        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        out.getBytes(0, stream, 64);
        assertArrayEquals(Arrays.copyOf(data, 64), stream.toByteArray());
        assertEquals(64, back.setBytes(0, new ByteArrayInputStream(data), 64));
        assertArrayEquals(Arrays.copyOf(data, 64), Arrays.copyOf(readable(back), 64));
        pipe.sink().close();
        pipe.source().close();
        out.release();
        in.release();
        back.release();
    }

    @Test
    void metricReportsTheHeapsLiveBytesAndTheHeapBuffers() {
        ByteBufAllocatorMetric metric = alloc.metric();
        assertEquals(0, metric.usedDirectMemory());
        ByteBuf direct = alloc.directBuffer(1000);
        ByteBuf onHeap = alloc.heapBuffer(3000);
        assertEquals(heap.stats().liveBytes(), metric.usedDirectMemory());
        assertTrue(metric.usedDirectMemory() >= 1000);
        assertEquals(3000, metric.usedHeapMemory());
        onHeap.capacity(5000);
        assertEquals(5000, metric.usedHeapMemory());
        assertTrue(metric.toString().contains("usedDirectMemory"));
        direct.release();
        onHeap.release();
        assertEquals(0, metric.usedDirectMemory());
        assertEquals(0, metric.usedHeapMemory());
    }

    @Test
    void theDefaultDrawsFromTheGlobalHeap() {
        assertSame(HakMem.global(), HakMemByteBufAllocator.DEFAULT.heap());
        ByteBuf buf = HakMemByteBufAllocator.DEFAULT.directBuffer(48);
        buf.writeCharSequence("global", StandardCharsets.US_ASCII);
        assertTrue(HakMem.global().usableSize(buf.memoryAddress()) >= 48);
        assertTrue(HakMemByteBufAllocator.DEFAULT.toString().contains("global"));
        buf.release();
    }

    /**
     * A refused {@code hakmem.*} setting fails the default allocator's calls, naming the setting, and leaves the
     * class usable over other heaps, in a JVM of its own (the global heap is the process's). The default was made in
     * the class's initializer: global()'s refusal became ExceptionInInitializerError, then NoClassDefFoundError for
     * {@code new HakMemByteBufAllocator(heap)} as well.
     */
    @Test
    void aRefusedGlobalSettingFailsOnlyTheDefaultsCalls() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-Dhakmem.guardTraceRing=4g",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                RefusedGlobalChild.class.getName())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        String refusal = "java.lang.IllegalStateException: hakmem: the global heap could not be created:"
                + " hakmem.guardTraceRing: not in [1, 1048576]: 4g";
        assertEquals(List.of(refusal, refusal, "own heap: 48 bytes written", "HakMemByteBufAllocator[HakMem.global()]"),
                out.lines().toList());
    }

    /** The child: the default allocator asked twice for a buffer, then an allocator over a heap of its own. */
    static final class RefusedGlobalChild {
        public static void main(String[] args) {
            for (int i = 0; i < 2; i++) {
                try {
                    System.out.println("returned " + HakMemByteBufAllocator.DEFAULT.directBuffer(48));
                } catch (RuntimeException | Error e) {
                    System.out.println(e.getClass().getName() + ": " + e.getMessage());
                }
            }
            try (HakMem own = HakMem.create()) {
                ByteBuf buf = new HakMemByteBufAllocator(own).directBuffer(48);
                buf.writeBytes(new byte[48]);
                System.out.println("own heap: " + buf.readableBytes() + " bytes written");
                buf.release();
            }
            System.out.println(HakMemByteBufAllocator.DEFAULT);
        }
    }
}
