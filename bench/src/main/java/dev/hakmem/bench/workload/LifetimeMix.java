package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A parser and a cache sharing a heap, the mix behind lifetime-aware allocation (LLAMA, Maas et al., ASPLOS 2020):
 * each thread serves requests for documents of {@value #BANDS} kinds; a request parses its document into a burst of
 * about 2 MiB of short-lived blocks from the {@link SiteHint#PARSE} site, sized in its kind's band, and keeps one
 * block in every {@value #CACHE_EVERY} (a parsed value worth keeping, sized like the blocks it was parsed from) from
 * the {@link SiteHint#CACHE} site, in a FIFO cache of {@value #CACHE_MIB} MiB per thread that frees its oldest
 * entries when full; at the request's end the burst is freed.
 *
 * <pre>
 *   request r (kind k):  parse parse parse cache parse ... parse   | free every parse block
 *   slabs of k's sizes:  [p p p c p p p p] [p p p p p c p p]       | [. . . c . . . .] [. . . . . c . .]
 *                                                                     each survivor pins a slab of k's classes
 * </pre>
 * An allocator that mixes the two lifetimes keeps every slab a survivor lands in, for as long as the survivor lives
 * (the cache's turnover, hundreds of requests): the slabs of all {@value #BANDS} kinds stay resident at once, each
 * mostly holes the next burst of the same kind can reuse but no other kind can. Segregated, the survivors pack into
 * slabs of their own, and the bursts' slabs empty and go back.
 *
 * <p>Why this is a fair model of the case, not one tuned to a result: the kinds are drawn at random (a server sees
 * a mix of document types, not a schedule), so every band is revisited and its holes refilled, which is what
 * slab-granular reuse needs; the survivors take their sizes from their own request's band, as a cached value
 * resembles what it was parsed from; the cache keeps tens of MiB (what made earlier variants with 2 to 4 MiB of
 * survivors lost in the JVM's own RSS); and one block in 64 survives, the shape of the previous mix. Nothing here
 * names a site rule or a size class: the same stream of requests runs on every allocator. One operation is one
 * allocation and its free.
 */
final class LifetimeMix implements Workload {
    static final int CACHE_EVERY = 64;
    /** The cache's capacity per thread, in MiB of requested bytes. */
    static final int CACHE_MIB = 24;
    static final int BANDS = 24;
    private static final long CACHE_BYTES = (long) CACHE_MIB << 20;
    /** At most this many entries fit the cache: all of the smallest size. */
    private static final int CACHE_SLOTS = (int) (CACHE_BYTES / 64) + 1;
    private static final long BURST_BYTES = 2L << 20;
    /** The kinds' size bands, [low, low * 1.35): geometric from 64 B, the last 62..84 KiB, each a few classes. */
    static final int[] BAND_LOW = bands();
    private static final long SEED = 0x11FE_3A7EL;

    private final String name;

    LifetimeMix(String name) {
        this.name = name;
    }

    private static int[] bands() {
        int[] low = new int[BANDS];
        double size = 64;
        for (int b = 0; b < BANDS; b++) {
            low[b] = (int) size;
            size *= 1.35;
        }
        return low;
    }

    /** The largest size of band {@code b}. */
    static int bandHigh(int b) {
        return (int) (BAND_LOW[b] * 1.35) - 1;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "lifetime mix: requests of ~2 MiB short-lived blocks in one of " + BANDS + " size bands (64 B.."
                + BAND_LOW[BANDS - 1] * 135 / 100 / 1024 + " KiB, drawn at random per request), 1 in " + CACHE_EVERY
                + " allocations a long-lived block of the request's band in a FIFO cache of " + CACHE_MIB
                + " MiB per thread";
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
        // A ring of entries: the oldest at head, count after it; cached bytes in it.
        long[] cache = new long[CACHE_SLOTS];
        int[] sizes = new int[CACHE_SLOTS];
        int head = 0;
        int count = 0;
        long cached = 0;
        long ops = 0;
        long allocations = 0;
        while (budget.more(ops)) {
            int band = random.nextInt(BANDS);
            int low = BAND_LOW[band];
            int high = bandHigh(band);
            long[] burst = new long[(int) Math.max(1, BURST_BYTES * 2 / (low + high))];
            for (int i = 0; i < burst.length; i++) {
                burst[i] = Blocks.allocate(allocator, random.nextInt(low, high + 1), SiteHint.PARSE);
                if (++allocations % CACHE_EVERY == 0) {
                    int size = random.nextInt(low, high + 1);
                    while (cached + size > CACHE_BYTES) {
                        allocator.free(cache[head]);
                        cached -= sizes[head];
                        head = (head + 1) % CACHE_SLOTS;
                        count--;
                        ops++;
                    }
                    int slot = (head + count++) % CACHE_SLOTS;
                    cache[slot] = Blocks.allocate(allocator, size, SiteHint.CACHE);
                    sizes[slot] = size;
                    cached += size;
                }
            }
            for (long block : burst) {
                allocator.free(block);
            }
            ops += burst.length;
        }
        for (int i = 0; i < count; i++) {
            allocator.free(cache[(head + i) % CACHE_SLOTS]);
        }
        return ops + count;
    }
}
