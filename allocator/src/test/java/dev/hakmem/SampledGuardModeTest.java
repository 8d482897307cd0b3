package dev.hakmem;

import dev.hakmem.os.Mem;
import dev.hakmem.sampled.SampledGuard;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sampled guard mode's detections, each with the rate forced to 1 (every allocation sampled, as tcmalloc's
 * memory-error tests force sampling), so each test fails if its detection is removed.
 */
class SampledGuardModeTest {
    private static final long SLOT = 4096;
    private static final long SMALL_SLOT = 1024;
    private static final long CHUNK = 2L << 20;
    private HakMem heap = sampled(GuardOptions.sampled(1));

    private static HakMem sampled(GuardOptions options) {
        return HakMem.create(HakMemConfig.builder().guard(options).build());
    }

    @AfterEach
    void close() {
        heap.close();
    }

    /** Where the small slots start in the chunk: 128 page slots one page apart, and the gaps around them. */
    private static final long PAGE_SLOTS_END = (2 * 128 + 1) * SLOT;

    /** The start of the slot holding {@code a}: 128 page slots, then 128 small ones, from the chunk's start. */
    private static long slotOf(long a) {
        return a & -slotSizeOf(a);
    }

    /** The size of the slot holding {@code a}. */
    private static long slotSizeOf(long a) {
        return (a & CHUNK - 1) < PAGE_SLOTS_END ? SLOT : SMALL_SLOT;
    }

    private static void assertNames(String m, String... parts) {
        for (String p : parts) {
            assertTrue(m.contains(p), "the report names " + p + ": " + m);
        }
    }

    @Test
    void aOneByteOverflowIsCaughtOnFreeWithOffsetDirectionSizeThreadAndStack() {
        long a = heap.malloc(100);
        GuardModeTest.flip(a + 100);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertEquals(a, e.address());
        assertNames(e.getMessage(), "buffer overflow", "offset 100 (1 past the end)", "100 B requested",
                "0x" + Long.toHexString(a), "allocated by thread \"" + Thread.currentThread().getName() + "\"",
                "SampledGuardModeTest.aOneByteOverflowIsCaughtOnFree");
        // The stack starts at the caller: no frame of the allocator's own precedes it.
        assertNames(e.getMessage(), "\"" + Thread.currentThread().getName() + "\" #" + Thread.currentThread().threadId()
                + "\n    at dev.hakmem.SampledGuardModeTest.aOneByteOverflowIsCaughtOnFree");
        assertEquals(1, heap.violations());
        assertEquals(1, heap.stats().events().guardViolations());
    }

    @Test
    void anUnderflowIsCaughtOnFree() {
        long a = heap.malloc(64);
        GuardModeTest.flip(a - 3);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        assertNames(e.getMessage(), "buffer underflow", "offset -3 (3 before the start)", "64 B requested",
                "SampledGuardModeTest.anUnderflowIsCaughtOnFree");
    }

    /**
     * A changed byte anywhere in either margin is reported at its own offset, and of two changes in a margin the one
     * nearest the block: the margins are checked a word at a time with byte loops at unaligned ends, so blocks of
     * every size up to 1500 B (small and page slots) at both ends of their slot, and bytes at every distance, take every branch of the loops.
     * A corrupted slot is condemned for good, so each heap takes fewer corruptions than it has slots.
     */
    @Test
    void aChangeAnywhereInAMarginIsReportedAtTheNearestChangedByte() {
        Random random = new Random(12);
        for (int round = 0; round < 360; round++) {
            if (round % 90 == 0) {
                heap.close();
                heap = sampled(GuardOptions.sampled(1));
            }
            long size = 1 + random.nextInt(round % 2 == 0 ? 24 : 1500);
            long a = heap.malloc(size);
            long slot = slotOf(a);
            long slotSize = slotSizeOf(a);
            boolean after = random.nextBoolean();
            long margin = after ? slot + slotSize - a - size : a - slot;
            long near = round % 3 == 0 ? random.nextInt(20) % margin : random.nextLong(margin);
            long far = near + random.nextLong(margin - near);
            GuardModeTest.flip(after ? a + size + near : a - 1 - near);
            if (far != near) {
                GuardModeTest.flip(after ? a + size + far : a - 1 - far);
            }
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, () -> heap.free(a));
            assertNames(e.getMessage(), after
                    ? "buffer overflow: byte at offset " + (size + near) + " (" + (near + 1) + " past the end)"
                    : "buffer underflow: byte at offset " + (-1 - near) + " (" + (near + 1) + " before the start)",
                    size + " B requested");
        }
    }

    @Test
    void aCorruptedBlockIsReportedOnceAndItsSlotNeverReused() {
        long a = heap.malloc(100);
        GuardModeTest.flip(a + 100);
        assertThrows(HeapCorruptionException.class, () -> heap.free(a));
        for (int i = 0; i < 2000; i++) {
            long b = heap.malloc(100);
            assertFalse(slotOf(b) == slotOf(a), "a condemned slot was reused");
            heap.free(b);
        }
        heap.check();
        assertEquals(1, heap.violations());
    }

    @Test
    void aDoubleFreeNamesBothFreesAndTheAllocation() throws Exception {
        long a = heap.malloc(48);
        Thread other = Thread.ofPlatform().name("first-freer").start(() -> heap.free(a));
        other.join();
        DoubleFreeException e = assertThrows(DoubleFreeException.class, () -> heap.free(a));
        assertNames(e.getMessage(), "double free", "48 B requested", "allocated by thread \""
                + Thread.currentThread().getName() + "\"", "freed by thread \"first-freer\"");
        assertEquals(1, heap.stats().events().doubleFrees());
        heap.check();
    }

    @Test
    void anInteriorPointerIsAnInvalidFree() {
        long a = heap.malloc(256);
        assertFreeRefused(a + 32, "interior pointer, 32 bytes into live sampled block", "256 B requested");
        assertEquals(1, heap.stats().events().invalidFrees());
        heap.free(a);
        long pastSlots = (a & -CHUNK) + PAGE_SLOTS_END + 128 * SMALL_SLOT;
        assertFreeRefused(pastSlots, "outside its slots");
        assertFreeRefused((a & -CHUNK) + 2 * SLOT + 64, "outside its slots");
        heap.check();
    }

    @Test
    void aWriteAfterFreeIsCaughtByCheckWithBothStacks() {
        long a = heap.malloc(80);
        heap.free(a);
        GuardModeTest.flip(a + 17);
        assertCheckReportsOnce("write after free", "offset 17", "80 B requested", "freed by thread",
                "SampledGuardModeTest.aWriteAfterFreeIsCaughtByCheck");
    }

    /** Allocates in a frame of its own, so that a report's stacks can be told apart (see {@link #freeingSite}). */
    private long allocatingSite(long size) {
        return heap.malloc(size);
    }

    /** Frees in a frame of its own, which only the freeing stack of the block's report may name. */
    private void freeingSite(long a) {
        heap.free(a);
    }

    /**
     * {@code report}'s allocating stack is {@code allocator}'s and starts at {@link #allocatingSite}, its freeing
     * stack is {@code freer}'s and starts at {@link #freeingSite}, and neither names the other's site: a freeing stack
     * that were empty, or a copy of the allocating one, fails.
     */
    private static void assertStacks(String report, Thread allocator, Thread freer) {
        int allocated = report.indexOf("\n  allocated by thread ");
        int freed = report.indexOf("\n  freed by thread ");
        assertTrue(allocated >= 0 && freed > allocated, "both stacks, the allocating one first: " + report);
        String allocating = report.substring(allocated, freed);
        String freeing = report.substring(freed);
        String at = "\n    at " + SampledGuardModeTest.class.getName();
        assertTrue(allocating.startsWith("\n  allocated by thread " + describe(allocator) + at + ".allocatingSite("),
                report);
        assertTrue(freeing.startsWith("\n  freed by thread " + describe(freer) + at + ".freeingSite("), report);
        assertFalse(allocating.contains(".freeingSite("), report);
        assertFalse(freeing.contains(".allocatingSite("), report);
    }

    private static String describe(Thread t) {
        return "\"" + t.getName() + "\" #" + t.threadId();
    }

    @Test
    void aWriteAfterFreeFoundByCheckNamesTheFreeingCodesStack() {
        long a = allocatingSite(80);
        freeingSite(a);
        GuardModeTest.flip(a + 17);
        String report = assertThrows(HeapCorruptionException.class, heap::check).getMessage();
        assertNames(report, "write after free: byte at offset 17");
        assertStacks(report, Thread.currentThread(), Thread.currentThread());
    }

    @Test
    void aDoubleFreeNamesTheFirstFreesStack() {
        long a = allocatingSite(48);
        freeingSite(a);
        String report = assertThrows(DoubleFreeException.class, () -> heap.free(a)).getMessage();
        assertNames(report, "double free of sampled block");
        assertStacks(report, Thread.currentThread(), Thread.currentThread());
    }

    @Test
    void aBlockFreedByAnotherThreadIsReportedWithThatThreadsStack() throws Exception {
        long a = allocatingSite(80);
        Thread freer = Thread.ofPlatform().name("the-freer").start(() -> freeingSite(a));
        freer.join();
        GuardModeTest.flip(a + 17);
        String report = assertThrows(HeapCorruptionException.class, heap::check).getMessage();
        assertNames(report, "write after free: byte at offset 17");
        assertStacks(report, Thread.currentThread(), freer);
    }

    /** free({@code address}) is refused with an InvalidFreeException naming each of {@code parts}. */
    private void assertFreeRefused(long address, String... parts) {
        assertNames(assertThrows(InvalidFreeException.class, () -> heap.free(address)).getMessage(), parts);
    }

    /** check() throws a report naming each of {@code parts}, and does not report it again. */
    private void assertCheckReportsOnce(String... parts) {
        assertNames(assertThrows(HeapCorruptionException.class, heap::check).getMessage(), parts);
        heap.check();
    }

    /**
     * A freed page slot's page goes back to the OS and is watched by its residency: a write of zeros into it, which no
     * poison could tell from the page's contents, is caught by the page being in memory again.
     */
    @Test
    void aWriteOfZerosAfterFreeIsCaughtByItsPageComingBack() {
        long a = heap.malloc(1400);
        heap.free(a);
        GuardModeTest.poke(a + 5, 0);
        assertCheckReportsOnce("use after free", "a write of zeros", "1400 B requested", "freed by thread",
                "SampledGuardModeTest.aWriteOfZerosAfterFree");
    }

    /** A read of a freed sampled block maps a page into the given-back slot: a use after free too. */
    @Test
    void aReadAfterFreeIsCaught() {
        long a = heap.malloc(1300);
        heap.free(a);
        assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 1299), "a given-back page reads as zero");
        assertCheckReportsOnce("use after free", "a read", "1300 B requested");
    }

    /**
     * Only the live sampled blocks' pages stay resident: each freed slot's page is given back, counted as a purge
     * and as decommitted memory until the slot is reused, so the account (reconciled by check()) follows it.
     */
    @Test
    void freedSlotsGiveTheirPagesBackAndTheAccountFollows() {
        long kept = heap.malloc(1300);
        long chunk = kept & -CHUNK;
        long purges = heap.stats().events().purges();
        for (int i = 0; i < 3 * 128; i++) {
            heap.free(heap.malloc(1300 + i));
        }
        HakMemStats s = heap.stats();
        assertEquals(purges + 3 * 128, s.events().purges(), "one page given back per sampled free");
        assertEquals((2L << 20) - 127 * SLOT, s.committedBytes(), "127 freed slots hold no committed page");
        heap.check();
        byte[] resident = new byte[(int) (PAGE_SLOTS_END / SLOT)];
        PageSource.system().residency(chunk, PAGE_SLOTS_END, resident);
        int pages = 0;
        for (byte r : resident) {
            pages += r;
        }
        assertEquals(1, pages, "only the live sampled block's slot is resident");
        heap.free(kept);
        heap.check();
    }

    /**
     * Small blocks take small slots, four to a page after the page slots, which keep their pages: a freed small
     * block is poisoned in place, with no page given back (no purge, nothing decommitted), so a small sample costs no
     * system call and no page fault, and the small slots' 32 pages are all they ever hold.
     */
    @Test
    void smallBlocksShareSmallSlotsThatKeepTheirPages() {
        long purges = heap.stats().events().purges();
        List<Long> slots = new ArrayList<>();
        for (int i = 0; i < 3 * 128; i++) {
            long size = 1 + i * 37 % 480;
            long a = heap.malloc(size);
            long slot = slotOf(a);
            assertTrue((a & CHUNK - 1) >= PAGE_SLOTS_END && a - slot >= 16 && slot + SMALL_SLOT - (a + size) >= 16,
                    "a small slot holds the " + size + " B block at 0x" + Long.toHexString(a) + " with its margins");
            slots.add(slot);
            heap.free(a);
        }
        assertEquals(128, slots.stream().distinct().count(), "every small slot was used, and no other");
        assertEquals(purges, heap.stats().events().purges(), "no small slot gave its page back");
        assertEquals(CHUNK, heap.stats().committedBytes());
        heap.check();
    }

    /** A page source that cannot watch residency: freed slots keep their pages, poisoned. */
    @Test
    void withoutResidencyAFreedSlotIsPoisonedAndAWriteAfterFreeStillCaught() {
        heap.close();
        PageSource system = PageSource.system();
        PageSource blind = new PageSource() {
            public long reserve(long size, long alignment) {
                return system.reserve(size, alignment);
            }

            public void commit(long address, long size) {
                system.commit(address, size);
            }

            public void decommit(long address, long size) {
                system.decommit(address, size);
            }

            public void release(long address, long size) {
                system.release(address, size);
            }

            public long pageSize() {
                return system.pageSize();
            }
        };
        heap = HakMem.create(HakMemConfig.builder().guard(GuardOptions.sampled(1).withThrowOnViolation(false))
                .pageSource(blind).build());
        long a = heap.malloc(1400);
        heap.free(a);
        assertEquals(CHUNK, heap.stats().committedBytes(), "the freed page slot kept its page");
        GuardModeTest.flip(a + 17);
        for (int i = 0; i < 3 * 128; i++) {
            heap.free(heap.malloc(1300));
        }
        assertEquals(1, heap.violations(), "the poison is verified before the freed slot is reused");
        heap.check();
    }

    @Test
    void theBackgroundScanFindsAnOverflowInABlockNeverFreed() throws Exception {
        heap.close();
        heap = sampled(GuardOptions.sampled(1).withScanMillis(1));
        long a = heap.malloc(40);
        GuardModeTest.flip(a + 41);
        awaitViolation();
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertNames(e.getMessage(), "buffer overflow", "offset 41 (2 past the end)", "40 B requested");
        heap.free(a);
        assertEquals(1, heap.violations(), "a block the scan reported is not reported again on free");
    }

    @Test
    void theBackgroundScanFindsAWriteAfterFree() throws Exception {
        heap.close();
        heap = sampled(GuardOptions.sampled(1).withScanMillis(1).withThrowOnViolation(false));
        long a = heap.malloc(200);
        heap.free(a);
        GuardModeTest.flip(a + 199);
        awaitViolation();
        heap.check();
        assertEquals(1, heap.stats().events().guardViolations());
    }

    /**
     * The longest scan period means never: multiplied into nanoseconds it overflowed to a negative period, and the scan
     * ran at every tick of the maintenance thread (20 ms).
     */
    @Test
    void theLongestScanPeriodNeverScans() throws Exception {
        heap.close();
        heap = sampled(GuardOptions.sampled(1).withScanMillis(Long.MAX_VALUE).withThrowOnViolation(false));
        long a = heap.malloc(40);
        GuardModeTest.flip(a + 41);
        Thread.sleep(300);
        assertEquals(0, heap.violations(), "no scan ran in 15 ticks");
        heap.check();
        assertEquals(1, heap.violations(), "check() still verifies every sampled slot");
        heap.free(a);
    }

    private void awaitViolation() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (heap.violations() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(1, heap.violations(), "the maintenance thread's scan reported the corruption");
    }

    /** In a small slot (poisoned) and in a page slot (its page given back) alike. */
    @Test
    void aWriteAfterFreeIsCaughtWhenTheSlotWouldBeReused() {
        for (long size : new long[] {32, 1400}) {
            heap.close();
            heap = sampled(GuardOptions.sampled(1).withThrowOnViolation(false));
            long a = heap.malloc(size);
            heap.free(a);
            GuardModeTest.flip(a);
            for (int i = 0; i < 3 * 128; i++) {
                heap.free(heap.malloc(size));
            }
            assertEquals(1, heap.violations(), "the freed " + size + " B slot is verified before it is reused");
            heap.check();
        }
    }

    @Test
    void reportModeLogsCountsAndGoesOn() {
        heap.close();
        heap = sampled(GuardOptions.sampled(1).withThrowOnViolation(false));
        long a = heap.malloc(10);
        GuardModeTest.flip(a + 10);
        heap.free(a);
        heap.free(a);
        heap.free(heap.malloc(10) + 1);
        assertEquals(3, heap.violations());
        heap.check();
    }

    @Test
    void blocksArePlacedAgainstBothEndsOfTheirSlots() {
        // {size, alignment asked (0: a malloc, 16-byte aligned), slot size}: a malloc is placed at 16 bytes whatever its
        // class (960 B fits a small slot, though its class of 1 KiB aligns to 1 KiB), an aligned malloc at its alignment
        for (long[] request : new long[][] {{100, 0, SMALL_SLOT}, {960, 0, SMALL_SLOT}, {1200, 0, SLOT},
                {100, 256, SMALL_SLOT}, {500, 512, SLOT}}) {
            long size = request[0];
            long alignment = Math.max(request[1], 16);
            long slotSize = request[2];
            int atStart = 0;
            for (int i = 0; i < 60; i++) {
                long a = request[1] == 0 ? heap.malloc(size) : heap.mallocAligned(size, request[1]);
                assertEquals(0, a % alignment, "aligned to " + alignment + ": " + a);
                assertEquals(slotSize, slotSizeOf(a), size + " B aligned to " + alignment + " takes a slot of");
                long at = a - slotOf(a);
                boolean start = at + size / 2 < slotSize / 2;
                atStart += start ? 1 : 0;
                assertTrue(start ? at >= 16 && at < 16 + alignment
                                : at + size <= slotSize - 16 && at + size > slotSize - 16 - alignment,
                        "against the start or the end of its " + slotSize + " B slot (within " + alignment + " B): "
                                + at);
                heap.free(a);
                // The block's history, in a report, names the end it was placed against.
                String placed = "placed at the " + (start ? "start" : "end") + " of slot 0x"
                        + Long.toHexString(slotOf(a));
                assertNames(assertThrows(DoubleFreeException.class, () -> heap.free(a)).getMessage(), placed);
            }
            assertTrue(atStart > 0 && atStart < 60, atStart + " of 60 at the start");
        }
        heap.check();
    }

    /**
     * Each live sample stands for N allocations; at most 16 sampled blocks are live at once and the samples due past
     * them are skipped, so 300 blocks kept live at 1 in 3 (about 86 samples due) take 16 samples and the estimate
     * stops at 16 x 3 of the 300: the report says how many were skipped and that its totals are a lower bound.
     */
    @Test
    void theLeakReportWeightsEachSampleByTheRate() {
        heap.close();
        heap = sampled(GuardOptions.sampled(3));
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            blocks.add(heap.malloc(24));
        }
        HakMemStats.Events events = heap.stats().events();
        assertEquals(16, events.guardSamples(), "16 sampled blocks live at most");
        assertTrue(events.guardSkipped() > 0, "the samples due past them were skipped");
        LeakReport r = heap.leakReport();
        assertEquals(16 * 3, r.blocks());
        assertEquals(16 * 3 * 24, r.bytes());
        assertTrue(r.sites().getFirst().stack().contains("SampledGuardModeTest.theLeakReportWeights"), r.toString());
        assertTrue(r.sites().getFirst().stack().endsWith(" [estimated from 16 sampled blocks, 1 in 3]"), r.toString());
        assertEquals(16 * 3, r.sites().getFirst().blocks());
        assertEquals(16 * 3 * 24, r.sites().getFirst().bytes());
        assertTrue(r.toString().startsWith("hakmem leak report: 48 blocks, 1152 bytes live\n  "
                + events.guardSkipped() + " sampled allocations were skipped since the heap started"), r.toString());
        assertNames(r.note(), "the live ones among them are in no total, so these totals are a lower bound");
        blocks.forEach(heap::free);
        assertEquals(0, heap.leakReport().blocks());
        heap.close();
        assertEquals(new LeakReport(0, 0, List.of()), heap.leakReport(), "a closed heap leaves nothing out");
    }

    /** With fewer samples live than 16 none was skipped: the estimate is whole and the report has no note. */
    @Test
    void theLeakReportHasNoNoteWhenNoSampleWasSkipped() {
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 15; i++) {
            blocks.add(heap.malloc(24));
        }
        LeakReport r = heap.leakReport();
        assertEquals(0, heap.stats().events().guardSkipped());
        assertEquals(15, r.blocks());
        assertEquals("", r.note(), r.toString());
        assertTrue(r.toString().startsWith("hakmem leak report: 15 blocks, 360 bytes live\n  15 blocks, 360 bytes at "),
                r.toString());
        blocks.forEach(heap::free);
    }

    /**
     * A heap's close() logs its leak report when blocks are still live, and with {@code hakmem.guardLeakReport} the
     * global heap prints it when the JVM exits, at either level: both asked full mode's guard alone, so a sampled heap
     * said nothing. In a JVM of its own (the global heap is the process's, and the log goes to its standard error).
     */
    @Test
    void theLeakReportIsLoggedAtCloseAndPrintedAtExitAtEitherLevel() throws Exception {
        String report = "hakmem leak report: 1 block, 24 bytes live\n  1 block, 24 bytes at "
                + LeakingChild.class.getName();
        for (String level : new String[] {"sample", "full"}) {
            String out = ChildJvms.output(LeakingChild.class, "-Dhakmem.guard=" + level, "-Dhakmem.guardSampleRate=1",
                    "-Dhakmem.guardLeakReport=true");
            assertNames(out, "WARNING: " + report + ".leakBeforeClose(", "\n" + report + ".leakAtExit(");
        }
    }

    /**
     * The child: leaks a block of a heap of its own and closes it (which logs a warning), then one of the global
     * heap, and exits.
     */
    static final class LeakingChild {
        public static void main(String[] args) {
            try (HakMem heap = HakMem.create(HakMemConfig.fromSystem())) {
                leakBeforeClose(heap);
            }
            leakAtExit();
        }

        private static void leakBeforeClose(HakMem heap) {
            heap.malloc(24);
        }

        private static void leakAtExit() {
            HakMem.global().malloc(24);
        }
    }

    @Test
    void theRateIsOneAllocationInNOnAverage() {
        heap.close();
        heap = sampled(GuardOptions.sampled(100));
        for (int i = 0; i < 100_000; i++) {
            heap.free(heap.malloc(16));
        }
        long samples = heap.stats().events().guardSamples();
        // Gaps uniform in [1, 200]: mean 100.5, so about 995 samples with a standard deviation near 18.
        assertTrue(samples > 900 && samples < 1100, samples + " samples in 100000 allocations at 1 in 100");
    }

    /**
     * The countdown to the next sample is refilled uniform in [1, 2N], so that the samples cannot alias with a loop's
     * pattern: at 1 in 16, the gaps between the samples of 40,000 mallocs (about 2,400 gaps, each block freed so that
     * no sample is skipped) all lie in [1, 32], about a fifth are below 8 and a quarter above 24, and no gap value
     * holds more than about 1 in 32 of them. A fixed period of N would put them all at one value.
     */
    @Test
    void theGapsBetweenSamplesAreUniformUpToTwiceTheRate() {
        heap.close();
        int rate = 16;
        heap = sampled(GuardOptions.sampled(rate));
        SampledGuard guard = heap.allocator().sampledGuard();
        int[] byGap = new int[2 * rate + 1];
        int gaps = 0;
        long last = -1;
        for (long i = 0; i < 40_000; i++) {
            long a = heap.malloc(16);
            boolean guarded = guard.liveBlocks() == 1;
            heap.free(a);
            if (guarded) {
                if (last >= 0) {
                    long gap = i - last;
                    assertTrue(gap >= 1 && gap <= 2 * rate, "a gap of " + gap + " mallocs at 1 in " + rate);
                    byGap[(int) gap]++;
                    gaps++;
                }
                last = i;
            }
        }
        assertEquals(0, heap.stats().events().guardSkipped());
        int below = 0;
        int above = 0;
        int mostCommon = 0;
        for (int gap = 1; gap <= 2 * rate; gap++) {
            below += gap < rate / 2 ? byGap[gap] : 0;
            above += gap > 3 * rate / 2 ? byGap[gap] : 0;
            mostCommon = Math.max(mostCommon, byGap[gap]);
        }
        String histogram = Arrays.toString(byGap);
        assertTrue(gaps > 2000, gaps + " gaps: " + histogram);
        assertTrue(below > gaps / 10, below + " of " + gaps + " gaps below N/2: " + histogram);
        assertTrue(above > gaps / 10, above + " of " + gaps + " gaps above 3N/2: " + histogram);
        assertTrue(mostCommon < gaps / 8, "one gap value holds " + mostCommon + " of " + gaps + ": " + histogram);
    }

    /**
     * The largest rate the options accept draws its gaps from [1, 2^31], past an int's range: a draw of
     * {@code nextInt(2 * rate)} overflowed there and failed every thread's first malloc.
     */
    @Test
    void theLargestRateIsServedLikeAnyOther() {
        heap.close();
        heap = sampled(GuardOptions.sampled(GuardOptions.MAX_SAMPLE_RATE));
        for (int i = 0; i < 1000; i++) {
            heap.free(heap.malloc(16));
        }
        heap.check();
        assertTrue(heap.stats().events().guardSamples() <= 1, heap.stats().toString());
    }

    @Test
    void sampledBlocksWorkForCallocReallocAlignmentSitesAndOtherThreads() throws Exception {
        long c = heap.calloc(10, 10);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, c + i));
        }
        Mem.ALL.set(ValueLayout.JAVA_BYTE, c + 99, (byte) 7);
        long r = heap.realloc(c, 300);
        assertEquals(7, Mem.ALL.get(ValueLayout.JAVA_BYTE, r + 99));
        assertEquals(300, heap.usableSize(r));
        long aligned = heap.mallocAligned(100, 256);
        assertEquals(0, aligned % 256, "aligned as asked");
        heap.free(aligned);
        long s = heap.site("sampled").malloc(64);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                heap.free(r);
                heap.free(s);
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.join();
        assertEquals(null, failure.get());
        heap.check();
        assertEquals(0, heap.violations());
    }

    /**
     * The slots' chunk is mapped through the heap's mapping service, so the memory account counts it (check()
     * reconciles the account with what the guard holds) and a closed heap counts nothing, though a page of its chunk
     * was given back and counted decommitted already; the live sampled blocks are in the live figures at their
     * requested size.
     */
    @Test
    void theSlotsAreAccountedAndSampledBlocksCountAsLive() {
        assertEquals(0, heap.stats().mappedBytes());
        long a = heap.malloc(100);
        long b = heap.malloc(30);
        HakMemStats s = heap.stats();
        assertEquals(2L << 20, s.mappedBytes(), "the 2 MiB chunk of slots, and no SuperSlab: both blocks sampled");
        assertEquals(2L << 20, s.committedBytes());
        assertEquals(2, s.liveBlocks());
        assertEquals(130, s.liveBytes());
        heap.check();
        heap.free(a);
        assertEquals(1, heap.stats().liveBlocks());
        assertEquals(30, heap.stats().liveBytes());
        heap.free(b);
        assertEquals(0, heap.stats().liveBlocks());
        heap.free(heap.malloc(1400));
        assertEquals((2L << 20) - SLOT, heap.stats().committedBytes(), "a freed page slot's page was given back");
        heap.check();
        heap.close();
        assertEquals(0, heap.stats().mappedBytes(), "the chunk was unmapped and counted so");
        assertEquals(0, heap.stats().committedBytes());
    }

    @Test
    void theLevelIsReadFromTheProperties() {
        GuardOptions sample = HakMemConfig.fromLookup(Map.of("guard", "sample")::get).guard();
        assertTrue(sample.sampling());
        assertEquals(GuardOptions.DEFAULT_SAMPLE_RATE, sample.sampleRate());
        GuardOptions rated = HakMemConfig.fromLookup(Map.of("guard", "sample", "guardSampleRate", "7",
                "guardScanMs", "20", "guardPages", " /tmp/pages.txt ")::get).guard();
        assertEquals(7, rated.sampleRate());
        assertEquals(20, rated.scanMillis());
        assertEquals(Path.of("/tmp/pages.txt"), rated.guardPages());
        assertNull(sample.guardPages(), "guard pages are off by default");
        assertTrue(HakMemConfig.fromLookup(Map.of("guard", "true")::get).guard().enabled());
        assertTrue(HakMemConfig.fromLookup(Map.of("guard", "full")::get).guard().enabled());
        GuardOptions off = HakMemConfig.fromLookup(Map.of("guard", "off")::get).guard();
        assertFalse(off.enabled() || off.sampling());
        assertThrows(IllegalArgumentException.class, () -> GuardOptions.sampled(0));
        assertThrows(IllegalArgumentException.class,
                () -> HakMemConfig.fromLookup(Map.of("guard", "sample", "guardSampleRate", "0")::get));
    }

    /**
     * The largest blocks a slot holds with 16 canary bytes on each side, at either end, at the alignment of a malloc
     * (16): 992 B in a small slot, 4064 B in a page slot; one byte more takes a page slot, or past a page slot is not
     * sampled at all (served unguarded, counted skipped).
     */
    @Test
    void theLargestBlocksThatFitASlotTakeIt() {
        assertEquals(SMALL_SLOT, slotSizeOf(heap.malloc(992)));
        assertEquals(SLOT, slotSizeOf(heap.malloc(993)));
        long page = heap.malloc(4064);
        assertEquals(SLOT, slotSizeOf(page));
        assertEquals(0, heap.stats().events().guardSkipped());
        heap.malloc(4065);
        assertEquals(1, heap.stats().events().guardSkipped(), "4065 B leave no room for both margins");
        assertEquals(3, heap.allocator().sampledGuard().liveBlocks());
    }

    /** calloc zeroes a block in a reused small slot, which holds its last block's poison (a fresh one reads zero). */
    @Test
    void callocZeroesABlockInAReusedSlot() {
        for (int i = 0; i < 128; i++) {
            heap.free(heap.malloc(100));
        }
        long c = heap.calloc(1, 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, c + i), "byte " + i);
        }
        heap.free(c);
        heap.check();
    }

    /**
     * A free or size query off a block's start names what it hit: an interior pointer (and which call), a pointer
     * just past the block's end (not a block start, not interior), a slot that never held a block.
     */
    @Test
    void aPointerOffABlocksStartIsNamedForWhatItHit() {
        long a = heap.malloc(100);
        assertNames(assertThrows(InvalidFreeException.class, () -> heap.usableSize(a + 8)).getMessage(),
                "(usableSize) interior pointer, 8 bytes into live sampled block");
        assertFreeRefused(a + 100, "not a block start: 100 bytes from the start of live sampled block");
        assertFreeRefused(slotOf(a) + SMALL_SLOT + 16, "a sampled guard slot that never held a block");
        heap.free(a);
        heap.check();
    }

    /**
     * The poison is checked up to a freed block's last byte, in the word it shares with its margin: a write after
     * free into the last of 13 bytes is caught.
     */
    @Test
    void aWriteAfterFreeIntoTheLastByteOfABlockIsCaught() {
        long a = heap.malloc(13);
        heap.free(a);
        GuardModeTest.flip(a + 12);
        assertCheckReportsOnce("write after free: byte at offset 12", "13 B requested");
    }

    /** check() throws the first violation it finds and carries the others, suppressed. */
    @Test
    void checkThrowsTheFirstViolationWithTheOthersSuppressed() {
        long a = heap.malloc(80);
        long b = heap.malloc(80);
        heap.free(a);
        heap.free(b);
        GuardModeTest.flip(a + 1);
        GuardModeTest.flip(b + 2);
        HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
        assertNames(e.getMessage(), "write after free: byte at offset 1");
        assertEquals(1, e.getSuppressed().length);
        assertNames(e.getSuppressed()[0].getMessage(), "write after free: byte at offset 2");
        heap.check();
    }

    /**
     * In throwing mode, a write after free found when its slot would be reused (by a malloc, which is served
     * elsewhere and does not throw) is thrown by the next check().
     */
    @Test
    void aViolationFoundAtASlotsReuseIsThrownByTheNextCheck() {
        long a = heap.malloc(32);
        heap.free(a);
        GuardModeTest.flip(a);
        for (int i = 0; i < 3 * 128; i++) {
            heap.free(heap.malloc(32));
        }
        assertCheckReportsOnce("write after free: byte at offset 0", "32 B requested");
    }

    /** Sites are sorted by bytes, largest first, and a site of one sample says "1 sampled block". */
    @Test
    void theLeakReportsSitesAreSortedByBytes() {
        long small = heap.malloc(24);
        long large = allocatingSite(900);
        List<LeakReport.Site> sites = heap.leakReport().sites();
        assertEquals(List.of(900L, 24L), sites.stream().map(LeakReport.Site::bytes).toList());
        assertTrue(sites.getFirst().stack().startsWith(SampledGuardModeTest.class.getName() + ".allocatingSite(")
                && sites.getFirst().stack().endsWith(" [estimated from 1 sampled block, 1 in 1]"), sites.toString());
        heap.free(small);
        heap.free(large);
    }

    /**
     * check() asks the residency of every page slot handed out at once: with all 128 handed out, a read of a freed
     * one is still seen.
     */
    @Test
    void aReadAfterFreeIsCaughtWithEveryPageSlotHandedOut() {
        long first = heap.malloc(1300);
        heap.free(first);
        for (int i = 1; i < 128; i++) {
            heap.free(heap.malloc(1300));
        }
        assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, first + 5));
        assertCheckReportsOnce("use after free", "a read", "0x" + Long.toHexString(first) + " (1300 B requested");
    }

    /**
     * A thread's first malloc is sampled with probability 1/N like any other, not always: at the largest rate, none
     * of 20 threads' first mallocs is (all 20 were if it were always; by chance one is once in 50 million runs).
     */
    @Test
    void aThreadsFirstMallocIsNotAlwaysSampled() throws Exception {
        heap.close();
        heap = sampled(GuardOptions.sampled(GuardOptions.MAX_SAMPLE_RATE));
        for (int i = 0; i < 20; i++) {
            Thread.ofPlatform().start(() -> heap.free(heap.malloc(16))).join();
        }
        assertEquals(0, heap.stats().events().guardSamples());
    }

    /** Calls itself {@code depth} times, then allocates: a stack of {@code depth + 1} frames of this method. */
    private long nested(int depth, long size) {
        return depth == 0 ? heap.malloc(size) : nested(depth - 1, size);
    }

    /** A stack keeps its 12 innermost frames outside the allocator: of a block allocated 20 calls deep, 12 show. */
    @Test
    void aStackKeepsItsTwelveInnermostFrames() {
        long a = nested(20, 24);
        String stack = heap.leakReport().sites().getFirst().stack();
        assertEquals(12, stack.split("\\.nested\\(", -1).length - 1, stack);
        assertEquals(11, stack.split(" <- ", -1).length - 1, stack);
        heap.free(a);
    }
}
