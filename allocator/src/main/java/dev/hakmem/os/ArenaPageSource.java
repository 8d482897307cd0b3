package dev.hakmem.os;

import dev.hakmem.PageSource;

import java.lang.foreign.Arena;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The portable fallback: each reservation is a shared {@link Arena}'s zeroed allocation. It cannot give pages back
 * to the OS, so {@link #decommit} only zeroes the range, which keeps the "reads as zero" contract the allocator's
 * calloc relies on.
 */
public final class ArenaPageSource implements PageSource {
    private final ConcurrentHashMap<Long, Arena> reservations = new ConcurrentHashMap<>();

    @Override
    public long reserve(long size, long alignment) {
        Arena arena = Arena.ofShared();
        long address = arena.allocate(size, alignment).address();
        reservations.put(address, arena);
        return address;
    }

    @Override
    public void commit(long address, long size) {
        // Arena memory is always usable.
    }

    @Override
    public void decommit(long address, long size) {
        Mem.fill(address, size, (byte) 0);
    }

    @Override
    public void release(long address, long size) {
        Arena arena = reservations.remove(address);
        if (arena == null) {
            throw new IllegalArgumentException("not a reservation: 0x" + Long.toHexString(address));
        }
        arena.close();
    }

    @Override
    public long pageSize() {
        return 4096;
    }

    @Override
    public String toString() {
        return "arena";
    }
}
