package dev.hakmem.bench.peer;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Microsoft's mimalloc through FFM downcalls to {@code mi_malloc}/{@code mi_free}. The library is looked up as
 * {@code libmimalloc.so.2} (Debian's libmimalloc2.0) or {@code libmimalloc.so}, or at the path in the system
 * property {@code hakmem.bench.mimalloc}.
 */
public final class MimallocPeer implements NativeAllocator {
    public static final String NAME = "mimalloc";
    static final String LIBRARY_PROPERTY = "hakmem.bench.mimalloc";

    // Static finals so that the JIT binds the downcalls as constants, as an application's would be.
    private static final MethodHandle MALLOC;
    private static final MethodHandle FREE;
    private static final PeerUnavailableException UNAVAILABLE;

    static {
        MethodHandle malloc = null;
        MethodHandle free = null;
        PeerUnavailableException unavailable = null;
        try {
            SymbolLookup library = NativeLibraries.load(NAME, LIBRARY_PROPERTY, "libmimalloc2.0",
                    "libmimalloc.so.2", "libmimalloc.so");
            // Pointers travel as 64-bit integers: the same ABI class as void* on LP64, and no segment to unwrap.
            malloc = NativeLibraries.downcall(library, NAME, "mi_malloc", FunctionDescriptor.of(JAVA_LONG, JAVA_LONG));
            free = NativeLibraries.downcall(library, NAME, "mi_free", FunctionDescriptor.ofVoid(JAVA_LONG));
        } catch (PeerUnavailableException e) {
            unavailable = e;
        }
        MALLOC = malloc;
        FREE = free;
        UNAVAILABLE = unavailable;
    }

    /** @throws PeerUnavailableException if libmimalloc cannot be loaded */
    public MimallocPeer() {
        if (UNAVAILABLE != null) {
            throw UNAVAILABLE;
        }
    }

    @Override
    public long malloc(long size) {
        long address;
        try {
            address = (long) MALLOC.invokeExact(size);
        } catch (Throwable t) {
            throw new IllegalStateException("mi_malloc failed", t);
        }
        if (address == 0) {
            throw new OutOfMemoryError("mi_malloc(" + size + ") returned NULL");
        }
        return address;
    }

    @Override
    public void free(long address) {
        try {
            FREE.invokeExact(address);
        } catch (Throwable t) {
            throw new IllegalStateException("mi_free failed", t);
        }
    }

    @Override
    public String name() {
        return NAME;
    }
}
