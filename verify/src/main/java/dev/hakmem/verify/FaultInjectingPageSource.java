package dev.hakmem.verify;

import dev.hakmem.HakMem;
import dev.hakmem.PageSource;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link PageSource} around a real one that fails chosen operations: the Nth call, a random fraction of calls, or
 * every call, of reserve, commit, decommit or release, and can add a delay to each. Deterministic from its seed for
 * a given order of calls. It also keeps a ledger of what is reserved through it, so a test can check that nothing
 * leaks and {@link #reconcile} a heap's mapped bytes with it, and it records every call that names no reservation
 * (a release twice, or of another size than reserved; a commit or decommit outside every reservation), which the
 * real OS would let pass silently or turn into harm elsewhere.
 */
public final class FaultInjectingPageSource implements PageSource {

    /** The page source operations. */
    public enum Op { RESERVE, COMMIT, DECOMMIT, RELEASE }

    /** Thrown instead of calling the real page source. */
    public static final class InjectedFault extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InjectedFault(Op op, long call) {
            super("injected fault: " + op + " call #" + call);
        }
    }

    /** How long a heap's mapped bytes may differ from the reservations before {@link #reconcile} reports it. */
    private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long SETTLE_STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private record Rule(long nth, double fraction, boolean always, long delayNanos) {
        static final Rule NONE = new Rule(0, 0, false, 0);
    }

    private final PageSource delegate;
    private final SplittableRandom random;
    private final Map<Op, Rule> rules;
    private final Map<Op, AtomicLong> calls = new EnumMap<>(Op.class);
    private final Map<Op, AtomicLong> injected = new EnumMap<>(Op.class);
    /** Reservation start -> size. */
    private final ConcurrentSkipListMap<Long, Long> reservations = new ConcurrentSkipListMap<>();
    /** Calls that named no reservation; see {@link #reconcile}. */
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private volatile boolean enabled = true;

    private FaultInjectingPageSource(Builder b) {
        this.delegate = b.delegate;
        this.random = new SplittableRandom(b.seed);
        this.rules = new EnumMap<>(b.rules);
        for (Op op : Op.values()) {
            calls.put(op, new AtomicLong());
            injected.put(op, new AtomicLong());
        }
    }

    public static Builder builder(PageSource delegate) {
        return new Builder(delegate);
    }

    /** Faults on (the initial state) or off; with them off every call goes through. */
    public void setEnabled(boolean on) {
        enabled = on;
    }

    public long calls(Op op) {
        return calls.get(op).get();
    }

    public long injected(Op op) {
        return injected.get(op).get();
    }

    public long injectedTotal() {
        long n = 0;
        for (AtomicLong a : injected.values()) {
            n += a.get();
        }
        return n;
    }

    /** Bytes reserved through this source and not released. */
    public long reservedBytes() {
        long n = 0;
        for (long size : reservations.values()) {
            n += size;
        }
        return n;
    }

    /**
     * Checks that {@code heap}, the one heap over this source, counts as mapped exactly the bytes reserved here and
     * not released, and that it made no call naming no reservation. Returns null, or the problem. A drift (a
     * reservation the heap forgot after a fault, a release it counted twice or counted though it failed) is a
     * difference that stays; but the two readings are not one snapshot, and a difference that passes is none: the
     * heap counts a reservation before calling {@link #reserve} and a release after {@link #release} returns, and
     * its maintenance thread calls on when the test's own threads have ended (tens of milliseconds after a thread
     * dies it reaps its heap and unmaps what it held, under the lock {@link HakMem#stats()} takes). So the readings
     * are repeated until they agree, for up to a second: only a call in flight of exactly a drift's size, at every
     * reading, could hide it.
     */
    public String reconcile(HakMem heap) {
        long giveUp = System.nanoTime() + SETTLE_NANOS;
        long mapped;
        long reserved;
        int readings = 0;
        do {
            if (readings++ > 0) {
                LockSupport.parkNanos(SETTLE_STEP_NANOS);
            }
            mapped = heap.stats().mappedBytes();
            reserved = reservedBytes();
        } while (mapped != reserved && System.nanoTime() < giveUp);
        List<String> problems = new ArrayList<>(violations);
        if (mapped != reserved) {
            problems.addFirst("the heap counts " + mapped + " bytes mapped, but " + reserved + " are reserved in "
                    + reservations.size() + " reservations (" + readings + " readings over "
                    + TimeUnit.NANOSECONDS.toMillis(SETTLE_NANOS) + " ms)");
        }
        return problems.isEmpty() ? null : String.join("; ", problems);
    }

    private void maybeFail(Op op) {
        Rule r = rules.getOrDefault(op, Rule.NONE);
        long call = calls.get(op).incrementAndGet();
        if (r.delayNanos > 0) {
            LockSupport.parkNanos(r.delayNanos);
        }
        if (!enabled) {
            return;
        }
        boolean fail = r.always || call == r.nth;
        if (!fail && r.fraction > 0) {
            synchronized (random) {
                fail = random.nextDouble() < r.fraction;
            }
        }
        if (fail) {
            injected.get(op).incrementAndGet();
            throw new InjectedFault(op, call);
        }
    }

    @Override
    public long reserve(long size, long alignment) {
        maybeFail(Op.RESERVE);
        long address = delegate.reserve(size, alignment);
        reservations.put(address, size);
        return address;
    }

    @Override
    public void commit(long address, long size) {
        requireInside("commit", address, size);
        maybeFail(Op.COMMIT);
        delegate.commit(address, size);
    }

    @Override
    public void decommit(long address, long size) {
        requireInside("decommit", address, size);
        maybeFail(Op.DECOMMIT);
        delegate.decommit(address, size);
    }

    @Override
    public void release(long address, long size) {
        maybeFail(Op.RELEASE);
        // Forget the reservation before unmapping: once unmapped, a concurrent reserve may get the same address.
        if (!reservations.remove(address, size)) {
            // Not unmapped: the range may be another reservation now, or part of one.
            violations.add("release(0x" + Long.toHexString(address) + ", " + size + ") is not a reservation "
                    + "(reserved there: " + reservations.get(address) + ")");
            return;
        }
        try {
            delegate.release(address, size);
        } catch (RuntimeException | Error e) {
            reservations.put(address, size);
            throw e;
        }
    }

    private void requireInside(String op, long address, long size) {
        Map.Entry<Long, Long> r = reservations.floorEntry(address);
        if (r == null || address + size > r.getKey() + r.getValue()) {
            violations.add(op + "(0x" + Long.toHexString(address) + ", " + size + ") is outside every reservation");
        }
    }

    /** Not a fault point: the delegate's answer, so that the guard's residency checks run under fault injection too. */
    @Override
    public boolean trackResidency(long address, long size) {
        return delegate.trackResidency(address, size);
    }

    @Override
    public void residency(long address, long size, byte[] resident) {
        delegate.residency(address, size, resident);
    }

    /** Not a fault point either: the sampled guard's guard pages are tested with a failing source of their own. */
    @Override
    public boolean canProtect() {
        return delegate.canProtect();
    }

    @Override
    public void protect(long address, long size, boolean accessible) {
        delegate.protect(address, size, accessible);
    }

    @Override
    public long pageSize() {
        return delegate.pageSize();
    }

    @Override
    public String toString() {
        return "faults(" + delegate + ", " + rules + ")";
    }

    /** Which faults to inject. */
    public static final class Builder {
        private final PageSource delegate;
        private final Map<Op, Rule> rules = new EnumMap<>(Op.class);
        private long seed = 1;

        private Builder(PageSource delegate) {
            this.delegate = delegate;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** The {@code n}th call of {@code op} (counting from 1) fails. */
        public Builder failNth(Op op, long n) {
            Rule r = rules.getOrDefault(op, Rule.NONE);
            rules.put(op, new Rule(n, r.fraction, r.always, r.delayNanos));
            return this;
        }

        /** Each call of {@code op} fails with probability {@code p}. */
        public Builder failFraction(Op op, double p) {
            Rule r = rules.getOrDefault(op, Rule.NONE);
            rules.put(op, new Rule(r.nth, p, r.always, r.delayNanos));
            return this;
        }

        /** Every call of {@code op} fails. */
        public Builder failAlways(Op op) {
            Rule r = rules.getOrDefault(op, Rule.NONE);
            rules.put(op, new Rule(r.nth, r.fraction, true, r.delayNanos));
            return this;
        }

        /** Each call of {@code op} first sleeps this long. */
        public Builder delay(Op op, long time, TimeUnit unit) {
            Rule r = rules.getOrDefault(op, Rule.NONE);
            rules.put(op, new Rule(r.nth, r.fraction, r.always, unit.toNanos(time)));
            return this;
        }

        public FaultInjectingPageSource build() {
            return new FaultInjectingPageSource(this);
        }
    }
}
