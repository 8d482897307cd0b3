package dev.hakmem.bench.peer;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A C allocator's three entry points as downcall handles. A record, because the JIT trusts a record's final fields:
 * read from a constant record, a handle is a constant too, and its downcall is inlined.
 */
record Downcalls(MethodHandle malloc, MethodHandle free, MethodHandle realloc) {

    /** @throws PeerUnavailableException if the library lacks one of the symbols */
    static Downcalls find(SymbolLookup library, String peer, String malloc, String free, String realloc) {
        // Pointers travel as 64-bit integers: the same ABI class as void* on LP64, and no segment to unwrap.
        return new Downcalls(
                NativeLibraries.downcall(library, peer, malloc, FunctionDescriptor.of(JAVA_LONG, JAVA_LONG)),
                NativeLibraries.downcall(library, peer, free, FunctionDescriptor.ofVoid(JAVA_LONG)),
                NativeLibraries.downcall(library, peer, realloc, FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG)));
    }
}
