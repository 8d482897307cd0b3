package dev.hakmem.sampled;

import dev.hakmem.PageSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sampled mode's optional guard pages ({@code GuardOptions.withGuardPages}, off by default): GWP-ASan's design
 * ("GWP-ASan: Sampling-Based Detection of Memory-Safety Bugs in Production", Serebryany et al., 2023), on top of
 * the canaries. The page slots lie one page apart; the pages between them are made inaccessible once, when the chunk
 * is mapped, and a freed page slot is made inaccessible until it is reused:
 * <pre>
 *   | no access | page slot 0 (live: open) | no access | page slot 1 (freed: no access) | no access | ...
 *               | canary | block | canary |
 * </pre>
 * A linear overflow or underflow that runs past a live block's canary margin, and any read or write of a freed
 * sampled block, faults at the instruction that makes it. <b>On the JVM a fault is a crash</b> (SIGSEGV: the JVM
 * writes an hs_err file naming the address as {@code si_addr} and the faulting thread's stack, and dies): this mode
 * gives up the segfault-free policy for the faulting instruction, and is for a debugging run only.
 *
 * <p>So that a crash can be matched to its block, each sampled block's record (its slot, size, placement and the
 * allocating and freeing threads and stacks) is written to the report file before it is armed: before the block is
 * handed to the program, and before its freed slot is closed. Each record is one unbuffered write to the file, which
 * the OS keeps when the process dies. The hs_err file's {@code si_addr} lies in a slot listed there, or in the page
 * just before or after one.
 *
 * <p>Failures lose nothing: a page source that cannot protect pages, or a report file that cannot be opened, is
 * refused when the heap is created; a failed protection or write later is logged once, and the slot concerned is
 * left accessible and checked by its canaries and poison as without guard pages (or not used, if it cannot be
 * opened again). Only the guard's lock calls this class.
 */
final class GuardPages {
    private final PageSource pages;
    private final Path file;
    private final FileChannel report;
    private boolean warned;

    /**
     * @throws IllegalArgumentException when {@code pages} cannot protect pages or {@code file} cannot be opened for
     *                                  appending
     */
    GuardPages(PageSource pages, Path file) {
        if (!pages.canProtect()) {
            throw new IllegalArgumentException("hakmem.guardPages: the page source " + pages
                    + " cannot protect pages (no mprotect)");
        }
        this.pages = pages;
        this.file = file;
        try {
            this.report = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("hakmem.guardPages: its report file " + file + " cannot be opened: "
                    + e, e);
        }
    }

    /** Makes a range inaccessible; false (logged once) if the page source refused, and then nothing changed. */
    boolean close(long address, long size) {
        return protect(address, size, false);
    }

    /** Makes a range readable and writable again; false (logged once) if the page source refused. */
    boolean open(long address, long size) {
        return protect(address, size, true);
    }

    private boolean protect(long address, long size, boolean accessible) {
        try {
            pages.protect(address, size, accessible);
            return true;
        } catch (RuntimeException e) {
            warnOnce("a slot's protection could not be changed; it stays "
                    + (accessible ? "inaccessible and out of use" : "accessible, checked by its canaries"), e);
            return false;
        }
    }

    /** Appends one record, whole, before the block it describes is armed. */
    void record(String text) {
        ByteBuffer bytes = ByteBuffer.wrap((text + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (bytes.hasRemaining()) {
                report.write(bytes);
            }
        } catch (IOException e) {
            warnOnce("its report " + file + " could not be written: a crash may not be matched to its block", e);
        }
    }

    /** The heap is closing. */
    void closeReport() {
        try {
            report.close();
        } catch (IOException e) {
            warnOnce("its report " + file + " could not be closed", e);
        }
    }

    private void warnOnce(String what, Exception e) {
        if (!warned) {
            warned = true;
            System.getLogger("dev.hakmem").log(System.Logger.Level.WARNING, "hakmem sampled guard pages: " + what, e);
        }
    }
}
