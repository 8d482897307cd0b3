package dev.hakmem;

import dev.hakmem.os.Mem;
import dev.hakmem.registry.Registry;
import dev.hakmem.slab.SuperSlab;
import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Allocation sites through the public API: naming, exact profiles with a sampling period of one byte, the estimates
 * at a real period, guard mode, and the rules of the policy in force (lifetime segregation, direct mapping), with
 * {@code check()} reconciling the profiler's sampled blocks with their slabs and mappings after each step.
 */
class SiteTest {
    private static final long MIB = 1L << 20;

    /** A heap that samples every allocation, so every profile is exact. */
    private static HakMem exact(HakMemConfig.Builder b) {
        return HakMem.create(b.build(), 1);
    }

    private static HakMem exact() {
        return exact(HakMemConfig.builder());
    }

    private static SiteProfile profileOf(HakMem h, String name) {
        return h.stats().sites().stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void aNameGivesOneSite() {
        try (HakMem h = HakMem.create()) {
            Site s = h.site("parser");
            assertSame(s, h.site("parser"));
            assertNotSame(s, h.site("cache"));
            assertEquals("parser", s.name());
            assertThrows(IllegalArgumentException.class, () -> h.site(""));
            assertThrows(IllegalArgumentException.class, () -> h.site("x".repeat(513)));
            assertEquals("sites: a site name must have 1 to 512 characters: \"" + "x".repeat(64) + "\"... (1048576"
                            + " characters)", assertThrows(IllegalArgumentException.class,
                    () -> h.site("x".repeat(1 << 20))).getMessage(), "a name of any size is quoted by its start");
            assertEquals("name", assertThrows(NullPointerException.class, () -> h.site(null)).getMessage());
            assertEquals(List.of("cache", "parser"), h.stats().sites().stream().map(SiteProfile::name).sorted()
                    .toList(), "named sites show in stats() before any sample");
        }
    }

    @Test
    void theCallerNamesTheSite() {
        try (HakMem h = HakMem.create()) {
            Site s = h.site(); StackTraceElement here = new Throwable().getStackTrace()[0];
            assertEquals(SiteTest.class.getName() + ".theCallerNamesTheSite:" + here.getLineNumber(), s.name());
            assertSame(s, named(h, here.getLineNumber()));
        }
    }

    private static Site named(HakMem h, int line) {
        return h.site(SiteTest.class.getName() + ".theCallerNamesTheSite:" + line);
    }

    /** With a period of one byte every allocation is sampled and the estimates are the counts. */
    @Test
    void everyAllocationCountsWhenEveryByteIsSampled() {
        try (HakMem h = exact()) {
            Site s = h.site("rows");
            List<Long> blocks = new ArrayList<>();
            long bytes = 0;
            long[] sizes = {1, 16, 100, 1000, 5000, 70_000, 300_000, 3 * MIB};
            for (long size : sizes) {
                blocks.add(s.malloc(size));
                bytes += size;
            }
            blocks.add(s.calloc(10, 30));
            MemorySegment seg = s.allocate(200, 64);
            assertEquals(0, seg.address() % 64);
            assertEquals(200, seg.byteSize());
            bytes += 300 + 200;
            long anonymous = h.malloc(48);
            h.check();
            SiteProfile p = s.profile();
            assertEquals(10, p.samples());
            assertEquals(10, p.allocations());
            assertEquals(bytes, p.bytes());
            assertEquals(70_000 + 300_000 + 3 * MIB, p.largeBytes());
            long[] hist = p.sizeHistogram();
            for (long size : sizes) {
                assertTrue(hist[SizeGrid.bucketOf(size)] >= 1, "size " + size);
            }
            assertEquals(10, java.util.Arrays.stream(hist).sum());
            assertEquals(10, p.liveSamples());
            assertEquals(0, p.lifetimes());
            assertEquals(List.of("rows", "(anonymous)"), h.stats().sites().stream().map(SiteProfile::name).toList(),
                    "most bytes first");
            for (long a : blocks) {
                h.free(a);
            }
            h.free(seg);
            h.free(anonymous);
            h.check();
            p = s.profile();
            assertEquals(10, p.lifetimes());
            assertEquals(0, p.liveSamples());
            assertEquals(0, p.remoteFreeShare());
            assertEquals(1, profileOf(h, "(anonymous)").lifetimes());
        }
    }

    @Test
    void aBlockFreedByAnotherThreadIsARemoteFree() throws Exception {
        try (HakMem h = exact(); var other = Executors.newSingleThreadExecutor()) {
            Site s = h.site("handoff");
            long[] small = new long[8];
            for (int i = 0; i < small.length; i++) {
                small[i] = s.malloc(64);
            }
            long big = s.malloc(2 * MIB);
            other.submit(() -> {
                for (int i = 0; i < 6; i++) {
                    h.free(small[i]);
                }
                h.free(big);
            }).get();
            h.free(small[6]);
            h.check();
            SiteProfile p = s.profile();
            assertEquals(8, p.lifetimes());
            assertEquals(7, p.remoteFrees());
            assertEquals(7.0 / 8, p.remoteFreeShare());
            assertEquals(1, p.liveSamples());
            h.free(small[7]);
            h.check();
        }
    }

    /** A sampled block's free that is refused loses nothing and leaves the counts reconciled. */
    @Test
    void refusedAndMovingFreesOfSampledBlocksKeepTheCountsReconciled() {
        try (HakMem h = exact()) {
            Site s = h.site("s");
            long a = s.malloc(100);
            long b = s.malloc(100);
            h.free(a);
            assertThrows(DoubleFreeException.class, () -> h.free(a));
            assertThrows(InvalidFreeException.class, () -> h.free(b + 16));
            h.check();
            long moved = h.realloc(b, 5000);
            assertNotSame(b, moved);
            h.check();
            long big = s.malloc(3 * MIB);
            h.free(big);
            assertThrows(DoubleFreeException.class, () -> h.free(big));
            h.check();
            h.free(moved);
            h.check();
            assertEquals(3, s.profile().lifetimes());
            assertEquals(0, s.profile().liveSamples());
        }
    }

    /**
     * At a real period the estimates are unbiased: 100 000 allocations of 100 bytes at a period of 4 KiB sample
     * about 2400 of them; the estimate's standard deviation is about 2%, and it must land within 10%.
     */
    @Test
    void theEstimatesAreUnbiasedAtARealPeriod() {
        try (HakMem h = HakMem.create(HakMemConfig.defaults(), 4096)) {
            Site s = h.site("many");
            int n = 100_000;
            long[] blocks = new long[1000];
            for (int i = 0; i < n; i++) {
                int k = i % blocks.length;
                if (blocks[k] != 0) {
                    h.free(blocks[k]);
                }
                blocks[k] = s.malloc(100);
            }
            SiteProfile p = s.profile();
            assertTrue(p.samples() > 1000 && p.samples() < n / 10, "samples " + p.samples());
            assertEquals(n, p.allocations(), n / 10.0, p.toString());
            assertEquals(100.0 * n, p.bytes(), 100.0 * n / 10, p.toString());
            h.check();
            for (long b : blocks) {
                h.free(b);
            }
            h.check();
        }
    }

    @Test
    void aHeapThatDoesNotSampleProfilesNothing() {
        try (HakMem h = HakMem.create(HakMemConfig.defaults(), 0)) {
            Site s = h.site("s");
            for (int i = 0; i < 1000; i++) {
                h.free(s.malloc(1 << (i % 22)));
                h.free(h.malloc(100_000));
            }
            assertEquals(0, s.profile().samples());
            assertEquals(List.of("s"), h.stats().sites().stream().map(SiteProfile::name).toList());
            h.check();
        }
    }

    @Test
    void guardModeChecksASitesBlocks() {
        try (HakMem h = exact(HakMemConfig.builder().guard(GuardOptions.on().withQuarantineBytes(0)))) {
            Site s = h.site("guarded");
            long a = s.malloc(40);
            Mem.ALL.set(java.lang.foreign.ValueLayout.JAVA_BYTE, a + 40, (byte) 1);
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> h.free(a));
            assertTrue(e.getMessage().contains("buffer overflow"), e.getMessage());
            long b = s.calloc(4, 25);
            MemorySegment seg = s.allocate(64, 128);
            assertEquals(0, seg.address() % 128);
            h.free(b);
            h.free(seg);
            h.check();
            assertEquals(3, s.profile().samples());
            assertEquals(2, s.profile().lifetimes(), "the condemned block stays allocated for good");
            assertEquals(1, h.violations());
        }
    }

    /**
     * The general check can fail: a sampled block whose mark was cleared while the profiler still remembers it (its
     * free would skip the profiler, and the entry go stale), a mark the profiler does not know of, and a mark on a
     * block that is not live are each found, in a slab and on a big block (which keeps its own sample).
     */
    @Test
    void checkFindsMarksThatDisagreeWithTheProfiler() {
        try (HakMem h = exact()) {
            Site s = h.site("s");
            long a = s.malloc(100);
            long b = s.malloc(100);
            var slab = ((SuperSlab) Registry.lookup(a)).slabAt(a);
            assertSame(slab, ((SuperSlab) Registry.lookup(b)).slabAt(b));
            int ia = slab.indexOf(a);
            assertTrue(slab.unmarkSampled(ia));
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, h::check);
            assertTrue(e.getMessage().contains("remembers sampled block 0x" + Long.toHexString(a)), e.getMessage());
            slab.markSampled(ia);
            h.check();
            long c = h.malloc(100);
            assertTrue(slab.isSampled(slab.indexOf(c)), "the exact heap samples the anonymous block too");
            h.free(c);
            slab.markSampled(slab.indexOf(c));
            e = assertThrows(HeapCorruptionException.class, h::check);
            assertTrue(e.getMessage().contains("is marked sampled but is not live"), e.getMessage());
            assertTrue(slab.unmarkSampled(slab.indexOf(c)));
            h.check();
            long big = s.malloc(3 * MIB);
            var mapping = (dev.hakmem.big.BigMapping) Registry.lookup(big);
            assertTrue(mapping.unmarkSampled());
            e = assertThrows(HeapCorruptionException.class, h::check);
            assertTrue(e.getMessage().contains("remembers 3 sampled blocks not yet freed, but the table and the blocks"
                    + " that hold their own samples hold 2"), e.getMessage());
            mapping.markSampled(mapping.sampleSite(), mapping.sampleBorn(), mapping.sampleThread());
            h.check();
            h.free(a);
            h.free(b);
            h.free(big);
            h.check();
            mapping.markSampled(mapping.sampleSite(), mapping.sampleBorn(), mapping.sampleThread());
            assertThrows(HeapCorruptionException.class, h::check, "a mark on a freed big block");
            assertTrue(mapping.unmarkSampled());
            h.check();
        }
    }

}
