package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

import java.util.Arrays;

/**
 * Larson's pattern: each of the {@code threads} lineages keeps {@code liveBlocks} blocks and replaces a random one
 * per operation, as {@link LocalChurn} does, but a thread lives for only {@code life} operations: then it ends and a
 * new thread takes over its blocks, freeing them as it replaces them. Blocks are freed by a thread other than the
 * one that allocated them, often one that has ended, so an allocator must take frees for dead threads' memory and
 * reclaim what they leave; with short lives that is most of the work.
 */
final class Successors implements Workload {
    private final String name;
    private final String origin;
    private final Sizes sizes;
    private final int liveBlocks;
    private final int life;

    /** {@code life} is rounded up to a multiple of {@link Budget#STRIDE}. */
    Successors(String name, String origin, Sizes sizes, int liveBlocks, int life) {
        this.name = name;
        this.origin = origin;
        this.sizes = sizes;
        this.liveBlocks = liveBlocks;
        this.life = life;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return origin + ": " + sizes + ", " + liveBlocks + " live per thread; after " + life
                + " operations a thread ends and a new thread takes over its blocks";
    }

    @Override
    public boolean freesOnOtherThreads() {
        return true;
    }

    @Override
    public long run(NativeAllocator allocator, int threads, Budget budget) {
        OpTable[] tables = new OpTable[threads];
        Arrays.setAll(tables, lineage -> new OpTable(sizes, liveBlocks, lineage));
        long[] operations = new long[threads];
        Crew.run(threads, lineage -> operations[lineage] = lineage(allocator, tables[lineage], budget));
        return Arrays.stream(operations).sum();
    }

    /** Runs on a crew thread that fills the blocks, starts one thread per life, one after another, and frees the rest. */
    private long lineage(NativeAllocator allocator, OpTable table, Budget budget) throws InterruptedException {
        Lineage state = new Lineage(table.fill(allocator));
        while (budget.more(state.replaced)) {
            // Thread start and join order each life after the previous one: the state needs no other fence.
            Crew.run(1, ignored -> live(allocator, table, budget, state));
        }
        for (long block : state.blocks) {
            allocator.free(block);
        }
        return liveBlocks + state.replaced;
    }

    private void live(NativeAllocator allocator, OpTable table, Budget budget, Lineage state) {
        long replaced = state.replaced;
        for (long end = replaced + life; replaced < end && budget.more(replaced); replaced += Budget.STRIDE) {
            table.replaceStride(allocator, state.blocks, replaced);
        }
        state.replaced = replaced;
    }

    /** What a thread hands to its successor. */
    private static final class Lineage {
        final long[] blocks;
        long replaced;

        Lineage(long[] blocks) {
            this.blocks = blocks;
        }
    }
}
