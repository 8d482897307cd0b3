package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

import java.util.SplittableRandom;

/**
 * One worker's pre-drawn operations, replayed cyclically: which live slot to replace and the new block's size. Drawn
 * before the run so that the random generator's cost is not measured, and from a fixed seed so that every allocator
 * replays the same sequence.
 */
final class OpTable {
    /** A power of two, so that the cursor wraps with a mask; large enough that the branch predictor cannot learn it. */
    private static final int LENGTH = 1 << 14;
    private static final int MASK = LENGTH - 1;
    private static final long SEED = 0x5EED_4A4BL;

    private final int liveBlocks;
    private final int[] slots = new int[LENGTH];
    private final int[] sizes = new int[LENGTH];

    /** The table of worker {@code worker}: each worker has its own sequence, the same in every run. */
    OpTable(Sizes sizeDistribution, int liveBlocks, int worker) {
        this.liveBlocks = liveBlocks;
        SplittableRandom random = new SplittableRandom(SEED + worker);
        for (int i = 0; i < LENGTH; i++) {
            slots[i] = random.nextInt(liveBlocks);
            sizes[i] = sizeDistribution.draw(random);
        }
    }

    /** The live blocks a worker starts with, allocated with the table's first sizes. */
    long[] fill(NativeAllocator allocator) {
        long[] blocks = new long[liveBlocks];
        for (int slot = 0; slot < liveBlocks; slot++) {
            blocks[slot] = Blocks.allocate(allocator, size(slot));
        }
        return blocks;
    }

    /** Replays operations {@code from} to {@code from + STRIDE - 1}: each frees a slot's block and refills the slot. */
    void replaceStride(NativeAllocator allocator, long[] blocks, long from) {
        for (long op = from, end = from + Budget.STRIDE; op < end; op++) {
            int slot = slots[(int) op & MASK];
            allocator.free(blocks[slot]);
            blocks[slot] = Blocks.allocate(allocator, size(op));
        }
    }

    int size(long op) {
        return sizes[(int) op & MASK];
    }
}
