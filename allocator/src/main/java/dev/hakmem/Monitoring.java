package dev.hakmem;

import dev.hakmem.jfr.HeapStatisticsEvent;
import dev.hakmem.jfr.Jfr;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;

import javax.management.JMException;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A heap as monitors see it: its {@link HakMemMXBean} on the platform MBean server and its periodic JFR
 * {@code dev.hakmem.HeapStatistics} event, from the heap's creation to its close.
 *
 * <p>Starting the platform MBean server costs about half a second the first time in a process, so registration runs
 * on a background thread ({@link #AGENT}): making a heap never waits for it. The thread runs the heaps'
 * registrations and removals in order, so a heap closed at once is registered, then removed. It ends when idle.
 * Monitoring never stops a heap from working: a failed registration (another class loader's hakmem took the name) is
 * logged and the heap runs unregistered.
 *
 * <p>The periodic JFR hook is added only once JFR is initialized (a listener hears of it; see {@link Jfr} for why
 * nothing of JFR is touched before): a JVM that never records pays nothing for it.
 */
final class Monitoring implements HakMemMXBean {

    private static final System.Logger LOG = System.getLogger("dev.hakmem");
    /** The open heaps, for the periodic JFR hook. */
    private static final Set<Monitoring> OPEN = ConcurrentHashMap.newKeySet();
    /** One thread, in submission order; it ends after a second idle. */
    private static final ExecutorService AGENT = agent();

    static {
        FlightRecorder.addListener(new FlightRecorderListener() {
            @Override
            public void recorderInitialized(FlightRecorder recorder) {
                FlightRecorder.addPeriodicEvent(HeapStatisticsEvent.class, Monitoring::emitStatistics);
            }
        });
    }

    private final HakMem heap;
    private final int id;
    private final String name;
    private final ObjectName objectName;

    private Monitoring(HakMem heap, int id, String name) {
        this.heap = heap;
        this.id = id;
        this.name = name;
        this.objectName = objectName(name);
    }

    /** Makes {@code heap} (number {@code id}, named {@code name}) visible to JMX and JFR, in the background. */
    static Monitoring register(HakMem heap, int id, String name) {
        Monitoring m = new Monitoring(heap, id, name);
        OPEN.add(m);
        AGENT.execute(m::registerBean);
        return m;
    }

    /** Removes the bean and stops the periodic event; a second call does nothing (a heap may be closed twice). */
    void unregister() {
        if (OPEN.remove(this)) {
            AGENT.execute(this::unregisterBean);
        }
    }

    /** Waits until every registration and removal asked for so far is done; for tests. */
    static void awaitRegistrations() throws InterruptedException {
        try {
            AGENT.submit(() -> { }).get();
        } catch (ExecutionException e) {
            throw new AssertionError(e);
        }
    }

    private static ObjectName objectName(String name) {
        try {
            return new ObjectName(OBJECT_NAME_PREFIX + ObjectName.quote(name));
        } catch (JMException e) {
            throw new IllegalArgumentException("not a heap name for JMX: " + name, e);
        }
    }

    private static ExecutorService agent() {
        ThreadPoolExecutor e = new ThreadPoolExecutor(1, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                r -> Thread.ofPlatform().daemon().name("hakmem-monitoring").unstarted(r));
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    private void registerBean() {
        try {
            if (OPEN.contains(this)) {
                ManagementFactory.getPlatformMBeanServer()
                        .registerMBean(new StandardMBean(this, HakMemMXBean.class, true), objectName);
            }
        } catch (JMException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "hakmem heap " + name + " runs without its MXBean " + objectName
                    + " (taken by hakmem in another class loader?)", e);
        }
    }

    private void unregisterBean() {
        try {
            if (ManagementFactory.getPlatformMBeanServer().isRegistered(objectName)) {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            }
        } catch (JMException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, objectName + " could not be unregistered", e);
        }
    }

    /** JFR's periodic hook: it runs once per period, and only while a recording enables the event. */
    private static void emitStatistics() {
        for (Monitoring m : OPEN) {
            Statistics s = m.getStatistics();
            Jfr.heapStatistics(m.id, s.liveBytes(), s.mappedBytes(), s.committedBytes(),
                    new long[] {s.tinyLiveBytes(), s.midLiveBytes(), s.largeLiveBytes(), s.bigLiveBytes()},
                    s.mallocs(), s.frees(), s.violations());
        }
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public Statistics getStatistics() {
        return Statistics.of(heap.stats(), heap.violations());
    }

    @Override
    public String getLearningState() {
        return heap.learningState().name();
    }

    @Override
    public String getPolicy() {
        return heap.policy().toJson();
    }

    @Override
    public boolean isGuardEnabled() {
        return heap.config().guard().enabled();
    }

    @Override
    public void check() {
        heap.check();
    }

    @Override
    public String leakReport() {
        return heap.leakReport().toString();
    }

    @Override
    public void dumpTrace(String path) {
        heap.dumpTrace(Path.of(path));
    }
}
