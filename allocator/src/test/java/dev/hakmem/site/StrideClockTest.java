package dev.hakmem.site;

import dev.hakmem.SiteProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayDeque;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stripes' clocks on a virtual time source, through the profiler's own path (births and deaths timed by their
 * stripe): at a high sampling rate (one malloc a microsecond) the clock is read rarely, at a low one (one each 3 ms)
 * at every event, and at both a block living 20 ms is measured long-lived, within the stated bound, and one freed at
 * once short-lived. And the clock alone: its edges (reads 0.25 ms apart do not double the stride, reads 1 ms apart do
 * not rescale it) and its rescaling formula.
 */
class StrideClockTest {
    private static final long LIFE = 20_000_000L;

    @ParameterizedTest
    @ValueSource(longs = {1_000, 3_000_000})
    void lifetimesHoldTheirBoundAtBothRates(long gap) {
        long[] time = {1_000_000_000L};
        long[] reads = {0};
        Profiler p = new Profiler(1, 1, 1 << 16, 1, false, () -> {
            reads[0]++;
            return time[0];
        });
        SiteState brief = p.site("brief");
        SiteState kept = p.site("kept");
        Profiler.Period drawn = p.period();
        ArrayDeque<long[]> live = new ArrayDeque<>();
        long events = 0;
        long address = 0x10_0000;
        for (long end = time[0] + 300_000_000L; time[0] < end; time[0] += gap) {
            assertTrue(p.recordMalloc(brief, address, 64, drawn, 0));
            assertTrue(p.freed(address));
            address += 64;
            assertTrue(p.recordMalloc(kept, address, 64, drawn, 0));
            live.add(new long[]{address, time[0]});
            address += 64;
            events += 3;
            while (time[0] - live.peek()[1] >= LIFE) {
                assertTrue(p.freed(live.poll()[0]));
                events++;
            }
        }
        assertNull(p.check());
        long bound = StrideClock.SLOW_NANOS + gap;
        SiteProfile briefProfile = p.profile(brief, time[0]);
        SiteProfile keptProfile = p.profile(kept, time[0]);
        for (long l : briefProfile.recentLifetimes()) {
            assertTrue(l <= bound, "freed at once, measured " + l + " ns");
        }
        for (long l : keptProfile.recentLifetimes()) {
            assertTrue(Math.abs(l - LIFE) <= bound, "lived 20 ms to within a gap, measured " + l + " ns");
        }
        assertTrue(SiteRules.decide(keptProfile).longLived(), "the 20 ms site is long-lived");
        assertFalse(SiteRules.decide(briefProfile).longLived(), "the site freeing at once is short-lived");
        if (gap >= StrideClock.SLOW_NANOS) {
            assertEquals(events, reads[0] - 16, "a rare sample reads the clock at every event (16: the stripes' first)");
        } else {
            assertTrue(reads[0] < events / 50, reads[0] + " reads for " + events + " events");
        }
    }

    /**
     * A pause after a high rate: the stripes' strides are long, and without a read the first events after it would
     * take a reading from before it. The maintenance ticks during the pause make each stripe's next event read the
     * clock: blocks born before a 50 ms pause and freed after it are measured 50 ms old.
     */
    @Test
    void aTickDuringAPauseMakesTheNextEventReadTheClock() {
        long[] time = {1_000_000_000L};
        Profiler p = new Profiler(1, 1, 1 << 16, 1, false, () -> time[0]);
        SiteState s = p.site("paused");
        Profiler.Period drawn = p.period();
        long address = 0x10_0000;
        for (int i = 0; i < 200_000; i++, time[0] += 1_000) {
            assertTrue(p.recordMalloc(s, address, 64, drawn, 0));
            assertTrue(p.freed(address));
            address += 64;
        }
        long born = time[0];
        for (int i = 0; i < 64; i++) {
            assertTrue(p.recordMalloc(s, address + 64L * i, 64, drawn, 0));
        }
        for (int tick = 0; tick < 2; tick++) {
            time[0] += 25_000_000L;
            p.tick();
        }
        for (int i = 0; i < 64; i++) {
            assertTrue(p.freed(address + 64L * i));
        }
        long pause = time[0] - born;
        // Sorted: the 64 longest are the paused ones (the others lived under a microsecond).
        long[] lifetimes = p.profile(s, time[0]).recentLifetimes();
        for (int i = lifetimes.length - 64; i < lifetimes.length; i++) {
            assertTrue(Math.abs(lifetimes[i] - pause) <= StrideClock.SLOW_NANOS, "lived " + pause + " ns, measured "
                    + lifetimes[i]);
        }
        assertNull(p.check());
    }

    /** The source's time and how often it was read. */
    private static final class Source {
        long time = 1_000_000_000L;
        long reads;

        long read() {
            reads++;
            return time;
        }
    }

    /** Four reads in a row less than 0.25 ms apart double the stride; reads exactly 0.25 ms apart are not fast. */
    @ParameterizedTest
    @ValueSource(longs = {StrideClock.FAST_NANOS - 1, StrideClock.FAST_NANOS})
    void onlyReadsLessThanAQuarterMillisecondApartDoubleTheStride(long gap) {
        Source source = new Source();
        StrideClock clock = new StrideClock(source::read);
        long before = source.reads;
        for (int i = 0; i < 2 * StrideClock.FAST_READS; i++) {
            source.time += gap;
            clock.now(0);
        }
        long reads = source.reads - before;
        if (gap < StrideClock.FAST_NANOS) {
            assertTrue(reads < 2 * StrideClock.FAST_READS, reads + " reads: the stride doubled");
        } else {
            assertEquals(2 * StrideClock.FAST_READS, reads, "stride 1: a read at every event");
        }
        assertNull(clock.check());
    }

    /**
     * A read more than 1 ms after the last rescales the stride to what that interval says gives 0.5 ms, at least 1:
     * from stride 8, 2 ms gives 8 * 0.5 / 2 = 2, 100 ms gives 1; a read exactly 1 ms after the last keeps it.
     */
    @ParameterizedTest
    @ValueSource(longs = {StrideClock.SLOW_NANOS, 2 * StrideClock.SLOW_NANOS, 100 * StrideClock.SLOW_NANOS})
    void aReadMoreThanAMillisecondAfterTheLastRescalesTheStride(long interval) {
        Source source = new Source();
        StrideClock clock = new StrideClock(source::read);
        int epoch = 0;
        // Each event after a tick reads: 12 fast reads in a row double the stride three times.
        for (int i = 0; i < 3 * StrideClock.FAST_READS; i++) {
            source.time += 1_000;
            clock.now(++epoch);
        }
        source.time += interval;
        clock.now(++epoch);
        long before = source.reads;
        int events = 0;
        while (source.reads == before) {
            clock.now(epoch);
            events++;
        }
        long expected = interval > StrideClock.SLOW_NANOS ? Math.max(1, 8 * StrideClock.SLOW_NANOS / 2 / interval) : 8;
        assertEquals(expected, events, "the stride: events per read after a read " + interval + " ns after the last");
        assertNull(clock.check());
    }
}
