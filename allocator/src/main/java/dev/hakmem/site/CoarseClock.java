package dev.hakmem.site;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The clock of sampled blocks' births and deaths: {@link System#nanoTime()} as a daemon thread last read it, every
 * {@link #TICK_NANOS} (1 ms), so that a reading costs a load instead of a clock call ({@code System.nanoTime()} took
 * 40 to 83 ns here, twice per sampled block: a third of a sample's price before, issue 11).
 * <pre>
 *   ticker:   now = nanoTime() | park 1 ms | now = nanoTime() | park 1 ms | ... 100 ticks unread ... | asleep, parked
 *   reader:   wanted = true; asleep? (unpark the ticker, read nanoTime() itself) : now
 * </pre>
 * <b>Resolution.</b> A reading lags the true time by up to one tick, and further while the ticker waits for a CPU; a
 * lifetime (the difference of two readings) is off by up to about 1 ms either way, a tenth of {@link SiteRules}'
 * 10 ms edge between short- and long-lived blocks. Readings never exceed {@code System.nanoTime()}, so an age taken
 * against the true time errs long by at most the lag.
 *
 * <p><b>Idle.</b> A ticker nobody reads for {@value #IDLE_TICKS} ticks sleeps, so a process that stopped sampling
 * pays no wake-ups. The first reader after that reads {@code System.nanoTime()} itself and wakes the ticker. Awake,
 * the ticker costs a wake-up a tick (36 us of CPU on the project's Firecracker VM, 3.6% of a core): it pays for
 * itself above about 350 samples a millisecond (two clock calls each), as json and mir sample; a program sampling a
 * few times every 100 ms keeps it awake for little (issue 11: a sleep rule by read rate is the next step).
 *
 * <h2>Threads</h2>
 * NOTE: the hand-off is Dekker's: a reader writes {@code wanted} then reads {@code asleep}; the ticker writes
 * {@code asleep} then reads {@code wanted}; all four accesses are volatile (sequentially consistent), so at least one
 * side sees the other's write: either the ticker stays awake, or the reader sees it asleep and wakes it (an unpark
 * before the park is kept as the thread's permit). {@code now} is written only by the ticker, with a release store
 * before {@code asleep} is cleared, and read opaque: a reading needs no ordering with anything else, only a value no
 * older than the ticker's last write that the reader could see.
 */
final class CoarseClock {
    /** The ticker's period, the clock's resolution: 1 ms. */
    static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Ticks without a reader after which the ticker sleeps. */
    static final int IDLE_TICKS = 100;

    private static final VarHandle NOW;
    @SuppressWarnings("unused")
    private static long now;
    private static volatile boolean wanted;
    private static volatile boolean asleep;
    private static final Thread TICKER;

    static {
        try {
            NOW = MethodHandles.lookup().findStaticVarHandle(CoarseClock.class, "now", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        NOW.setRelease(System.nanoTime());
        TICKER = Thread.ofPlatform().daemon().name("hakmem-clock").start(CoarseClock::tick);
    }

    private CoarseClock() {
    }

    /** The time, as {@link System#nanoTime()} read at most one tick ago (see the class comment). */
    static long now() {
        if (!wanted) {
            wanted = true;
        }
        if (asleep) {
            LockSupport.unpark(TICKER);
            return System.nanoTime();
        }
        return (long) NOW.getOpaque();
    }

    private static void tick() {
        int idle = 0;
        for (;;) {
            LockSupport.parkNanos(TICK_NANOS);
            NOW.setRelease(System.nanoTime());
            if (wanted) {
                wanted = false;
                idle = 0;
            } else if (++idle >= IDLE_TICKS) {
                asleep = true;
                while (!wanted) {
                    LockSupport.park();
                }
                NOW.setRelease(System.nanoTime());
                asleep = false;
                idle = 0;
            }
        }
    }
}
