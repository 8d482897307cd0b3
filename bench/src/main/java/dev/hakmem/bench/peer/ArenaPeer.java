package dev.hakmem.bench.peer;

import java.lang.foreign.Arena;
import java.util.function.Supplier;

/**
 * The JDK's own way to get native memory without a library: one {@link Arena} per block, opened by malloc and
 * closed by free. That is what an application pays for a block whose lifetime matches no scope: an arena object,
 * a zeroed {@code malloc} underneath, and for a shared arena a handshake with every thread on close. Blocks are
 * 16-byte aligned like the C peers'. The benchmarks hold addresses, so the peer maps each address to its arena.
 */
public final class ArenaPeer implements NativeAllocator {
    public static final String CONFINED = "arena-confined";
    public static final String SHARED = "arena-shared";
    private static final long ALIGNMENT = 16;

    private final String name;
    private final Supplier<Arena> open;
    private final boolean shared;
    private final AddressMap<Arena> live = new AddressMap<>();

    private ArenaPeer(String name, Supplier<Arena> open, boolean shared) {
        this.name = name;
        this.open = open;
        this.shared = shared;
    }

    /** {@link Arena#ofConfined()}: only the allocating thread may close it, so blocks cannot change threads. */
    public static ArenaPeer confined() {
        return new ArenaPeer(CONFINED, Arena::ofConfined, false);
    }

    /** {@link Arena#ofShared()}: any thread may close it. */
    public static ArenaPeer shared() {
        return new ArenaPeer(SHARED, Arena::ofShared, true);
    }

    @Override
    public long malloc(long size) {
        Arena arena = open.get();
        long address = arena.allocate(size, ALIGNMENT).address();
        live.put(address, arena);
        return address;
    }

    @Override
    public void free(long address) {
        live.take(address).close();
    }

    @Override
    public boolean crossThreadFree() {
        return shared;
    }

    @Override
    public String name() {
        return name;
    }
}
