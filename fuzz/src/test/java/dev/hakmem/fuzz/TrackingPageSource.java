package dev.hakmem.fuzz;

import dev.hakmem.PageSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The system page source, plus a ledger of what the heap reserved and what of it is committed: it records ranges the
 * heap commits, decommits or releases outside its reservations, and tells what is still mapped and committed, so the
 * heap's own accounting can be reconciled with it and a closed heap checked for leaks. A reservation is committed
 * (usable, see {@link PageSource#reserve}); decommit takes a range out of use until a commit puts it back.
 * It can also inject faults: while its failure rate is above zero, each call fails with that probability, before
 * doing anything (the contract: an exception means the operation did not happen).
 */
final class TrackingPageSource implements PageSource {

    /** A failure this source made up; the heap must turn it into HakMemOutOfMemoryError or absorb it. */
    static final class InjectedFault extends RuntimeException {
        InjectedFault(String operation) {
            super("injected fault in " + operation);
        }
    }

    private final PageSource os = PageSource.system();
    private final Random faults;
    private volatile double failureRate;
    /** Reservation start -> size; guarded by this. */
    private final TreeMap<Long, Long> reserved = new TreeMap<>();
    /**
     * Decommitted ranges, start -> end, disjoint; each inside one reservation (ranges that only touch are not merged,
     * as they may lie in two). Guarded by this.
     */
    private final TreeMap<Long, Long> decommitted = new TreeMap<>();
    private final List<String> violations = new ArrayList<>();

    TrackingPageSource() {
        this(0, 0);
    }

    TrackingPageSource(long faultSeed, double failureRate) {
        this.faults = new Random(faultSeed);
        this.failureRate = failureRate;
    }

    /** Stops injecting faults, e.g. before close, whose leak check needs every release to succeed. */
    void stopFaults() {
        failureRate = 0;
    }

    boolean injectsFaults() {
        return failureRate > 0;
    }

    private void maybeFail(String operation) {
        double rate = failureRate;
        if (rate > 0) {
            boolean fail;
            synchronized (faults) {
                fail = faults.nextDouble() < rate;
            }
            if (fail) {
                throw new InjectedFault(operation);
            }
        }
    }

    @Override
    public long reserve(long size, long alignment) {
        maybeFail("reserve");
        long address = os.reserve(size, alignment);
        synchronized (this) {
            reserved.put(address, size);
        }
        return address;
    }

    @Override
    public void commit(long address, long size) {
        requireInside("commit", address, size);
        maybeFail("commit");
        os.commit(address, size);
        synchronized (this) {
            uncover(address, address + size);
        }
    }

    @Override
    public void decommit(long address, long size) {
        requireInside("decommit", address, size);
        maybeFail("decommit");
        os.decommit(address, size);
        synchronized (this) {
            cover(address, address + size);
        }
    }

    @Override
    public void release(long address, long size) {
        // Out of the ledger before munmap: once unmapped, another thread's reserve may get the same address.
        Map<Long, Long> forgotten;
        synchronized (this) {
            Long reservedSize = reserved.get(address);
            if (reservedSize == null || reservedSize != size) {
                violations.add("release(0x" + Long.toHexString(address) + ", " + size
                        + ") is not a reservation (reserved there: " + reservedSize + ")");
                return;
            }
            reserved.remove(address);
            forgotten = new TreeMap<>(decommitted.subMap(address, address + size));
            uncover(address, address + size);
        }
        try {
            maybeFail("release");
            os.release(address, size);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                reserved.put(address, size);
                forgotten.forEach(decommitted::put);
            }
            throw e;
        }
    }

    /** The sampled guard's guard pages: forwarded, and failed like the other calls while faults are on. */
    @Override
    public boolean canProtect() {
        return os.canProtect();
    }

    @Override
    public void protect(long address, long size, boolean accessible) {
        maybeFail("protect");
        os.protect(address, size, accessible);
    }

    @Override
    public long pageSize() {
        return os.pageSize();
    }

    /** The bytes reserved and not released. */
    synchronized long reservedBytes() {
        long sum = 0;
        for (long size : reserved.values()) {
            sum += size;
        }
        return sum;
    }

    /** The reserved bytes that are not decommitted. */
    synchronized long committedBytes() {
        long sum = reservedBytes();
        for (Map.Entry<Long, Long> r : decommitted.entrySet()) {
            sum -= r.getValue() - r.getKey();
        }
        return sum;
    }

    /** Adds [from, to) to the decommitted ranges, merging it with those it overlaps. */
    private void cover(long from, long to) {
        Map.Entry<Long, Long> below = decommitted.floorEntry(from);
        if (below != null && below.getValue() > from) {
            from = below.getKey();
            to = Math.max(to, below.getValue());
        }
        for (Map.Entry<Long, Long> r; (r = decommitted.ceilingEntry(from)) != null && r.getKey() < to; ) {
            decommitted.remove(r.getKey());
            to = Math.max(to, r.getValue());
        }
        decommitted.put(from, to);
    }

    /** Takes [from, to) out of the decommitted ranges, cutting those it overlaps. */
    private void uncover(long from, long to) {
        Map.Entry<Long, Long> below = decommitted.lowerEntry(from);
        if (below != null && below.getValue() > from) {
            decommitted.put(below.getKey(), from);
            if (below.getValue() > to) {
                decommitted.put(to, below.getValue());
            }
        }
        for (Map.Entry<Long, Long> r; (r = decommitted.ceilingEntry(from)) != null && r.getKey() < to; ) {
            decommitted.remove(r.getKey());
            if (r.getValue() > to) {
                decommitted.put(to, r.getValue());
            }
        }
    }

    /** What is still reserved, as "address+size" entries. */
    synchronized List<String> outstanding() {
        List<String> out = new ArrayList<>();
        reserved.forEach((a, s) -> out.add("0x" + Long.toHexString(a) + "+" + s));
        return out;
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    private synchronized void requireInside(String op, long address, long size) {
        Map.Entry<Long, Long> r = reserved.floorEntry(address);
        if (r == null || address + size > r.getKey() + r.getValue()) {
            violations.add(op + "(0x" + Long.toHexString(address) + ", " + size + ") outside every reservation");
        }
    }
}
