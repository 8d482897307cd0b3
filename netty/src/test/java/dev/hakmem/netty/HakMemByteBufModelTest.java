package dev.hakmem.netty;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.IllegalReferenceCountException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random sequences of buffer operations (allocate, write, resize, retain, derive, compose, write through nioBuffer,
 * release) against a model of each buffer's contents, with the identities that must hold after every step: each
 * live buffer reads as its model, its memory is a live block of the heap with room for its capacity, the heap holds
 * exactly one live block per live buffer, and (every few steps, and at the end) the heap passes {@link HakMem#check()},
 * which in guard mode also proves that no released buffer wrote to its freed block.
 */
class HakMemByteBufModelTest {
    private static final int STEPS = 400;

    /** A live root buffer and what it must read as (its readable bytes; the reader index stays 0). */
    private record Live(ByteBuf buf, byte[][] model) {
        byte[] contents() {
            return model[0];
        }
    }

    @ParameterizedTest(name = "seed {0}, guard {1}")
    @CsvSource({"1, false", "2, false", "3, true", "4, true"})
    void everyStepKeepsTheIdentities(long seed, boolean guard) {
        HakMem heap = HakMem.create(HakMemConfig.builder().guard(guard ? GuardOptions.on() : GuardOptions.off())
                .build());
        HakMemByteBufAllocator alloc = new HakMemByteBufAllocator(heap);
        Random rnd = new Random(seed);
        List<Live> live = new ArrayList<>();
        try {
            for (int step = 0; step < STEPS; step++) {
                String where = "seed " + seed + ", step " + step;
                step(alloc, rnd, live, where);
                for (Live l : live) {
                    assertArrayEquals(l.contents(), readable(l.buf), where);
                    assertTrue(heap.usableSize(l.buf.memoryAddress()) >= l.buf.capacity(), where);
                }
                assertEquals(live.size(), heap.stats().liveBlocks(), where + ": live blocks against live buffers");
                if (step % 16 == 0) {
                    heap.check();
                }
            }
            for (Live l : live) {
                l.buf.release();
            }
            heap.check();
            assertEquals(0, heap.stats().liveBlocks());
            assertEquals(0, heap.violations());
        } finally {
            heap.close();
        }
    }

    private static void step(HakMemByteBufAllocator alloc, Random rnd, List<Live> live, String where) {
        int op = live.isEmpty() ? 0 : rnd.nextInt(8);
        Live l = live.isEmpty() ? null : live.get(rnd.nextInt(live.size()));
        switch (op) {
            case 0 -> {
                int capacity = size(rnd);
                int max = capacity + rnd.nextInt(2 * capacity + 64);
                live.add(new Live(alloc.directBuffer(capacity, max), new byte[][]{new byte[0]}));
            }
            case 1 -> {
                int n = Math.min(l.buf.maxWritableBytes(), rnd.nextInt(9000));
                byte[] data = new byte[n];
                rnd.nextBytes(data);
                l.buf.writeBytes(data);
                byte[] grown = Arrays.copyOf(l.contents(), l.contents().length + n);
                System.arraycopy(data, 0, grown, l.contents().length, n);
                l.model[0] = grown;
            }
            case 2 -> {
                int capacity = rnd.nextInt(l.buf.maxCapacity() + 1);
                l.buf.capacity(capacity);
                l.model[0] = Arrays.copyOf(l.contents(), Math.min(capacity, l.contents().length));
            }
            case 3 -> {
                int length = l.contents().length;
                int from = rnd.nextInt(length + 1);
                int to = from + rnd.nextInt(length - from + 1);
                ByteBuf slice = l.buf.retainedSlice(from, to - from);
                assertArrayEquals(Arrays.copyOfRange(l.contents(), from, to), readable(slice), where);
                ByteBuf dup = l.buf.retainedDuplicate();
                assertEquals(3, l.buf.refCnt(), where);
                assertFalse(slice.release(), where);
                assertFalse(dup.release(), where);
                assertEquals(1, l.buf.refCnt(), where);
            }
            case 4 -> {
                if (l.contents().length > 0) {
                    int i = rnd.nextInt(l.contents().length);
                    byte b = (byte) rnd.nextInt();
                    l.buf.nioBuffer().put(i, b);
                    l.contents()[i] = b;
                }
            }
            case 5 -> {
                Live other = live.get(rnd.nextInt(live.size()));
                CompositeByteBuf composite = alloc.compositeDirectBuffer();
                composite.addComponents(true, l.buf.retainedDuplicate(), other.buf.retainedDuplicate());
                byte[] both = Arrays.copyOf(l.contents(), l.contents().length + other.contents().length);
                System.arraycopy(other.contents(), 0, both, l.contents().length, other.contents().length);
                assertArrayEquals(both, readable(composite), where);
                composite.release();
            }
            case 6 -> {
                l.buf.retain();
                assertEquals(2, l.buf.refCnt(), where);
                l.buf.release();
            }
            default -> {
                live.remove(l);
                assertTrue(l.buf.release(), where);
                assertThrows(IllegalReferenceCountException.class, () -> l.buf.getByte(0), where);
            }
        }
    }

    /** Mostly small, some up to 64 KiB and beyond, like Netty's I/O buffers. */
    private static int size(Random rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> rnd.nextInt(64);
            case 1 -> rnd.nextInt(1024);
            case 2 -> rnd.nextInt(16 * 1024);
            default -> rnd.nextInt(80 * 1024);
        };
    }

    private static byte[] readable(ByteBuf buf) {
        byte[] out = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), out);
        return out;
    }
}
