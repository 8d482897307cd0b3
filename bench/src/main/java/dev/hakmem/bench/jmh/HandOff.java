package dev.hakmem.bench.jmh;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded queue of addresses from one producer thread to one consumer thread, neither blocking nor allocating:
 * a ring and two counters. A {@link java.util.concurrent.BlockingQueue} would box every address and take a lock
 * per call, costs that would swamp the allocators' remote-free paths being measured.
 */
final class HandOff {
    private final long[] ring;
    private final int mask;
    /** Written only by the consumer. */
    private final AtomicLong head = new AtomicLong();
    /** Written only by the producer. */
    private final AtomicLong tail = new AtomicLong();

    /** @param capacity a power of two */
    HandOff(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity not a power of two: " + capacity);
        }
        ring = new long[capacity];
        mask = capacity - 1;
    }

    /** Producer only: enqueues an address, or returns false if the ring is full. */
    boolean offer(long address) {
        long t = tail.getPlain();
        if (t - head.getAcquire() == ring.length) {
            return false;
        }
        ring[(int) t & mask] = address;
        // Release: the consumer that sees the new tail sees the slot written.
        tail.setRelease(t + 1);
        return true;
    }

    /** Consumer only: dequeues an address, or returns 0 if the ring is empty. */
    long poll() {
        long h = head.getPlain();
        if (h == tail.getAcquire()) {
            return 0;
        }
        long address = ring[(int) h & mask];
        // Release: the producer that sees the new head may reuse the slot, which has been read.
        head.setRelease(h + 1);
        return address;
    }
}
