package dev.hakmem.cli;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemMXBean;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * A JVM for {@link TopCommandTest} to watch: with argument "heap" it makes a heap holding one 5000-byte block and
 * allocates and frees while it waits; with "none" it makes no heap. It prints "ready" (once the heap's bean is
 * registered, which happens in the background) and runs until its input closes.
 */
public final class TopTarget {
    public static void main(String[] args) throws Exception {
        Thread churn = null;
        if (args[0].equals("heap")) {
            HakMem heap = HakMem.create();
            heap.malloc(5000);
            ObjectName all = new ObjectName(HakMemMXBean.OBJECT_NAME_PREFIX + "*");
            while (ManagementFactory.getPlatformMBeanServer().queryNames(all, null).isEmpty()) {
                Thread.sleep(10);
            }
            churn = Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    heap.free(heap.malloc(64));
                    Thread.onSpinWait();
                }
            });
        }
        System.out.println("ready");
        System.out.flush();
        while (System.in.read() >= 0) {
            Thread.onSpinWait();
        }
        if (churn != null) {
            churn.interrupt();
        }
    }
}
