package dev.hakmem;

import dev.hakmem.jfr.HeapStatisticsEvent;
import jdk.jfr.FlightRecorder;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import javax.management.StandardMBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A heap as monitors see it: its {@link HakMemMXBean} on the platform MBean server and its periodic JFR
 * {@code dev.hakmem.HeapStatistics} event. Registered when the heap is made, removed when it closes.
 *
 * <p>Monitoring never stops a heap from working: a bean that cannot be registered (another class loader's hakmem
 * took the name) is logged and the heap runs unregistered.
 */
final class Monitoring implements HakMemMXBean {

    private static final System.Logger LOG = System.getLogger("dev.hakmem");
    /** The open heaps, for the periodic JFR hook. */
    private static final Set<Monitoring> OPEN = ConcurrentHashMap.newKeySet();

    static {
        // JFR calls the hook once per period, and only while a recording enables the event.
        FlightRecorder.addPeriodicEvent(HeapStatisticsEvent.class, Monitoring::emitStatistics);
    }

    private final HakMem heap;
    private final String name;
    /** The bean's name while registered, else null. */
    private final ObjectName objectName;

    private Monitoring(HakMem heap, String name, ObjectName objectName) {
        this.heap = heap;
        this.name = name;
        this.objectName = objectName;
    }

    /** Makes {@code heap} visible to JMX and JFR under {@code name}. */
    static Monitoring register(HakMem heap, String name) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName on = null;
        try {
            on = new ObjectName(OBJECT_NAME_PREFIX + ObjectName.quote(name));
            Monitoring m = new Monitoring(heap, name, on);
            server.registerMBean(new StandardMBean(m, HakMemMXBean.class, true), on);
            OPEN.add(m);
            return m;
        } catch (InstanceAlreadyExistsException e) {
            LOG.log(System.Logger.Level.WARNING, "hakmem heap " + name + " runs without its MXBean: " + on
                    + " is taken (by hakmem loaded in another class loader?)");
        } catch (JMException e) {
            LOG.log(System.Logger.Level.WARNING, "hakmem heap " + name + " runs without its MXBean", e);
        }
        Monitoring unregistered = new Monitoring(heap, name, null);
        OPEN.add(unregistered);
        return unregistered;
    }

    /** Removes the bean and stops the periodic event; a second call does nothing (a heap may be closed twice). */
    void unregister() {
        if (OPEN.remove(this) && objectName != null) {
            try {
                ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
            } catch (InstanceNotFoundException e) {
                LOG.log(System.Logger.Level.WARNING, objectName + " was already unregistered", e);
            } catch (JMException e) {
                LOG.log(System.Logger.Level.WARNING, objectName + " could not be unregistered", e);
            }
        }
    }

    private static void emitStatistics() {
        for (Monitoring m : OPEN) {
            Statistics s = m.getStatistics();
            HeapStatisticsEvent.emit(m.name, s.liveBytes(), s.mappedBytes(), s.committedBytes(),
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
