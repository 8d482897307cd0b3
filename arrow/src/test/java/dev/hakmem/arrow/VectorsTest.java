package dev.hakmem.arrow;

import dev.hakmem.HakMem;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real Arrow vectors on hakmem memory, with {@link HeapAccounting#check} at each stage. */
class VectorsTest {

    private final HakMem heap = HakMem.create();
    private final RootAllocator root = new RootAllocator(RootAllocator.configBuilder()
            .allocationManagerFactory(HakMemAllocationManager.factory(heap)).build());

    @AfterEach
    void closeAll() {
        root.close();
        assertEquals(0, heap.stats().liveBlocks(), "every Arrow buffer was freed in hakmem");
        assertEquals(0, heap.stats().liveBytes());
        heap.close();
    }

    private static byte[] text(int i) {
        return ("row-" + i + "-" + "x".repeat(i % 37)).getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void intVectorOfAMillionRowsLivesInABigBlock() {
        try (IntVector v = new IntVector("ints", root)) {
            v.allocateNew(1_000_000);
            for (int i = 0; i < 1_000_000; i++) {
                v.set(i, i * 3);
            }
            v.setValueCount(1_000_000);
            HeapAccounting.check(heap, root, HeapAccounting.buffers(v));
            assertTrue(heap.usableSize(v.getDataBuffer().memoryAddress()) >= 4_000_000, "above 1 MiB: a Big block");
            long sum = 0;
            for (int i = 0; i < 1_000_000; i++) {
                sum += v.get(i);
            }
            assertEquals(3L * 999_999 * 1_000_000 / 2, sum);
        }
        HeapAccounting.check(heap, root, List.of());
    }

    @Test
    void varCharVectorGrowsByReallocationAndKeepsItsValues() {
        try (VarCharVector v = new VarCharVector("text", root)) {
            v.allocateNew(16, 4);
            long firstData = v.getDataBuffer().memoryAddress();
            for (int i = 0; i < 20_000; i++) {
                v.setSafe(i, text(i));
                if (i % 1000 == 0) {
                    HeapAccounting.check(heap, root, HeapAccounting.buffers(v));
                }
            }
            v.setValueCount(20_000);
            assertTrue(v.getDataBuffer().capacity() > 16 * 20, "the data buffer was reallocated");
            assertTrue(firstData != v.getDataBuffer().memoryAddress());
            for (int i = 0; i < 20_000; i++) {
                assertArrayEquals(text(i), v.get(i));
            }
            HeapAccounting.check(heap, root, HeapAccounting.buffers(v));
        }
    }

    @Test
    void aSchemaRootRoundTripsThroughTheStreamFormat() throws IOException {
        Schema schema = new Schema(List.of(
                new Field("id", FieldType.nullable(new ArrowType.Int(32, true)), null),
                new Field("name", FieldType.nullable(ArrowType.Utf8.INSTANCE), null)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<String> written = new ArrayList<>();
        try (BufferAllocator writing = root.newChildAllocator("write", 0, Long.MAX_VALUE);
             VectorSchemaRoot batch = VectorSchemaRoot.create(schema, writing);
             ArrowStreamWriter writer = new ArrowStreamWriter(batch, null, out)) {
            writer.start();
            for (int b = 0; b < 3; b++) {
                IntVector ids = (IntVector) batch.getVector("id");
                VarCharVector names = (VarCharVector) batch.getVector("name");
                batch.allocateNew();
                int rows = 5000 + b * 1000;
                for (int i = 0; i < rows; i++) {
                    ids.setSafe(i, b * 100_000 + i);
                    if (i % 7 == 0) {
                        names.setNull(i);
                    } else {
                        names.setSafe(i, text(i));
                    }
                }
                batch.setRowCount(rows);
                HeapAccounting.check(heap, root, HeapAccounting.buffers(batch));
                written.add(batch.contentToTSVString());
                writer.writeBatch();
            }
            writer.end();
        }
        HeapAccounting.check(heap, root, List.of());

        List<String> read = new ArrayList<>();
        try (BufferAllocator reading = root.newChildAllocator("read", 0, Long.MAX_VALUE);
             ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(out.toByteArray()), reading)) {
            while (reader.loadNextBatch()) {
                VectorSchemaRoot batch = reader.getVectorSchemaRoot();
                assertEquals(schema, batch.getSchema());
                HeapAccounting.check(heap, root, HeapAccounting.buffers(batch));
                read.add(batch.contentToTSVString());
            }
        }
        assertEquals(written, read);
        HeapAccounting.check(heap, root, List.of());
    }

    @Test
    void aTransferredVectorKeepsItsBlocks() {
        try (BufferAllocator a = root.newChildAllocator("a", 0, Long.MAX_VALUE);
             BufferAllocator b = root.newChildAllocator("b", 0, Long.MAX_VALUE);
             IntVector from = new IntVector("from", a);
             IntVector to = new IntVector("to", b)) {
            from.allocateNew(300_000);
            from.setValueCount(300_000);
            from.set(299_999, 7);
            long data = from.getDataBuffer().memoryAddress();
            from.makeTransferPair(to).transfer();
            assertEquals(0, a.getAllocatedMemory());
            assertEquals(7, to.get(299_999));
            assertEquals(data, to.getDataBuffer().memoryAddress(), "no copy");
            assertFalse(to.isNull(299_999));
            HeapAccounting.check(heap, root, HeapAccounting.buffers(to));
        }
    }
}
