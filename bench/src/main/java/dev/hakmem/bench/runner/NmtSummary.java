package dev.hakmem.bench.runner;

import javax.management.JMException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JVM's own native memory by Native Memory Tracking category ({@code hakmem profile --memory}): the committed
 * bytes of each category of a {@code summary} report, as {@code jcmd <pid> VM.native_memory summary} prints it and the
 * DiagnosticCommand MBean's {@code vmNativeMemory} returns it in-process. The JVM must run with
 * {@code -XX:NativeMemoryTracking=summary}. A category line reads
 * <pre>
 * -                     Class (reserved=1048801KB, committed=1761KB)
 * </pre>
 * and a category the report leaves out (it omits those under 1 KB) is 0. NMT counts what the JVM itself mallocs and
 * maps; memory that Java code maps through FFM (hakmem's, a native allocator's) is not in it. Committed is not
 * resident: a committed page that was never touched is not in RSS, which is why the profile's remainder is there.
 *
 * @param committed the committed bytes by category, in the report's order
 */
record NmtSummary(Map<String, Long> committed) {
    private static final Pattern CATEGORY = Pattern.compile(
            "^-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB[,)]", Pattern.MULTILINE);
    private static final String HEADER = "Native Memory Tracking:";

    NmtSummary {
        committed = Map.copyOf(committed);
    }

    /**
     * Reads a summary report in KB, the default scale.
     *
     * @throws IllegalArgumentException if {@code report} is not one, quoting its start (NMT off says so there)
     */
    static NmtSummary parse(String report) {
        if (!report.contains(HEADER)) {
            throw new IllegalArgumentException("not a Native Memory Tracking summary: "
                    + report.strip().lines().findFirst().orElse("(empty)"));
        }
        Map<String, Long> committed = new LinkedHashMap<>();
        Matcher m = CATEGORY.matcher(report);
        while (m.find()) {
            committed.put(m.group(1), Long.parseLong(m.group(3)) * 1024);
        }
        if (committed.isEmpty()) {
            throw new IllegalArgumentException("a Native Memory Tracking summary with no category in KB: " + report);
        }
        return new NmtSummary(committed);
    }

    /**
     * This JVM's summary now, through the DiagnosticCommand MBean.
     *
     * @throws IllegalStateException if the MBean cannot be called or NMT is off
     */
    static NmtSummary capture() {
        Object report;
        try {
            report = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[]{new String[]{"summary"}}, new String[]{String[].class.getName()});
        } catch (JMException e) {
            throw new IllegalStateException("cannot call the DiagnosticCommand MBean's vmNativeMemory: " + e, e);
        }
        try {
            return parse(String.valueOf(report));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("run the JVM with -XX:NativeMemoryTracking=summary: " + e.getMessage(), e);
        }
    }

    /** The committed bytes of {@code category}, 0 when the report left it out. */
    long of(String category) {
        return committed.getOrDefault(category, 0L);
    }
}
