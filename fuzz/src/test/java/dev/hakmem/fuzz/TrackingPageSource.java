package dev.hakmem.fuzz;

import dev.hakmem.PageSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * The system page source, plus a ledger of what the heap reserved: it records ranges the heap commits, decommits or
 * releases outside its reservations, and tells what is still mapped, so a closed heap can be checked for leaks.
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
    }

    @Override
    public void decommit(long address, long size) {
        requireInside("decommit", address, size);
        maybeFail("decommit");
        os.decommit(address, size);
    }

    @Override
    public void release(long address, long size) {
        // Out of the ledger before munmap: once unmapped, another thread's reserve may get the same address.
        synchronized (this) {
            Long reservedSize = reserved.get(address);
            if (reservedSize == null || reservedSize != size) {
                violations.add("release(0x" + Long.toHexString(address) + ", " + size
                        + ") is not a reservation (reserved there: " + reservedSize + ")");
                return;
            }
            reserved.remove(address);
        }
        try {
            maybeFail("release");
            os.release(address, size);
        } catch (RuntimeException | Error e) {
            synchronized (this) {
                reserved.put(address, size);
            }
            throw e;
        }
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
