package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

import java.util.Arrays;

/**
 * Each thread keeps {@code liveBlocks} blocks and, per operation, frees the block in a random slot and allocates a
 * new block of a random size into it; every block is freed by the thread that allocated it. With many live blocks
 * the frees come in no particular order and the size classes mix; with one live block it is allocate, use, free.
 */
final class LocalChurn implements Workload {
    private final String name;
    private final String origin;
    private final Sizes sizes;
    private final int liveBlocks;

    /** {@code origin} says where the pattern comes from, for the description. */
    LocalChurn(String name, String origin, Sizes sizes, int liveBlocks) {
        this.name = name;
        this.origin = origin;
        this.sizes = sizes;
        this.liveBlocks = liveBlocks;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return origin + ": " + sizes + ", " + liveBlocks + " live per thread, each thread frees its own blocks";
    }

    @Override
    public boolean freesOnOtherThreads() {
        return false;
    }

    @Override
    public long run(NativeAllocator allocator, int threads, Budget budget) {
        // Drawn before the clock starts for any thread.
        OpTable[] tables = new OpTable[threads];
        Arrays.setAll(tables, worker -> new OpTable(sizes, liveBlocks, worker));
        long[] operations = new long[threads];
        Crew.run(threads, worker -> operations[worker] = churn(allocator, tables[worker], budget));
        return Arrays.stream(operations).sum();
    }

    private long churn(NativeAllocator allocator, OpTable table, Budget budget) {
        long[] blocks = table.fill(allocator);
        long replaced = 0;
        while (budget.more(replaced)) {
            table.replaceStride(allocator, blocks, replaced);
            replaced += Budget.STRIDE;
        }
        for (long block : blocks) {
            allocator.free(block);
        }
        return liveBlocks + replaced;
    }
}
