package dev.hakmem;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.JMX;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A heap's MXBean answers through the platform MBean server, and its JFR events reach a recording. */
class MonitoringTest {

    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    private static ObjectName nameOf(HakMem h) throws Exception {
        return new ObjectName(HakMemMXBean.OBJECT_NAME_PREFIX + ObjectName.quote(h.allocator().name()));
    }

    @Test
    void theBeanAnswersWithTheHeapsFiguresAndGoesAwayAtClose() throws Exception {
        ObjectName on;
        try (HakMem h = HakMem.create()) {
            on = nameOf(h);
            Monitoring.awaitRegistrations();
            HakMemMXBean bean = JMX.newMXBeanProxy(SERVER, on, HakMemMXBean.class);
            long small = h.malloc(100);
            long mid = h.malloc(20_000);
            long big = h.malloc(3 << 20);
            HakMemStats direct = h.stats();
            HakMemMXBean.Statistics s = bean.getStatistics();
            assertEquals(h.allocator().name(), bean.getName());
            assertEquals(direct.liveBytes(), s.liveBytes());
            assertEquals(3, s.liveBlocks());
            assertEquals(direct.tier(HakMemStats.Tier.TINY).liveBytes(), s.tinyLiveBytes());
            assertEquals(direct.tier(HakMemStats.Tier.MID).liveBytes(), s.midLiveBytes());
            assertEquals(direct.tier(HakMemStats.Tier.BIG).liveBytes(), s.bigLiveBytes());
            assertEquals(0, s.largeLiveBytes());
            assertEquals(3, s.mallocs());
            assertEquals(direct.mappedBytes(), s.mappedBytes());
            assertEquals(direct.events(), s.events());
            assertEquals("FROZEN", bean.getLearningState());
            assertEquals(h.policy(), Policy.fromJson(bean.getPolicy()));
            assertFalse(bean.isGuardEnabled());
            bean.check();
            assertTrue(bean.leakReport().contains("3"), bean.leakReport());
            assertThrows(IllegalStateException.class, () -> bean.dumpTrace("/tmp/never-written"));
            h.free(small);
            h.free(mid);
            h.free(big);
            assertEquals(0, bean.getStatistics().liveBytes());
            assertEquals(3, bean.getStatistics().frees());
            assertTrue(SERVER.isRegistered(on));
            h.close();
            Monitoring.awaitRegistrations();
            assertFalse(SERVER.isRegistered(on), "unregistered at close");
        }
        Monitoring.awaitRegistrations();
        assertFalse(SERVER.isRegistered(on), "a second close leaves it unregistered, quietly");
    }

    @Test
    void aHeapClosedAtOnceEndsUnregistered() throws Exception {
        HakMem h = HakMem.create();
        h.close();
        Monitoring.awaitRegistrations();
        assertFalse(SERVER.isRegistered(nameOf(h)));
    }

    @Test
    void aHeapWithoutMonitoringHasNoBean() throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder().monitoring(false).build())) {
            Monitoring.awaitRegistrations();
            assertFalse(SERVER.isRegistered(nameOf(h)));
            assertFalse(h.config().monitoring());
        }
    }

    @Test
    void theGuardHeapsBeanCountsViolationsAndDumpsItsTrace(@TempDir Path dir) throws Exception {
        try (HakMem h = HakMem.create(HakMemConfig.builder()
                .guard(GuardOptions.on().withThrowOnViolation(false)).build())) {
            Monitoring.awaitRegistrations();
            HakMemMXBean bean = JMX.newMXBeanProxy(SERVER, nameOf(h), HakMemMXBean.class);
            long a = h.malloc(64);
            h.free(a);
            h.free(a);
            assertTrue(bean.isGuardEnabled());
            assertEquals(1, bean.getStatistics().violations());
            Path trace = dir.resolve("trace.txt");
            bean.dumpTrace(trace.toString());
            assertTrue(Files.size(trace) > 0);
        }
    }

    @Test
    void aRecordingGetsEachOpenHeapsStatistics(@TempDir Path dir) throws Exception {
        try (HakMem h = HakMem.create(); Recording r = new Recording()) {
            r.enable("dev.hakmem.HeapStatistics").withPeriod(Duration.ofMillis(20));
            long a = h.malloc(5000);
            r.start();
            Thread.sleep(200);
            r.stop();
            Path file = dir.resolve("rec.jfr");
            r.dump(file);
            List<RecordedEvent> mine = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("dev.hakmem.HeapStatistics"))
                    .filter(e -> e.getInt("heapId") == h.allocator().id()).toList();
            assertFalse(mine.isEmpty(), "statistics events of this heap");
            RecordedEvent e = mine.getFirst();
            assertEquals(h.stats().liveBytes(), e.getLong("liveBytes"));
            assertEquals(h.stats().liveBytes(), e.getLong("midLiveBytes"));
            assertEquals(1, e.getLong("mallocs"));
            assertTrue(e.getEventType().getCategoryNames().contains("hakmem"));
            h.free(a);
        }
    }

    @Test
    void aRecordingGetsEveryLearningTransition(@TempDir Path dir) throws Exception {
        try (Recording r = new Recording()) {
            r.enable("dev.hakmem.LearningTransition");
            r.start();
            long transitions;
            int id;
            try (HakMem h = HakMem.create(HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING)
                    .learnWindowMillis(10).policy(Policy.defaults()).build())) {
                id = h.allocator().id();
                long deadline = System.nanoTime() + 20_000_000_000L;
                int i = 0;
                while (h.stats().events().learningTransitions() < 2 && System.nanoTime() < deadline) {
                    for (int k = 0; k < 1000; k++) {
                        h.free(h.malloc(16 + (i++ * 37) % 4000));
                    }
                }
                transitions = h.stats().events().learningTransitions();
            }
            r.stop();
            assertTrue(transitions >= 2, "transitions in 20 s: " + transitions);
            Path file = dir.resolve("rec.jfr");
            r.dump(file);
            List<RecordedEvent> mine = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("dev.hakmem.LearningTransition"))
                    .filter(e -> e.getInt("heapId") == id).toList();
            assertEquals(transitions, mine.size());
            assertEquals("FROZEN", mine.getFirst().getString("from"));
            for (int k = 1; k < mine.size(); k++) {
                assertEquals(mine.get(k - 1).getString("to"), mine.get(k).getString("from"));
            }
            Policy.fromJson(mine.getLast().getString("policy"));
        }
    }

    @Test
    void aRecordingGetsTheSlowPathsMappingsPurgesAdoptionsAndOutOfMemory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rec.jfr");
        int id;
        long bigBlock;
        try (Recording r = new Recording()) {
            for (String event : List.of("Mapping", "Purge", "Adoption", "OutOfMemory")) {
                r.enable("dev.hakmem." + event);
            }
            r.start();
            try (HakMem h = HakMem.create(HakMemConfig.builder().mappedLimit(16L << 20).retainBytes(0)
                    .purgeDelayMillis(0).build())) {
                id = h.allocator().id();
                bigBlock = h.malloc(3L << 20);
                h.free(bigBlock);
                long[] blocks = new long[1000];
                Thread owner = Thread.ofPlatform().start(() -> {
                    for (int i = 0; i < blocks.length; i++) {
                        blocks[i] = h.malloc(100);
                    }
                });
                owner.join();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (h.stats().events().heapsAbandoned() < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                for (long b : blocks) {
                    h.free(b);
                }
                assertTrue(h.stats().events().adoptions() >= 1, h.stats().events().toString());
                assertThrows(HakMemOutOfMemoryError.class, () -> h.malloc(32L << 20));
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> mine = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("dev.hakmem."))
                .filter(e -> e.getInt("heapId") == id).toList();
        assertTrue(mine.stream().anyMatch(e -> e.getEventType().getName().equals("dev.hakmem.Mapping")
                && e.getString("kind").equals("big") && e.getString("action").equals("map")
                && e.getLong("address") == bigBlock && e.getLong("bytes") >= 3L << 20), mine.toString());
        assertTrue(mine.stream().anyMatch(e -> e.getEventType().getName().equals("dev.hakmem.Mapping")
                && e.getString("kind").equals("big") && e.getString("action").equals("unmap")
                && e.getLong("address") == bigBlock), "the big block unmapped: " + mine);
        assertTrue(mine.stream().anyMatch(e -> e.getEventType().getName().equals("dev.hakmem.Mapping")
                && e.getString("kind").equals("superslab") && e.getLong("bytes") == 2L << 20), mine.toString());
        assertTrue(mine.stream().anyMatch(e -> e.getEventType().getName().equals("dev.hakmem.Adoption")),
                mine.toString());
        RecordedEvent oom = mine.stream().filter(e -> e.getEventType().getName().equals("dev.hakmem.OutOfMemory"))
                .findFirst().orElseThrow(() -> new AssertionError("no OutOfMemory event in " + mine));
        assertEquals(32L << 20, oom.getLong("requestedBytes"));
        assertTrue(oom.getString("reason").contains("mapped limit"), oom.getString("reason"));
        assertTrue(oom.getStackTrace() != null, "the failing allocation's stack");
        long unmaps = mine.stream().filter(e -> e.getEventType().getName().equals("dev.hakmem.Mapping")
                && e.getString("action").equals("unmap")).count();
        long maps = mine.stream().filter(e -> e.getEventType().getName().equals("dev.hakmem.Mapping")
                && e.getString("action").equals("map")).count();
        assertEquals(maps, unmaps, "every mapping unmapped by close: " + mine);
    }

    @Test
    void aRecordingGetsTheViolationsOfFullAndSampledGuardMode(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rec.jfr");
        long fullBlock;
        long sampledBlock;
        int fullId;
        int sampledId;
        try (Recording r = new Recording()) {
            r.enable("dev.hakmem.GuardViolation");
            r.start();
            try (HakMem full = HakMem.create(HakMemConfig.builder()
                    .guard(GuardOptions.on().withThrowOnViolation(false)).build());
                 HakMem sampled = HakMem.create(HakMemConfig.builder()
                         .guard(GuardOptions.sampled(1).withThrowOnViolation(false)).build())) {
                fullId = full.allocator().id();
                sampledId = sampled.allocator().id();
                fullBlock = full.malloc(64);
                full.free(fullBlock);
                full.free(fullBlock);
                sampledBlock = sampled.malloc(64);
                sampled.free(sampledBlock);
                sampled.free(sampledBlock);
                assertEquals(1, full.violations());
                assertEquals(1, sampled.violations());
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("dev.hakmem.GuardViolation")).toList();
        for (long[] expected : new long[][] {{fullId, fullBlock}, {sampledId, sampledBlock}}) {
            RecordedEvent e = events.stream().filter(v -> v.getInt("heapId") == expected[0]).findFirst()
                    .orElseThrow(() -> new AssertionError("no violation of heap " + expected[0] + " in " + events));
            assertEquals("DoubleFreeException", e.getString("kind"));
            assertEquals(expected[1], e.getLong("block"));
            assertTrue(e.getString("report").contains("MonitoringTest"),
                    "the allocating stack: " + e.getString("report"));
            assertTrue(e.getStackTrace().getFrames().stream()
                    .anyMatch(f -> f.getMethod().getType().getName().equals(MonitoringTest.class.getName())),
                    "the event's stack is where the error was found");
        }
    }
}
