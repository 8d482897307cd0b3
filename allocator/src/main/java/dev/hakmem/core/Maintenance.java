package dev.hakmem.core;

import java.lang.ref.WeakReference;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * One daemon thread for the whole process that, every tick, lets each live heap reap dead threads' heaps, reclaim
 * abandoned SuperSlabs, and give empty memory back after its purge delay. Heaps are held weakly, so an unclosed,
 * unreachable heap does not stay reachable through this thread.
 */
final class Maintenance {
    private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    private static final CopyOnWriteArrayList<WeakReference<Allocator>> HEAPS = new CopyOnWriteArrayList<>();
    private static Thread thread;

    private Maintenance() {
    }

    static synchronized void register(Allocator allocator) {
        HEAPS.add(new WeakReference<>(allocator));
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("hakmem-maintenance").start(Maintenance::run);
        }
    }

    private static void run() {
        for (;;) {
            LockSupport.parkNanos(TICK_NANOS);
            for (WeakReference<Allocator> ref : HEAPS) {
                Allocator a = ref.get();
                if (a == null || a.isClosed()) {
                    HEAPS.remove(ref);
                    continue;
                }
                try {
                    a.maintain();
                } catch (RuntimeException | Error e) {
                    // A failing page source must not stop maintenance of every other heap; the next tick retries.
                    System.getLogger("dev.hakmem").log(System.Logger.Level.WARNING,
                            "hakmem maintenance of " + a.name() + " failed", e);
                }
            }
        }
    }
}
