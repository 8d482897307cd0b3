package dev.hakmem.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.function.LongBinaryOperator;
import java.util.function.LongConsumer;

/**
 * A confined {@link Arena} over a hakmem heap: each segment is a heap block whose lifetime is tied to a confined
 * JDK arena's scope, so closing this arena makes every segment inaccessible first and then frees the blocks.
 */
public final class BlockArena implements Arena {
    private final LongBinaryOperator allocate;
    private final LongConsumer free;
    private final Arena scope = Arena.ofConfined();
    private final Thread owner = Thread.currentThread();
    private long[] blocks = new long[16];
    private int count;

    /** Blocks come from {@code allocate(size, alignment)} and go back through {@code free}. */
    public BlockArena(LongBinaryOperator allocate, LongConsumer free) {
        this.allocate = allocate;
        this.free = free;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        checkOwner();
        if (!scope.scope().isAlive()) {
            throw new IllegalStateException("arena closed");
        }
        long address = allocate.applyAsLong(byteSize, byteAlignment);
        if (count == blocks.length) {
            blocks = Arrays.copyOf(blocks, count * 2);
        }
        blocks[count++] = address;
        return MemorySegment.ofAddress(address).reinterpret(byteSize, scope, null);
    }

    @Override
    public MemorySegment.Scope scope() {
        return scope.scope();
    }

    @Override
    public void close() {
        checkOwner();
        scope.close();
        for (int i = 0; i < count; i++) {
            free.accept(blocks[i]);
        }
        count = 0;
    }

    private void checkOwner() {
        if (Thread.currentThread() != owner) {
            throw new WrongThreadException("arena owned by " + owner);
        }
    }
}
