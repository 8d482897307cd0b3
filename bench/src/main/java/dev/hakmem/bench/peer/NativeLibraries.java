package dev.hakmem.bench.peer;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Loading of the native peers' shared libraries, shared by every peer that is a C allocator. */
public final class NativeLibraries {
    private static final int RTLD_LAZY = 1;

    private NativeLibraries() {
    }

    /** The glibc tunable Debian's jemalloc needs in the JVM's environment to be loaded with dlopen. */
    public static final String STATIC_TLS_TUNABLE = "glibc.rtld.optional_static_tls=16384";

    /**
     * Loads the first of {@code names} that the dynamic linker accepts, or the file named by the system property
     * {@code hakmem.bench.<peer>} when it is set. {@link SymbolLookup#libraryLookup} opens it without
     * {@code RTLD_GLOBAL}, so its {@code malloc} (jemalloc exports one) serves only the downcalls looked up here
     * and never replaces the one the JVM and its libraries are linked to.
     *
     * @throws PeerUnavailableException with the dynamic linker's reason and how to fix it
     */
    static SymbolLookup load(String peer, String debianPackage, String... names) {
        String property = "hakmem.bench." + peer;
        String override = System.getProperty(property);
        List<String> candidates = override != null ? List.of(override) : List.of(names);
        for (String name : candidates) {
            try {
                // The global arena: a peer's library stays loaded for the life of the JVM, like a linked-in one.
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException refused) {
                // Missing or refused under this name: the next candidate may load.
            }
        }
        String reasons = String.join("; ", candidates.stream().map(NativeLibraries::whyNotLoaded).toList());
        // Debian's libjemalloc2 uses initial-exec TLS, which dlopen can only place in the static TLS surplus that
        // glibc reserves at startup; the tunable enlarges that surplus, and only the environment can set it.
        String remedy = reasons.contains("static TLS")
                ? "start the JVM with GLIBC_TUNABLES=" + STATIC_TLS_TUNABLE + " in its environment"
                : "install it (Debian: apt-get install " + debianPackage + ") or point -D" + property
                        + " at the shared library";
        throw new PeerUnavailableException(peer + " is not available: " + reasons + "; " + remedy + ". Skipping "
                + peer + ".");
    }

    /**
     * A downcall to {@code symbol}. Critical: these allocators do not call back into Java and return within
     * microseconds, so the thread-state transition an ordinary downcall pays would only be overhead no C caller has.
     */
    static MethodHandle downcall(SymbolLookup library, String peer, String symbol, FunctionDescriptor descriptor) {
        return library.find(symbol)
                .map(address -> Linker.nativeLinker().downcallHandle(address, descriptor,
                        Linker.Option.critical(false)))
                .orElseThrow(() -> new PeerUnavailableException(
                        peer + " is not available: its library has no symbol " + symbol + ". Skipping " + peer + "."));
    }

    /**
     * The dynamic linker's reason for refusing a library, which {@link SymbolLookup#libraryLookup}'s exception does
     * not carry: "cannot open shared object file" and "cannot allocate memory in static TLS block" need different
     * remedies. Asks by calling {@code dlopen} again and reading {@code dlerror}.
     */
    private static String whyNotLoaded(String name) {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Optional<MemorySegment> dlopen = libc.find("dlopen");
        Optional<MemorySegment> dlerror = libc.find("dlerror");
        if (dlopen.isEmpty() || dlerror.isEmpty()) {
            return "cannot load " + name;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment handle = (MemorySegment) linker.downcallHandle(dlopen.get(),
                    FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT)).invokeExact(arena.allocateFrom(name), RTLD_LAZY);
            if (!handle.equals(MemorySegment.NULL)) {
                // Loaded at the second attempt (a race with an installation): no reason to give.
                return "cannot load " + name;
            }
            MemorySegment error = (MemorySegment) linker.downcallHandle(dlerror.get(), FunctionDescriptor.of(ADDRESS))
                    .invokeExact();
            return error.equals(MemorySegment.NULL) ? "cannot load " + name
                    : error.reinterpret(Integer.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            return "cannot load " + name + " (" + t + ")";
        }
    }
}
