package dev.hakmem.os;

import dev.hakmem.PageSource;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;
import java.util.function.Supplier;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Pages from the Linux kernel: mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE), madvise(MADV_DONTNEED), munmap,
 * mprotect (the sampled guard's optional guard pages), called through FFM downcalls with errno captured.
 * MAP_NORESERVE keeps reservations from counting against overcommit until touched; DONTNEED on private anonymous
 * memory drops the pages, which read as zero afterwards.
 * Residency is mincore(2): a dropped page is not resident until touched again, by a read (which maps the shared
 * zero page) or a write; MADV_NOHUGEPAGE first, so that khugepaged never collapses the range into a resident huge page.
 */
public final class MmapPageSource implements PageSource {
    // Linux values, the same on x86_64 and aarch64.
    private static final int PROT_NONE = 0;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final int MADV_DONTNEED = 4;
    private static final int MADV_NOHUGEPAGE = 15;
    private static final long PAGE = 4096;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(PathElement.groupElement("errno"));
    /**
     * Each thread's errno capture state and mincore vector, reused by all its downcalls. A confined arena per call
     * cost a native allocation and, compiled, the arena's whole tree inlined into every caller: the sampled guard
     * calls madvise and mincore once per sample, and its slow paths compiled late with 11 to 15 MiB of C2 arena
     * (issue 12). Freed by the GC with its thread.
     */
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private static final class Scratch {
        final MemorySegment state = Arena.ofAuto().allocate(CAPTURE);
        private MemorySegment vector = MemorySegment.NULL;

        /** A vector of at least {@code bytes}, grown by doubling. */
        MemorySegment vector(long bytes) {
            if (vector.byteSize() < bytes) {
                vector = Arena.ofAuto().allocate(Math.max(bytes, 2 * vector.byteSize()));
            }
            return vector;
        }
    }

    private final MethodHandle mmap;
    private final MethodHandle munmap;
    private final MethodHandle madvise;
    /** Null where the C library has none: then {@link #trackResidency} says no. */
    private final MethodHandle mincore;
    /** Null where the C library has none: then {@link #canProtect} says no. */
    private final MethodHandle mprotect;

    private MmapPageSource(MethodHandle mmap, MethodHandle munmap, MethodHandle madvise, MethodHandle mincore,
                           MethodHandle mprotect) {
        this.mmap = mmap;
        this.munmap = munmap;
        this.madvise = madvise;
        this.mincore = mincore;
        this.mprotect = mprotect;
    }

    /** The kernel's source, or empty where the C library has no mmap. */
    static Optional<PageSource> load() {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        var mmap = libc.find("mmap");
        var munmap = libc.find("munmap");
        var madvise = libc.find("madvise");
        if (mmap.isEmpty() || munmap.isEmpty() || madvise.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new MmapPageSource(
                linker.downcallHandle(mmap.get(),
                        FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
                        errno),
                linker.downcallHandle(munmap.get(), FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), errno),
                linker.downcallHandle(madvise.get(),
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), errno),
                libc.find("mincore").map(f -> linker.downcallHandle(f,
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), errno)).orElse(null),
                libc.find("mprotect").map(f -> linker.downcallHandle(f,
                        FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), errno)).orElse(null)));
    }

    @Override
    public long reserve(long size, long alignment) {
        if (size <= 0 || size % PAGE != 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("reserve(" + size + ", " + alignment + ")");
        }
        if (alignment <= PAGE) {
            return map(size);
        }
        // Over-map by the alignment and trim both ends: the kernel has no aligned mmap.
        long span = Math.addExact(size, alignment);
        long raw = map(span);
        long aligned = (raw + alignment - 1) & -alignment;
        long head = aligned - raw;
        long tail = span - head - size;
        if (head > 0) {
            unmap(raw, head);
        }
        if (tail > 0) {
            unmap(aligned + size, tail);
        }
        return aligned;
    }

    @Override
    public void commit(long address, long size) {
        // Reservations are readable and writable from the start; pages fault in on first touch.
    }

    @Override
    public void decommit(long address, long size) {
        syscall(state -> (int) madvise.invokeExact(state, address, size, MADV_DONTNEED),
                () -> "madvise(0x" + Long.toHexString(address) + ", " + size + ", MADV_DONTNEED)");
    }

    @Override
    public void release(long address, long size) {
        unmap(address, size);
    }

    @Override
    public boolean trackResidency(long address, long size) {
        if (mincore == null) {
            return false;
        }
        syscall(state -> (int) madvise.invokeExact(state, address, size, MADV_NOHUGEPAGE),
                () -> "madvise(0x" + Long.toHexString(address) + ", " + size + ", MADV_NOHUGEPAGE)");
        return true;
    }

    @Override
    public void residency(long address, long size, byte[] resident) {
        int pages = (int) (size / PAGE);
        MemorySegment vector = SCRATCH.get().vector(pages);
        syscall(state -> (int) mincore.invokeExact(state, address, size, vector),
                () -> "mincore(0x" + Long.toHexString(address) + ", " + size + ")");
        for (int i = 0; i < pages; i++) {
            // Bit 0 is residency; the kernel reserves the other bits.
            resident[i] = (byte) (vector.get(JAVA_BYTE, i) & 1);
        }
    }

    @Override
    public boolean canProtect() {
        return mprotect != null;
    }

    @Override
    public void protect(long address, long size, boolean accessible) {
        if (mprotect == null) {
            throw new UnsupportedOperationException("this C library has no mprotect");
        }
        int prot = accessible ? PROT_READ | PROT_WRITE : PROT_NONE;
        syscall(state -> (int) mprotect.invokeExact(state, address, size, prot),
                () -> "mprotect(0x" + Long.toHexString(address) + ", " + size + ", " + prot + ")");
    }

    @Override
    public long pageSize() {
        return PAGE;
    }

    private long map(long size) {
        return syscall(state -> (long) mmap.invokeExact(state, MemorySegment.NULL, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L), () -> "mmap(" + size + ")");
    }

    private void unmap(long address, long size) {
        syscall(state -> (int) munmap.invokeExact(state, address, size),
                () -> "munmap(0x" + Long.toHexString(address) + ", " + size + ")");
    }

    /** A downcall whose first argument is the errno capture state. */
    private interface Downcall {
        long invoke(MemorySegment state) throws Throwable;
    }

    /**
     * Runs a downcall with this thread's capture state; its result -1 (MAP_FAILED, or -1 from
     * munmap/madvise/mincore/mprotect) becomes an OsException with errno.
     */
    private static long syscall(Downcall call, Supplier<String> what) {
        try {
            MemorySegment state = SCRATCH.get().state;
            long result = call.invoke(state);
            if (result == -1L) {
                throw new OsException(what.get(), (int) ERRNO.get(state, 0L));
            }
            return result;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public String toString() {
        return "mmap";
    }
}
