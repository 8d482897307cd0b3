package dev.hakmem.bench.jmh;

import dev.hakmem.HakMem;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A hakmem heap for the benchmarks of its {@code MemorySegment} API, made for each trial so that every trial starts
 * from an empty heap, as the peers' do.
 */
@State(Scope.Benchmark)
public class HeapState {
    private HakMem heap;

    @Setup(Level.Trial)
    public void setUp() {
        heap = HakMem.create();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        heap.close();
    }

    HakMem heap() {
        return heap;
    }
}
