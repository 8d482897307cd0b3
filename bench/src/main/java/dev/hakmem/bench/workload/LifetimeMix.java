package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A parser and a cache sharing a heap, the mix behind lifetime-aware allocation (LLAMA, Maas et al., ASPLOS 2020):
 * each thread serves requests; a request allocates a burst of about 2 MiB of short-lived blocks from the
 * {@link SiteHint#PARSE} site, in a size range that changes from request to request, and one block in every
 * {@value #CACHE_EVERY} from the {@link SiteHint#CACHE} site, kept in a FIFO cache of {@value #CACHE_BLOCKS} blocks
 * that frees its oldest entry when full; at the request's end the burst is freed.
 *
 * <pre>
 *   request r:  parse parse parse cache parse parse ... parse   | free every parse block
 *   slabs:      [p p p c p p p p] [p p p p p c p p]             | [. . . c . . . .] [. . . . . c . .]
 *                                                                  a survivor pins each slab the burst used
 * </pre>
 * An allocator that mixes the two lifetimes in the same slabs keeps every slab a survivor lands in; with the size
 * range moving, the next bursts cannot reuse them and take fresh memory: RSS grows with the cache's spread, not its
 * size. One operation is one allocation and its free.
 */
final class LifetimeMix implements Workload {
    static final int CACHE_EVERY = 64;
    static final int CACHE_BLOCKS = 8192;
    private static final long BURST_BYTES = 2L << 20;
    /** The bursts' size ranges, in turn: tiny, small, mid, larger mid. */
    private static final int[][] RANGES = {{64, 256}, {512, 1024}, {2048, 4096}, {8192, 16384}};
    private static final long SEED = 0x11FE_3A7EL;

    private final String name;

    LifetimeMix(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "lifetime mix: requests of ~2 MiB short-lived blocks (64 B..16 KiB, the range changing per request)"
                + ", 1 in " + CACHE_EVERY + " allocations a long-lived 64..512 B block in a FIFO cache of "
                + CACHE_BLOCKS + " per thread";
    }

    @Override
    public boolean freesOnOtherThreads() {
        return false;
    }

    @Override
    public long run(NativeAllocator allocator, int threads, Budget budget) {
        long[] operations = new long[threads];
        Crew.run(threads, worker -> operations[worker] = serve(allocator, worker, budget));
        return Arrays.stream(operations).sum();
    }

    private static long serve(NativeAllocator allocator, int worker, Budget budget) {
        SplittableRandom random = new SplittableRandom(SEED + worker);
        // A ring: the oldest entry at head, count entries after it.
        long[] cache = new long[CACHE_BLOCKS];
        int head = 0;
        int count = 0;
        long ops = 0;
        for (int request = 0; budget.more(ops); request++) {
            int[] range = RANGES[request % RANGES.length];
            long[] burst = new long[(int) (BURST_BYTES * 2 / (range[0] + range[1]))];
            for (int i = 0; i < burst.length; i++) {
                burst[i] = Blocks.allocate(allocator, random.nextInt(range[0], range[1] + 1), SiteHint.PARSE);
                if (i % CACHE_EVERY == CACHE_EVERY - 1) {
                    long entry = Blocks.allocate(allocator, random.nextInt(64, 513), SiteHint.CACHE);
                    if (count == CACHE_BLOCKS) {
                        allocator.free(cache[head]);
                        ops++;
                        cache[head] = entry;
                        head = (head + 1) % CACHE_BLOCKS;
                    } else {
                        cache[(head + count++) % CACHE_BLOCKS] = entry;
                    }
                }
            }
            for (long block : burst) {
                allocator.free(block);
            }
            ops += burst.length;
        }
        for (int i = 0; i < count; i++) {
            allocator.free(cache[(head + i) % CACHE_BLOCKS]);
        }
        return ops + count;
    }
}
