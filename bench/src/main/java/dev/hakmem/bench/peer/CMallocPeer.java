package dev.hakmem.bench.peer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodHandles.Lookup;
import java.lang.invoke.MethodType;

/**
 * A C allocator's {@code malloc}/{@code free}/{@code realloc} through FFM downcalls: glibc's from the default
 * lookup, and mimalloc, jemalloc and tcmalloc from their shared libraries. A library is looked up under its Debian
 * names, or at the path in the system property {@code hakmem.bench.<name>}.
 *
 * <p>Each peer is a copy of this class, defined as a hidden class whose class data is its library's
 * {@link Downcalls}, held in a static final. A downcall handle the JIT cannot see as a constant is invoked through
 * a generic adapter: measured here, a malloc/free pair of mimalloc's cost 12.2 ns of CPU with the handles in
 * instance fields, 7.5 ns with them in static finals, as an application binding its downcalls would have them, and
 * 8.0 ns through a copy of this class. The copy keeps one source for all four allocators and gives each its own constants. The class as loaded from its
 * file has no class data and only makes copies.
 */
public final class CMallocPeer implements Reallocating {
    public static final String GLIBC = "glibc";
    public static final String MIMALLOC = "mimalloc";
    public static final String JEMALLOC = "jemalloc";
    public static final String TCMALLOC = "tcmalloc";

    /** This copy's library; null in the class loaded from its file. */
    private static final Downcalls DOWNCALLS = downcallsOfThisCopy();

    private final String name;

    private CMallocPeer(String name) {
        this.name = name;
    }

    /** The C library's own allocator, the one the JVM itself uses. */
    public static Reallocating glibc() {
        return bind(GLIBC, Linker.nativeLinker().defaultLookup(), "malloc", "free", "realloc");
    }

    /** @throws PeerUnavailableException if libmimalloc cannot be loaded */
    public static Reallocating mimalloc() {
        return bind(MIMALLOC, NativeLibraries.load(MIMALLOC, "libmimalloc2.0", "libmimalloc.so.2", "libmimalloc.so"),
                "mi_malloc", "mi_free", "mi_realloc");
    }

    /**
     * Debian's build exports jemalloc under the plain C names; the library lookup binds them to jemalloc, not libc.
     *
     * @throws PeerUnavailableException if libjemalloc cannot be loaded, which on Debian takes an environment
     *                                  variable that the message names
     */
    public static Reallocating jemalloc() {
        return bind(JEMALLOC, NativeLibraries.load(JEMALLOC, "libjemalloc2", "libjemalloc.so.2", "libjemalloc.so"),
                "malloc", "free", "realloc");
    }

    /** gperftools' tcmalloc, the minimal build (no heap profiler). @throws PeerUnavailableException if absent */
    public static Reallocating tcmalloc() {
        return bind(TCMALLOC, NativeLibraries.load(TCMALLOC, "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4",
                "libtcmalloc_minimal.so"), "tc_malloc", "tc_free", "tc_realloc");
    }

    /** A new copy of this class bound to the library's symbols, and a peer of that copy. */
    private static Reallocating bind(String name, SymbolLookup library, String malloc, String free, String realloc) {
        Downcalls downcalls = Downcalls.find(library, name, malloc, free, realloc);
        byte[] template;
        try (InputStream in = CMallocPeer.class.getResourceAsStream(CMallocPeer.class.getSimpleName() + ".class")) {
            template = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Lookup copy = MethodHandles.lookup().defineHiddenClassWithClassData(template, downcalls, true);
            return (Reallocating) copy.findConstructor(copy.lookupClass(), MethodType.methodType(void.class,
                    String.class)).invoke(name);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot bind " + name + "'s downcalls", t);
        }
    }

    private static Downcalls downcallsOfThisCopy() {
        try {
            return MethodHandles.classData(MethodHandles.lookup(), "_", Downcalls.class);
        } catch (IllegalAccessException e) {
            throw new AssertionError("a class's own lookup has full access", e);
        }
    }

    @Override
    public long malloc(long size) {
        long address;
        try {
            address = (long) DOWNCALLS.malloc().invokeExact(size);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " malloc failed", t);
        }
        return nonNull(address, size);
    }

    @Override
    public void free(long address) {
        try {
            DOWNCALLS.free().invokeExact(address);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " free failed", t);
        }
    }

    @Override
    public long realloc(long address, long newSize) {
        long moved;
        try {
            moved = (long) DOWNCALLS.realloc().invokeExact(address, newSize);
        } catch (Throwable t) {
            throw new IllegalStateException(name + " realloc failed", t);
        }
        return nonNull(moved, newSize);
    }

    private long nonNull(long address, long size) {
        if (address == 0) {
            throw new OutOfMemoryError(name + " returned NULL for " + size + " bytes");
        }
        return address;
    }

    @Override
    public String name() {
        return name;
    }
}
