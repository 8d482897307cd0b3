package dev.hakmem.guard;

import dev.hakmem.heap.SlowPathListener;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The trace ring: per thread, a bounded ring of its latest heap events. Written by its thread alone with plain
 * stores (a few nanoseconds); read racily when an error is reported or the trace is dumped, which is enough for
 * a diagnosis. Rings of dead threads are kept (the freeing thread of a double free may be gone), up to a bound.
 *
 * <p>Times are stamped, not read per event: {@code System.nanoTime()} costs 40 to 55 ns on the project's machine,
 * more than a fast-mode malloc and free together, and full mode recorded two events per malloc+free. A ring reads
 * the clock on its first event, on every {@value #STAMP_EVERY}-th after, and on every event other than a local
 * ALLOC or FREE (remote frees, reallocs, refills, adoptions: the cross-thread and rare ones); the other events
 * carry the ring's latest stamp. So an ALLOC or FREE may print up to {@value #STAMP_EVERY} - 1 events of its thread
 * early. Each thread's events keep their order, and a remote free is never printed before the allocation it frees;
 * other events of different threads that fall within one stamp's window may print out of order.
 */
final class Tracer implements SlowPathListener {
    enum Kind { ALLOC, FREE, REMOTE_FREE, REALLOC, REFILL, ADOPT }

    private static final Kind[] KINDS = Kind.values();
    private static final int MAX_RINGS = 1024;
    /** A ring reads the clock at least once every this many events (a power of two). */
    static final int STAMP_EVERY = 64;

    private final int ringSize;
    private final Sites sites;
    private final long origin = System.nanoTime();
    private final ConcurrentLinkedDeque<Ring> rings = new ConcurrentLinkedDeque<>();
    private final ThreadLocal<Ring> mine;

    Tracer(int ringSize, Sites sites) {
        this.ringSize = ringSize;
        this.sites = sites;
        this.mine = ThreadLocal.withInitial(this::newRing);
    }

    /**
     * One thread's events in one array, {@value #WORDS} longs an event (its kind and site, address, size, time), so
     * that recording one writes one array's consecutive words (five arrays, one per field, before issue 12).
     */
    static final class Ring {
        static final int WORDS = 4;
        final String thread;
        /** Event k at words {@code WORDS * k ..}: {@code kind | site << 32}, address, size, time. */
        final long[] events;
        /** Slots, a slot per event. */
        final int n;
        /** The slot the next event goes to: always {@code count % n}, so once wrapped it holds the oldest event. */
        int next;
        /** Events ever recorded; the ring holds the last {@code min(count, n)} of them. */
        long count;
        /** The clock as last read, the time of every local ALLOC and FREE until the next read. */
        long stamp;

        Ring(String thread, int n) {
            this.thread = thread;
            this.n = n;
            events = new long[n * WORDS];
        }

        Kind kind(int slot) {
            return KINDS[(int) events[slot * WORDS]];
        }

        int site(int slot) {
            return (int) (events[slot * WORDS] >>> 32);
        }

        long address(int slot) {
            return events[slot * WORDS + 1];
        }

        long size(int slot) {
            return events[slot * WORDS + 2];
        }

        long time(int slot) {
            return events[slot * WORDS + 3];
        }
    }

    private Ring newRing() {
        Thread t = Thread.currentThread();
        Ring r = new Ring("\"" + t.getName() + "\" #" + t.threadId(), ringSize);
        rings.addLast(r);
        if (rings.size() > MAX_RINGS) {
            rings.pollFirst();
        }
        return r;
    }

    /** The calling thread's ring, for a caller that records several events (guard mode keeps it per thread). */
    Ring ring() {
        return mine.get();
    }

    void record(Kind k, long address, long size, int site) {
        record(mine.get(), k, address, size, site);
    }

    /** Records an event in {@code r}, which must be the calling thread's ring. */
    static void record(Ring r, Kind k, long address, long size, int site) {
        int i = r.next;
        if ((r.count & (STAMP_EVERY - 1)) == 0 || (k != Kind.ALLOC && k != Kind.FREE)) {
            r.stamp = System.nanoTime();
        }
        long[] e = r.events;
        int w = i * Ring.WORDS;
        e[w] = k.ordinal() | (long) site << 32;
        e[w + 1] = address;
        e[w + 2] = size;
        e[w + 3] = r.stamp;
        r.next = i + 1 == r.n ? 0 : i + 1;
        r.count++;
    }

    @Override
    public void refill(int cls, long slabBase) {
        record(Kind.REFILL, slabBase, cls, Sites.NONE);
    }

    @Override
    public void adopt(long superSlabBase) {
        record(Kind.ADOPT, superSlabBase, 0, Sites.NONE);
    }

    private record Event(long time, String thread, Kind kind, long address, long size, int site) {
    }

    private List<Event> events(long from, long to) {
        List<Event> out = new ArrayList<>();
        for (Ring r : rings) {
            int len = r.n;
            int n = (int) Math.min(r.count, len);
            // Oldest first, so that events of one thread with equal times keep their order through the stable sort.
            int oldest = r.count > len ? r.next : 0;
            for (int k = 0; k < n; k++) {
                int j = (oldest + k) % len;
                long a = r.address(j);
                if (a >= from && a < to) {
                    out.add(new Event(r.time(j), r.thread, r.kind(j), a, r.size(j), r.site(j)));
                }
            }
        }
        out.sort(Comparator.comparingLong(Event::time));
        return out;
    }

    /**
     * The rings' invariants, for a quiescent heap: {@code next == count % n}, each held event's first word a kind,
     * and each ring's events in time order from its oldest. Null or the problem.
     */
    String check() {
        for (Ring r : rings) {
            int len = r.n;
            if (r.count < 0 || r.next != r.count % len) {
                return "trace ring of " + r.thread + " has next " + r.next + " after " + r.count + " events in "
                        + len + " slots";
            }
            int oldest = r.count > len ? r.next : 0;
            for (int k = 0; k < Math.min(r.count, len); k++) {
                int j = (oldest + k) % len;
                if ((int) r.events[j * Ring.WORDS] >= KINDS.length || (int) r.events[j * Ring.WORDS] < 0) {
                    return "trace ring of " + r.thread + " holds no kind of event in its " + k + "-th oldest slot";
                }
                if (k > 0 && r.time(j) < r.time((oldest + k - 1) % len)) {
                    return "trace ring of " + r.thread + " is out of time order at its " + k + "-th oldest event";
                }
            }
        }
        return null;
    }

    private String format(Event e) {
        String what = switch (e.kind) {
            case REFILL -> "refill class " + e.size + ", slab 0x" + Long.toHexString(e.address);
            case ADOPT -> "adopt SuperSlab 0x" + Long.toHexString(e.address);
            default -> e.kind + " 0x" + Long.toHexString(e.address) + " (" + e.size + " B)";
        };
        return String.format("  %+.3f ms  %-28s %s%s", (e.time - origin) / 1e6, e.thread, what,
                e.site == Sites.NONE ? "" : "  at " + sites.name(e.site));
    }

    /** The latest events on the block at {@code address}, oldest first, for an error message. */
    String history(long address) {
        List<Event> ev = events(address, address + 1);
        if (ev.isEmpty()) {
            return "\n  (no trace of this address in the trace rings)";
        }
        StringBuilder sb = new StringBuilder("\n  trace of 0x" + Long.toHexString(address) + ":");
        for (Event e : ev.subList(Math.max(0, ev.size() - 8), ev.size())) {
            sb.append('\n').append(format(e));
        }
        return sb.toString();
    }

    /** Every event of every ring, oldest first. */
    void dump(Path file) {
        try (Writer w = Files.newBufferedWriter(file)) {
            w.write("hakmem trace: " + rings.size() + " thread rings of up to " + ringSize + " events\n");
            for (Event e : events(Long.MIN_VALUE, Long.MAX_VALUE)) {
                w.write(format(e));
                w.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the hakmem trace to " + file, e);
        }
    }
}
