package dev.hakmem.os;

import dev.hakmem.PageSource;

import java.util.BitSet;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeMap;

/**
 * The system's pages, with a ledger of its own (each reservation and which of its pages are committed, calls made)
 * that a test checks the allocator's accounting against, and faults on demand: while an operation is in
 * {@link #failing}, it throws {@link OsException} (ENOMEM) without touching the memory, as the {@link PageSource}
 * contract says a failure must. {@link #beyondAddressSpace} makes reservations land where no 48-bit registry reaches,
 * {@link #misaligned} at an address the requested alignment does not divide.
 */
public final class LedgerPageSource implements PageSource {
    public enum Op { RESERVE, COMMIT, DECOMMIT, RELEASE }

    /** Where {@link #beyondAddressSpace} places reservations: the first address above 48 bits. Never mapped. */
    public static final long BEYOND = 1L << 48;
    /** Where {@link #misaligned} places reservations: one page past 1 TiB, aligned to nothing larger. Never mapped. */
    public static final long MISALIGNED = (1L << 40) + 4096;

    private record Reservation(long size, BitSet committedPages) {
    }

    private final PageSource system = PageSource.system();
    private final Set<Op> failing = EnumSet.noneOf(Op.class);
    private final long[] calls = new long[Op.values().length];
    /** By base address. */
    private final TreeMap<Long, Reservation> reservations = new TreeMap<>();
    /**
     * The address every reservation is answered with instead of system memory, {@link #BEYOND} or
     * {@link #MISALIGNED}; 0: none.
     */
    private long fake;

    /** Makes {@code op} fail from now on ({@code on}) or succeed again. */
    public synchronized LedgerPageSource failing(Op op, boolean on) {
        if (on) {
            failing.add(op);
        } else {
            failing.remove(op);
        }
        return this;
    }

    /** Every operation succeeds again. */
    public synchronized void heal() {
        failing.clear();
    }

    /** While on, a reservation is answered with {@link #BEYOND} instead of system memory. */
    public synchronized void beyondAddressSpace(boolean on) {
        fake = on ? BEYOND : 0;
    }

    /** While on, a reservation is answered with {@link #MISALIGNED}, against the contract, instead of system memory. */
    public synchronized void misaligned(boolean on) {
        fake = on ? MISALIGNED : 0;
    }

    /** Successful calls of {@code op} so far. */
    public synchronized long calls(Op op) {
        return calls[op.ordinal()];
    }

    /** Bytes reserved and not yet released: what the allocator must report as mapped. */
    public synchronized long reservedBytes() {
        return reservations.values().stream().mapToLong(Reservation::size).sum();
    }

    /** Bytes of reserved pages that are committed: what the allocator must report as committed. */
    public synchronized long committedBytes() {
        return reservations.values().stream().mapToLong(r -> r.committedPages().cardinality()).sum() * pageSize();
    }

    /** Whether the page at {@code address} is reserved and committed. */
    public synchronized boolean isCommitted(long address) {
        var r = reservations.floorEntry(address);
        return r != null && address < r.getKey() + r.getValue().size()
                && r.getValue().committedPages().get((int) ((address - r.getKey()) / pageSize()));
    }

    private synchronized void enter(Op op, long bytes) {
        if (failing.contains(op)) {
            throw new OsException(op.name().toLowerCase() + "(" + bytes + ") refused by the test", 12);
        }
        calls[op.ordinal()]++;
    }

    /** Marks the pages of {@code [address, address + size)} committed or not, inside the reservation holding them. */
    private synchronized void setCommitted(long address, long size, boolean committed) {
        var r = reservations.floorEntry(address);
        if (r == null || address + size > r.getKey() + r.getValue().size()) {
            throw new AssertionError("0x" + Long.toHexString(address) + "+" + size + " is not inside a reservation");
        }
        int from = (int) ((address - r.getKey()) / pageSize());
        r.getValue().committedPages().set(from, from + (int) (size / pageSize()), committed);
    }

    @Override
    public long reserve(long size, long alignment) {
        enter(Op.RESERVE, size);
        long a;
        synchronized (this) {
            a = fake != 0 ? fake : system.reserve(size, alignment);
            reservations.put(a, new Reservation(size, new BitSet()));
        }
        setCommitted(a, size, true);
        return a;
    }

    @Override
    public void commit(long address, long size) {
        enter(Op.COMMIT, size);
        system.commit(address, size);
        setCommitted(address, size, true);
    }

    @Override
    public void decommit(long address, long size) {
        enter(Op.DECOMMIT, size);
        system.decommit(address, size);
        setCommitted(address, size, false);
    }

    @Override
    public void release(long address, long size) {
        enter(Op.RELEASE, size);
        synchronized (this) {
            Reservation r = reservations.get(address);
            if (r == null || r.size() != size) {
                throw new AssertionError("release(0x" + Long.toHexString(address) + ", " + size
                        + ") is not a whole reservation");
            }
            reservations.remove(address);
            if (isSystemMemory(address)) {
                system.release(address, size);
            }
        }
    }

    /** Releases every reservation still held: the cleanup after a test whose allocator could not release them. */
    public synchronized void releaseAll() {
        reservations.forEach((address, r) -> {
            if (isSystemMemory(address)) {
                system.release(address, r.size());
            }
        });
        reservations.clear();
    }

    /** Whether a reservation at {@code address} is the system's memory, not one of the never-mapped answers. */
    private static boolean isSystemMemory(long address) {
        return address != BEYOND && address != MISALIGNED;
    }

    @Override
    public long pageSize() {
        return system.pageSize();
    }
}
