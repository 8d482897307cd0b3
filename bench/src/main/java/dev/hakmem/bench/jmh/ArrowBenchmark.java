package dev.hakmem.bench.jmh;

import dev.hakmem.arrow.HakMemAllocationManager;
import org.apache.arrow.memory.AllocationManager;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.memory.netty.NettyAllocationManager;
import org.apache.arrow.memory.unsafe.UnsafeAllocationManager;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Issue 13's Arrow measurement: build a {@code rows}-row VectorSchemaRoot (an int column and a varchar column of
 * 6..23-byte strings, filled with setSafe so that the vectors grow by reallocation as real loaders do) and release
 * it, on hakmem's allocation manager against Arrow's Netty and Unsafe ones. One op is one root built and closed;
 * the score is time per op. The root allocator lives for the trial, so the managers' pools and caches stay warm.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
        // Arrow's MemoryUtil (all three managers) and Netty's direct buffers (the Netty manager).
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-Dio.netty.tryReflectionSetAccessible=true"})
public class ArrowBenchmark {

    private static final Schema SCHEMA = new Schema(List.of(
            new Field("id", FieldType.notNullable(new ArrowType.Int(32, true)), null),
            new Field("name", FieldType.nullable(ArrowType.Utf8.INSTANCE), null)));

    /** The allocation manager: hakmem (global heap), netty (Arrow's default) or unsafe. */
    @Param({"hakmem", "netty", "unsafe"})
    public String manager;

    @Param({"1000000"})
    public int rows;

    private BufferAllocator allocator;
    private byte[][] names;

    @Setup(Level.Trial)
    public void open() {
        // BaseAllocator first: UnsafeAllocationManager's static initializer reaches it (through ArrowBuf) before its
        // own FACTORY is set, and BaseAllocator's default config, reading that FACTORY, would find null.
        RootAllocator.configBuilder();
        AllocationManager.Factory factory = switch (manager) {
            case "hakmem" -> HakMemAllocationManager.FACTORY;
            case "netty" -> NettyAllocationManager.FACTORY;
            case "unsafe" -> UnsafeAllocationManager.FACTORY;
            default -> throw new IllegalArgumentException("unknown allocation manager: " + manager);
        };
        allocator = new RootAllocator(RootAllocator.configBuilder().allocationManagerFactory(factory).build());
        names = new byte[1024][];
        for (int i = 0; i < names.length; i++) {
            names[i] = ("name-" + i + "-" + "x".repeat(i % 13)).getBytes(StandardCharsets.UTF_8);
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        allocator.close();
    }

    /** One op: create the root, fill {@code rows} rows, read its size, close it (every buffer released). */
    @Benchmark
    public long buildAndRelease() {
        try (VectorSchemaRoot root = VectorSchemaRoot.create(SCHEMA, allocator)) {
            IntVector ids = (IntVector) root.getVector(0);
            VarCharVector text = (VarCharVector) root.getVector(1);
            root.allocateNew();
            for (int i = 0; i < rows; i++) {
                ids.setSafe(i, i);
                text.setSafe(i, names[i & 1023]);
            }
            root.setRowCount(rows);
            return allocator.getAllocatedMemory();
        }
    }
}
