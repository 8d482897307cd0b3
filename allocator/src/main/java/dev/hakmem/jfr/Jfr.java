package dev.hakmem.jfr;

import dev.hakmem.HakMemException;
import dev.hakmem.HeapCorruptionException;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import jdk.jfr.FlightRecorder;

/**
 * The one home of every hakmem JFR event's emission. Each method returns at once while JFR is not initialized (no
 * recording was ever started in this JVM): then no event class is loaded or registered, which costs the first event
 * about 0.2 s and, done by one thread while another (a Java agent) retransforms classes, can deadlock inside the
 * JDK (seen with Lincheck's agent: JFR's metadata lock and its configuration lock taken in opposite orders). Once a
 * recording has started, each event costs its {@code shouldCommit()} test when disabled.
 */
public final class Jfr {
    private Jfr() {
    }

    /** Whether JFR runs in this JVM (a volatile read); false until a recording is first started. */
    public static boolean initialized() {
        return FlightRecorder.isInitialized();
    }

    /** A SuperSlab's or big block's mapping taken from ({@code mapped}) or given back to the OS. */
    public static void mapping(int heapId, String kind, boolean mapped, long address, long bytes) {
        if (!initialized()) {
            return;
        }
        MappingEvent e = new MappingEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.kind = kind;
            e.action = mapped ? "map" : "unmap";
            e.address = address;
            e.bytes = bytes;
            e.commit();
        }
    }

    /** Empty pages given back with madvise, the mapping kept. */
    public static void purge(int heapId, long address, long bytes) {
        if (!initialized()) {
            return;
        }
        PurgeEvent e = new PurgeEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.address = address;
            e.bytes = bytes;
            e.commit();
        }
    }

    /** A dead thread's SuperSlab adopted. */
    public static void adoption(int heapId, long superSlab) {
        if (!initialized()) {
            return;
        }
        AdoptionEvent e = new AdoptionEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.superSlab = superSlab;
            e.commit();
        }
    }

    /** An out-of-memory error leaving the allocator for its caller. */
    public static void outOfMemory(int heapId, long requestedBytes, String reason) {
        if (!initialized()) {
            return;
        }
        OutOfMemoryEvent e = new OutOfMemoryEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.requestedBytes = requestedBytes;
            e.reason = reason;
            e.commit();
        }
    }

    /** A heap error guard mode (full or sampled) detected, as thrown or logged. */
    public static void guardViolation(int heapId, HakMemException error) {
        if (!initialized()) {
            return;
        }
        GuardViolationEvent e = new GuardViolationEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.kind = error.getClass().getSimpleName();
            e.block = error instanceof InvalidFreeException f ? f.address()
                    : error instanceof HeapCorruptionException c ? c.address() : 0;
            e.report = error.getMessage();
            e.commit();
        }
    }

    /** A learning heap's state changed; {@code policy} is the one in force after it. */
    public static void learningTransition(int heapId, LearningState from, LearningState to, Policy policy) {
        if (!initialized()) {
            return;
        }
        LearningTransitionEvent e = new LearningTransitionEvent();
        if (e.shouldCommit()) {
            e.heapId = heapId;
            e.from = from.name();
            e.to = to.name();
            e.policy = policy.toJson();
            e.commit();
        }
    }

    /** One heap's figures; called by the periodic hook, which JFR runs only while the event is enabled. */
    public static void heapStatistics(int heapId, long liveBytes, long mappedBytes, long committedBytes,
                                      long[] tierLiveBytes, long mallocs, long frees, long violations) {
        HeapStatisticsEvent e = new HeapStatisticsEvent();
        e.heapId = heapId;
        e.liveBytes = liveBytes;
        e.mappedBytes = mappedBytes;
        e.committedBytes = committedBytes;
        e.tinyLiveBytes = tierLiveBytes[0];
        e.midLiveBytes = tierLiveBytes[1];
        e.largeLiveBytes = tierLiveBytes[2];
        e.bigLiveBytes = tierLiveBytes[3];
        e.mallocs = mallocs;
        e.frees = frees;
        e.violations = violations;
        e.commit();
    }
}
