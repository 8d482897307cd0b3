package dev.hakmem;

import dev.hakmem.os.ForwardingPageSource;
import dev.hakmem.os.Mem;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Sampled mode's optional guard pages (issue 12: "only if it proves reliable here"): the pages around each page slot
 * and every freed page slot are inaccessible, as /proc/self/maps shows; a bad access crashes a child JVM at the
 * faulting instruction, with an hs_err file naming the address, and the report written before arming names the
 * block; and a page source that cannot protect, or refuses to, loses nothing.
 */
class SampledGuardPagesTest {
    private static final long SLOT = 4096;
    private static final long CHUNK = 2L << 20;

    @TempDir
    Path dir;

    @BeforeAll
    static void linux() {
        assumeTrue(PageSource.system().canProtect(), "guard pages need mprotect");
    }

    private HakMem guarded(PageSource pages) {
        return HakMem.create(HakMemConfig.builder().pageSource(pages)
                .guard(GuardOptions.sampled(1).withGuardPages(dir.resolve("report.txt"))).build());
    }

    private String report() throws IOException {
        return Files.readString(dir.resolve("report.txt"));
    }

    /** The permissions of the mapping holding {@code address} in /proc/self/maps, such as "rw-p" or "---p". */
    private static String access(long address) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            if (Long.parseUnsignedLong(range[0], 16) <= address && address < Long.parseUnsignedLong(range[1], 16)) {
                return line.split(" ")[1];
            }
        }
        return "unmapped";
    }

    @Test
    void aSampledBlockLiesBetweenInaccessiblePagesAndItsFreedSlotIsClosedAfterItsRecord() throws IOException {
        try (HakMem heap = guarded(PageSource.system())) {
            long a = heap.malloc(100);
            long slot = a & -SLOT;
            assertEquals(1, (slot & CHUNK - 1) / SLOT % 2, "a page slot lies on an odd page of the chunk");
            assertEquals("rw-p", access(slot));
            assertEquals("---p", access(slot - SLOT), "the page before the slot");
            assertEquals("---p", access(slot + SLOT), "the page after the slot");
            String allocated = report();
            assertTrue(allocated.contains("# hakmem sampled guard pages, heap "), allocated);
            assertTrue(allocated.contains("every page from 0x" + Long.toHexString(a & -CHUNK) + " to 0x"
                    + Long.toHexString((a & -CHUNK) + (2 * 128 + 1) * SLOT) + " is inaccessible"), allocated);
            assertTrue(allocated.contains("ALLOC 0x" + Long.toHexString(a) + " (100 B requested"), allocated);
            assertTrue(allocated.contains("aSampledBlockLiesBetweenInaccessiblePages"), "the allocating stack");

            Mem.ALL.set(ValueLayout.JAVA_BYTE, a + 99, (byte) 1);
            heap.free(a);
            assertEquals("---p", access(slot), "the freed slot");
            String freed = report();
            assertTrue(freed.contains("FREE 0x" + Long.toHexString(a)) && freed.contains("freed by thread"), freed);
            DoubleFreeException again = assertThrows(DoubleFreeException.class, () -> heap.free(a));
            assertTrue(again.getMessage().contains("double free of sampled block"), again.getMessage());
            assertThrows(DoubleFreeException.class, () -> heap.usableSize(a));
            heap.check();
        }
    }

    /** Every sample takes a page slot, slots are reused as the quarantine cycles, and nothing reads a closed one. */
    @Test
    void slotsAreReopenedWhenReusedAndCheckNeverReadsAClosedOne() throws IOException {
        try (HakMem heap = guarded(PageSource.system())) {
            List<Long> slots = new ArrayList<>();
            for (int i = 0; i < 3 * 128; i++) {
                long size = 1 + i * 37 % 4000;
                long a = heap.malloc(size);
                Mem.ALL.set(ValueLayout.JAVA_BYTE, a, (byte) 7);
                Mem.ALL.set(ValueLayout.JAVA_BYTE, a + size - 1, (byte) 7);
                slots.add(a & -SLOT);
                assertEquals(1, (a & CHUNK - 1) / SLOT % 2, "no small slot: " + size + " B");
                heap.free(a);
                if (i % 64 == 0) {
                    heap.check();
                }
            }
            assertEquals(128, slots.stream().distinct().count(), "each page slot used, and reused");
            assertEquals("---p", access(slots.getLast()));
            assertEquals(3 * 128, heap.stats().events().guardSamples());
            heap.check();
        }
    }

    @Test
    void aPageSourceThatCannotProtectOrAnUnwritableReportIsRefusedAtCreation() throws IOException {
        PageSource cannot = new ForwardingPageSource(PageSource.system()) {
            @Override
            public boolean canProtect() {
                return false;
            }
        };
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> guarded(cannot));
        assertTrue(e.getMessage().contains("hakmem.guardPages: the page source") && e.getMessage()
                .contains("cannot protect pages"), e.getMessage());
        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        IllegalArgumentException file = assertThrows(IllegalArgumentException.class, () -> HakMem.create(
                HakMemConfig.builder().guard(GuardOptions.sampled(1).withGuardPages(directory)).build()));
        assertTrue(file.getMessage().contains("its report file " + directory + " cannot be opened"), file.getMessage());
    }

    /** Each refusal of the page source leaves a slot checked by its canaries, or out of use: never lost. */
    @Test
    void aRefusedProtectionLosesNothing() throws IOException {
        Refusing pages = new Refusing();
        pages.refuse = true;
        try (HakMem heap = guarded(pages)) {
            long a = heap.malloc(100);
            assertTrue(a % SLOT != 0 && (a & CHUNK - 1) >= (2 * 128 + 1) * SLOT,
                    "arming refused: guard pages off, a small slot as without them");
            heap.free(a);
            heap.check();
        }
        pages.refuse = false;
        try (HakMem heap = guarded(pages)) {
            long first = heap.malloc(100);
            pages.refuse = true;
            heap.free(first);
            assertEquals("rw-p", access(first & -SLOT), "closing refused: the freed slot stays accessible");
            Mem.ALL.set(ValueLayout.JAVA_BYTE, first + 5, (byte) 1);
            HeapCorruptionException e = assertThrows(HeapCorruptionException.class, heap::check);
            assertTrue(e.getMessage().contains("offset 5 of freed sampled block"), e.getMessage());

            pages.refuse = false;
            long second = heap.malloc(200);
            heap.free(second);
            for (int i = 0; i < 126; i++) {
                heap.free(heap.malloc(300));
            }
            pages.refuse = true;
            long skipped = heap.stats().events().guardSkipped();
            long unguarded = heap.malloc(100);
            assertEquals(skipped + 1, heap.stats().events().guardSkipped(), "the oldest slot cannot be opened");
            assertTrue((unguarded & -CHUNK) != (second & -CHUNK), "served by the heap as usual");
            heap.free(unguarded);
            pages.refuse = false;
            long reopened = heap.malloc(100);
            assertEquals(second & -SLOT, reopened & -SLOT, "the slot that could not be opened is the next one used");
            heap.free(reopened);
            heap.check();
        }
    }

    /** A linear overflow runs through the canary margin into the next page: the write that reaches it crashes. */
    @Test
    void anOverflowPastTheMarginCrashesTheJvmAtTheWriteAndTheReportNamesTheBlock() throws Exception {
        Crash crash = crash("overflow");
        assertEquals(crash.slot + SLOT, crash.faultAddress, "the first byte of the page after the slot");
        assertTrue(crash.report.contains("ALLOC 0x" + Long.toHexString(crash.block)), crash.report);
    }

    @Test
    void aWriteAfterFreeCrashesTheJvmAtTheWriteAndTheReportNamesBothStacks() throws Exception {
        Crash crash = crash("use-after-free");
        assertEquals(crash.block, crash.faultAddress);
        assertTrue(crash.report.contains("FREE 0x" + Long.toHexString(crash.block)), crash.report);
        assertTrue(crash.report.contains("freed by thread"), crash.report);
    }

    private record Crash(long block, long slot, long faultAddress, String report) {
    }

    private static final Pattern PRINTED = Pattern.compile("block 0x(\\p{XDigit}+) slot 0x(\\p{XDigit}+)");
    private static final Pattern SI_ADDR = Pattern.compile("SIGSEGV.*si_addr: 0x(\\p{XDigit}+)");

    /** Runs {@link Crasher} in a child JVM and reads what it printed, its hs_err file and its report. */
    private Crash crash(String bug) throws Exception {
        Path report = dir.resolve("crash-report.txt");
        Path hsErr = dir.resolve("hs_err.log");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xmx64m", "-XX:-CreateCoredumpOnCrash", "-XX:ErrorFile=" + hsErr,
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Crasher.class.getName(), bug, report.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child ended");
        String out = Files.readString(dir.resolve("out.txt"));
        assertNotEquals(0, p.exitValue(), out);
        assertFalse(out.contains("survived"), out);
        Matcher printed = PRINTED.matcher(out);
        assertTrue(printed.find(), out);
        String err = Files.readString(hsErr);
        Matcher fault = SI_ADDR.matcher(err);
        assertTrue(fault.find(), "an hs_err file naming the faulting address: " + err.lines().limit(40).toList());
        assertTrue(err.contains("Crasher." + (bug.equals("overflow") ? "overflow" : "useAfterFree")),
                "the faulting thread's stack names the bad write's method");
        return new Crash(Long.parseUnsignedLong(printed.group(1), 16), Long.parseUnsignedLong(printed.group(2), 16),
                Long.parseUnsignedLong(fault.group(1), 16), Files.readString(report));
    }

    /** The child: one bug on a sampled block with guard pages on. */
    static final class Crasher {
        public static void main(String[] args) {
            HakMem heap = HakMem.create(HakMemConfig.builder()
                    .guard(GuardOptions.sampled(1).withGuardPages(Path.of(args[1]))).build());
            long a = heap.malloc(100);
            System.out.println("block 0x" + Long.toHexString(a) + " slot 0x" + Long.toHexString(a & -SLOT));
            System.out.flush();
            if (args[0].equals("overflow")) {
                overflow(a);
            } else {
                heap.free(a);
                useAfterFree(a);
            }
            System.out.println("survived");
        }

        static void overflow(long a) {
            for (long p = a + 100; p < a + 2 * SLOT; p++) {
                Mem.ALL.set(ValueLayout.JAVA_BYTE, p, (byte) 0x41);
            }
        }

        static void useAfterFree(long a) {
            Mem.ALL.set(ValueLayout.JAVA_BYTE, a, (byte) 0x41);
        }
    }

    /** Refuses every protection while {@code refuse} is set. */
    private static final class Refusing extends ForwardingPageSource {
        volatile boolean refuse;

        Refusing() {
            super(PageSource.system());
        }

        @Override
        public void protect(long address, long size, boolean accessible) {
            if (refuse) {
                throw new IllegalStateException("mprotect refused (test)");
            }
            super.protect(address, size, accessible);
        }
    }
}
