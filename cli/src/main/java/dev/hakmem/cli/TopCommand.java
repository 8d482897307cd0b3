package dev.hakmem.cli;

import com.sun.tools.attach.AttachNotSupportedException;
import com.sun.tools.attach.VirtualMachine;
import dev.hakmem.HakMemMXBean;
import dev.hakmem.stress.Units;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import javax.management.InstanceNotFoundException;
import javax.management.JMX;
import javax.management.MBeanServerConnection;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * Shows the hakmem heaps of a running JVM, refreshed every second: it attaches (JDK attach API), starts the target's
 * local JMX agent as {@code jcmd PID ManagementAgent.start_local} would, and reads each heap's {@link HakMemMXBean}.
 */
@Command(name = "top",
        description = {
                "Shows the hakmem heaps of a running JVM, refreshed every interval:",
                "live, mapped and committed bytes, live bytes per tier, allocations and frees",
                "per second, guard violations and the learning state. The JVM must run as the",
                "same user and allow attaching (the default). Stop with Ctrl-C, or give --count."},
        mixinStandardHelpOptions = true)
final class TopCommand implements Callable<Integer> {

    private static final ObjectName HEAPS = heapsPattern();

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PID", description = "The process id of the JVM to watch.")
    private long pid;

    @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "1000", description = "Time between refreshes (default: ${DEFAULT-VALUE}).")
    private long intervalMillis;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N refreshes (default: until interrupted).")
    private Integer count;

    @Override
    public Integer call() throws InterruptedException {
        if (intervalMillis < 100) {
            throw new ParameterException(spec.commandLine(), "--interval-ms must be at least 100: " + intervalMillis);
        }
        if (count != null && count < 1) {
            throw new ParameterException(spec.commandLine(), "--count must be at least 1: " + count);
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String url;
        try {
            url = localAgent(pid);
        } catch (AttachNotSupportedException | IOException e) {
            err.println("hakmem top: cannot attach to process " + pid + ": " + e.getMessage()
                    + " (is it a running JVM of this user that allows attaching?)");
            return 1;
        }
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(url))) {
            return watch(connector.getMBeanServerConnection(), out, err);
        } catch (IOException e) {
            err.println("hakmem top: lost the connection to process " + pid + ": " + e.getMessage());
            return 1;
        }
    }

    /** The target's local JMX agent's address, the agent started if it was not running. */
    private static String localAgent(long pid) throws AttachNotSupportedException, IOException {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
        try {
            return vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
    }

    private int watch(MBeanServerConnection c, PrintWriter out, PrintWriter err)
            throws IOException, InterruptedException {
        boolean clear = count == null && System.console() != null;
        Map<ObjectName, HakMemMXBean.Statistics> previous = new HashMap<>();
        long previousNanos = 0;
        for (int refresh = 0; count == null || refresh < count; refresh++) {
            if (refresh > 0) {
                Thread.sleep(intervalMillis);
            }
            Set<ObjectName> names = new TreeSet<>(c.queryNames(HEAPS, null));
            if (names.isEmpty()) {
                err.println("hakmem top: process " + pid + " has no hakmem heap (no " + HEAPS + " MBean)");
                return 1;
            }
            long now = System.nanoTime();
            double seconds = previousNanos == 0 ? 0 : (now - previousNanos) / 1e9;
            previousNanos = now;
            StringBuilder screen = new StringBuilder(clear ? "\033[H\033[2J" : "");
            screen.append(String.format("hakmem top: process %d, %d heap(s)%n", pid, names.size()));
            screen.append(String.format("%-12s %10s %10s %10s %9s %9s %9s %9s %11s %11s %6s %7s%n", "heap", "live",
                    "mapped", "committed", "tiny", "mid", "large", "big", "allocs/s", "frees/s", "viol", "state"));
            Map<ObjectName, HakMemMXBean.Statistics> current = new HashMap<>();
            for (ObjectName n : names) {
                HakMemMXBean bean = JMX.newMXBeanProxy(c, n, HakMemMXBean.class);
                HakMemMXBean.Statistics s;
                String state;
                try {
                    s = bean.getStatistics();
                    state = bean.getLearningState();
                } catch (UndeclaredThrowableException e) {
                    if (e.getCause() instanceof InstanceNotFoundException) {
                        continue; // closed since the query
                    }
                    throw e;
                }
                current.put(n, s);
                HakMemMXBean.Statistics p = previous.get(n);
                screen.append(String.format("%-12s %10s %10s %10s %9s %9s %9s %9s %11s %11s %6d %7s%n",
                        n.getKeyProperty("name").replace("\"", ""), Units.bytes(s.liveBytes()),
                        Units.bytes(s.mappedBytes()), Units.bytes(s.committedBytes()), Units.bytes(s.tinyLiveBytes()),
                        Units.bytes(s.midLiveBytes()), Units.bytes(s.largeLiveBytes()), Units.bytes(s.bigLiveBytes()),
                        rate(p == null ? -1 : s.mallocs() - p.mallocs(), seconds),
                        rate(p == null ? -1 : s.frees() - p.frees(), seconds), s.violations(), state));
            }
            previous = current;
            out.print(screen);
            out.flush();
        }
        return 0;
    }

    /** Events per second over the last interval, or "-" on the first refresh. */
    private static String rate(long events, double seconds) {
        return events < 0 || seconds <= 0 ? "-" : String.format("%.0f", events / seconds);
    }

    private static ObjectName heapsPattern() {
        try {
            return new ObjectName(HakMemMXBean.OBJECT_NAME_PREFIX + "*");
        } catch (MalformedObjectNameException e) {
            throw new AssertionError(e);
        }
    }
}
