package dev.hakmem.stress;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import dev.hakmem.verify.Pattern;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the stress tests share: how long they run, their seeds, their error log and their report.
 *
 * <p>The default build runs each test as a smoke of a few seconds. The {@code stress} profile sets
 * {@code stress.full=true}: the tests then share {@code stress.minutes} (10 by default) by fixed fractions.
 */
final class StressSupport {

    /** How long a test may overrun its duration before its threads are reported as hung. */
    static final Duration GRACE = Duration.ofSeconds(60);
    private static final int MAX_ERROR_SAMPLES = 20;
    /** Several ticks of the maintenance thread (20 ms each): enough to reap dead threads and reclaim their memory. */
    private static final long RECLAIM_MILLIS = 100;

    private StressSupport() {
    }

    static boolean full() {
        return Boolean.getBoolean("stress.full");
    }

    /** {@code smoke} in the default build; under {@code -Pstress}, {@code share} of {@code stress.minutes}. */
    static Duration duration(Duration smoke, double share) {
        if (!full()) {
            return smoke;
        }
        double minutes = Double.parseDouble(System.getProperty("stress.minutes", "10"));
        return Duration.ofMillis(Math.max(1000, Math.round(minutes * share * 60_000)));
    }

    /**
     * {@code stress.seed} when given, so a failing run can be repeated; else a new one. Printed at once, with
     * {@code test}'s name: a test that fails before its report must not take its seed with it.
     */
    static long seed(String test) {
        Long given = Long.getLong("stress.seed");
        long seed = given != null ? given : System.nanoTime() ^ System.currentTimeMillis() << 20;
        System.out.printf(Locale.ROOT, "[stress] %s: seed %d (-Dstress.seed=%d repeats it)%n", test, seed, seed);
        return seed;
    }

    /** A block the test owns, filled with the pattern of {@code seed}; {@code owner} is the allocating thread. */
    record Block(long address, long size, long seed, long owner) {

        static Block filled(long address, long size, long seed) {
            Pattern.fill(address, size, seed);
            return new Block(address, size, seed, Thread.currentThread().threadId());
        }

        /** -1 if the contents are intact, else the offset of the first changed byte. */
        long firstBadByte() {
            return Pattern.check(address, size, seed);
        }

        boolean remote() {
            return owner != Thread.currentThread().threadId();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "block 0x%x (%,d bytes, seed %d)", address, size, seed);
        }
    }

    /** Errors found by any thread; the test fails on the first few of them, described. */
    static final class Errors {
        private final AtomicLong count = new AtomicLong();
        private final ConcurrentLinkedQueue<String> samples = new ConcurrentLinkedQueue<>();

        void add(String message) {
            if (count.incrementAndGet() <= MAX_ERROR_SAMPLES) {
                samples.add(Thread.currentThread().getName() + ": " + message);
            }
        }

        void unexpected(Throwable t) {
            add("unexpected " + t + " at " + Arrays.stream(t.getStackTrace()).limit(8)
                    .map(String::valueOf).collect(Collectors.joining(" <- ")));
        }

        /** Checks the block's pattern, then frees it. */
        void verifyAndFree(HakMem heap, Block b) {
            long bad = b.firstBadByte();
            if (bad >= 0) {
                add(b + " corrupted at offset " + bad + " before its free");
            }
            heap.free(b.address());
        }

        long count() {
            return count.get();
        }

        void assertNone() {
            if (count.get() > 0) {
                fail(count.get() + " errors, the first:\n  " + String.join("\n  ", samples));
            }
        }
    }

    /** Platform threads of a test, joined with a deadline so that a hang fails the test with the stuck stacks. */
    static final class Threads {
        private final List<Thread> threads = new ArrayList<>();

        Thread start(String name, Runnable body) {
            Thread t = Thread.ofPlatform().name(name).daemon(true).start(body);
            threads.add(t);
            return t;
        }

        void joinAll(Duration within) throws InterruptedException {
            long deadline = System.nanoTime() + within.toNanos();
            for (Thread t : threads) {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
                if (t.isAlive()) {
                    fail(t.getName() + " still runs " + within.toSeconds() + " s after it should have ended, at "
                            + Arrays.stream(t.getStackTrace()).limit(12).map(String::valueOf)
                            .collect(Collectors.joining(" <- ")));
                }
            }
        }
    }

    /**
     * The end every test shares, once its threads have died: the heap's invariants hold (its counters reconciled
     * with its structures by {@code check()}), every block was given back, and the heap counted, over its tiers, as
     * many mallocs and as many frees as the {@code mallocs} blocks the test itself counted. Checked once more after
     * the maintenance thread has had the time to reap the dead threads' heaps and reclaim their SuperSlabs, which
     * moves their counts. Returns the stats for the report.
     */
    static HakMemStats assertCheckedAndEmpty(HakMem heap, long mallocs) throws InterruptedException {
        assertReconciled(heap, mallocs);
        Thread.sleep(RECLAIM_MILLIS);
        return assertReconciled(heap, mallocs);
    }

    private static HakMemStats assertReconciled(HakMem heap, long mallocs) {
        heap.check();
        HakMemStats stats = heap.stats();
        assertEquals(0, stats.liveBytes(), "live bytes at the end: leaked");
        assertEquals(0, stats.liveBlocks(), "live blocks at the end: leaked");
        long counted = 0;
        long freed = 0;
        for (HakMemStats.TierStats t : stats.tiers().values()) {
            counted += t.mallocs();
            freed += t.frees();
        }
        assertEquals(mallocs, counted, () -> "mallocs counted by the heap's tiers, against the test's own count: "
                + stats.tiers());
        assertEquals(mallocs, freed, () -> "frees counted by the heap's tiers, against the test's own count: "
                + stats.tiers());
        return stats;
    }

    /** Prints what a test did, in one paragraph. */
    static void report(String test, long seed, long startNanos, String... facts) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        System.out.printf(Locale.ROOT, "[stress] %s (%s, seed %d, %.1f s)%n", test,
                full() ? "full run" : "smoke run; -Pstress runs it for longer", seed, seconds);
        for (String fact : facts) {
            System.out.println("[stress]   " + fact);
        }
    }

    static String count(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
