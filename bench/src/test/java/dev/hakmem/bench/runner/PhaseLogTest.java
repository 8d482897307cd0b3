package dev.hakmem.bench.runner;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PhaseLogTest {

    @Test
    void aWindowIsLabelledWithEveryPhaseThatRanInItInTheirOrder() {
        PhaseLog log = new PhaseLog();
        log.begin("json", 1000);
        log.begin("mir", 2000);
        log.begin("vm", 3000);

        assertEquals("-", log.during(0, 1000), "before the first phase");
        assertEquals("json", log.during(1000, 2000));
        assertEquals("json", log.during(1500, 1600));
        assertEquals("json>mir", log.during(1900, 2100));
        assertEquals("json>mir>vm", log.during(500, 3001));
        assertEquals("vm", log.during(3000, 9000), "the last phase runs on");
        assertEquals(3, log.begun());
        assertEquals(new PhaseLog.Mark(3000, "vm"), log.last());
    }

    @Test
    void timesCompareByDifferenceSoThatTheClockMayBeNegativeOrWrap() {
        PhaseLog log = new PhaseLog();
        log.begin("json", Long.MAX_VALUE - 10);
        log.begin("mir", Long.MAX_VALUE + 10);

        assertEquals("json>mir", log.during(Long.MAX_VALUE - 5, Long.MAX_VALUE + 15));
        assertEquals("mir", log.during(Long.MAX_VALUE + 11, Long.MAX_VALUE + 20));
    }
}
