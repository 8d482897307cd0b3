package dev.hakmem.bench.peer;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;

/** Loading of the native peers' shared libraries, shared by every peer that is a C allocator. */
final class NativeLibraries {

    private NativeLibraries() {
    }

    /**
     * Loads the first of {@code names} that the dynamic linker finds, or the file named by the system property
     * {@code property} when it is set.
     *
     * @throws PeerUnavailableException naming what was tried and how to fix it
     */
    static SymbolLookup load(String peer, String property, String debianPackage, String... names) {
        String override = System.getProperty(property);
        List<String> candidates = override != null ? List.of(override) : List.of(names);
        for (String name : candidates) {
            try {
                // The global arena: a peer's library stays loaded for the life of the JVM, like a linked-in one.
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException notFound) {
                // Not found under this name: the next candidate may be.
            }
        }
        throw new PeerUnavailableException(peer + " is not available: cannot load " + String.join(" or ", candidates)
                + "; install it (Debian: apt-get install " + debianPackage + ") or point -D" + property
                + " at the shared library. Skipping " + peer + ".");
    }

    /**
     * A downcall to {@code symbol}. Critical: these allocators neither block nor call back into Java, so the
     * thread-state transition an ordinary downcall pays would only be overhead no C caller has.
     */
    static MethodHandle downcall(SymbolLookup library, String peer, String symbol, FunctionDescriptor descriptor) {
        return library.find(symbol)
                .map(address -> Linker.nativeLinker().downcallHandle(address, descriptor,
                        Linker.Option.critical(false)))
                .orElseThrow(() -> new PeerUnavailableException(
                        peer + " is not available: its library has no symbol " + symbol + ". Skipping " + peer + "."));
    }
}
