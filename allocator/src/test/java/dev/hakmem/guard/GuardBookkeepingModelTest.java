package dev.hakmem.guard;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Guard mode's own bookkeeping at its boundaries, against simple models, after every operation: the trace ring
 * against "the last n events, oldest first" (ring sizes 1, 2, 3, ..., through several wraps), the quarantine against
 * "the longest suffix of the blocks freed that fits both bounds" (byte and count capacities down to 0 and 1). Both
 * classes' own {@code check()} must hold after every step too.
 *
 * <p>Exhaustive over small capacities and seeded, rather than a jqwik property: the classes are internal to the
 * allocator's module, where the fuzz module's jqwik cannot reach, and the boundaries are few enough to enumerate.
 */
class GuardBookkeepingModelTest {
    private static final Tracer.Kind[] USER_KINDS = {Tracer.Kind.ALLOC, Tracer.Kind.FREE, Tracer.Kind.REMOTE_FREE,
            Tracer.Kind.REALLOC};
    private static final Pattern EVENT = Pattern.compile("(ALLOC|FREE|REMOTE_FREE|REALLOC) 0x([0-9a-f]+) \\((\\d+) B\\)");

    private record Event(Tracer.Kind kind, long address, long size) {
    }

    // ------------------------------------------------------------------ trace ring

    @ParameterizedTest(name = "ring size {0}")
    @ValueSource(ints = {1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 64})
    void theTraceRingHoldsTheLastNEventsInOrderThroughEveryWrap(int ringSize, @TempDir Path dir) throws IOException {
        Tracer tracer = new Tracer(ringSize, new Sites(0, 1));
        Random random = new Random(ringSize);
        List<Event> all = new ArrayList<>();
        Path file = dir.resolve("trace");
        for (int step = 0; step < 3 * ringSize + 3; step++) {
            // Few addresses, so that a block's history mixes its events with others' and crosses the wrap.
            Event e = new Event(USER_KINDS[random.nextInt(USER_KINDS.length)], 0x1000L * (1 + random.nextInt(3)),
                    random.nextInt(5000));
            tracer.record(e.kind(), e.address(), e.size(), Sites.NONE);
            all.add(e);
            String at = "after " + all.size() + " events in a ring of " + ringSize;
            assertNull(tracer.check(), at);

            List<Event> window = all.subList(Math.max(0, all.size() - ringSize), all.size());
            tracer.dump(file);
            assertEquals(window, parse(Files.readString(file)), at + ": dumpTrace");
            for (long address = 0x1000; address <= 0x3000; address += 0x1000) {
                long a = address;
                List<Event> of = window.stream().filter(x -> x.address() == a).toList();
                List<Event> expected = of.subList(Math.max(0, of.size() - 8), of.size());
                assertEquals(expected, parse(tracer.history(a)), at + ": history of 0x" + Long.toHexString(a));
            }
        }
    }

    @ParameterizedTest(name = "ring size {0}")
    @ValueSource(ints = {1, 2, 3, 8})
    void eachThreadsRingKeepsItsOwnLastNEvents(int ringSize, @TempDir Path dir) throws Exception {
        Tracer tracer = new Tracer(ringSize, new Sites(0, 1));
        List<List<Event>> perThread = new ArrayList<>();
        for (int t = 0; t < 3; t++) {
            int events = t * ringSize + 1;
            long address = 0x10_0000L * (t + 1);
            List<Event> mine = IntStream.range(0, events)
                    .mapToObj(i -> new Event(Tracer.Kind.ALLOC, address, i)).toList();
            Thread thread = Thread.ofPlatform().start(() -> mine.forEach(e ->
                    tracer.record(e.kind(), e.address(), e.size(), Sites.NONE)));
            thread.join();
            perThread.add(mine.subList(Math.max(0, events - ringSize), events));
        }
        assertNull(tracer.check());
        Path file = dir.resolve("trace");
        tracer.dump(file);
        List<Event> dumped = parse(Files.readString(file));
        for (List<Event> expected : perThread) {
            long address = expected.getFirst().address();
            assertEquals(expected, dumped.stream().filter(e -> e.address() == address).toList());
        }
    }

    private static List<Event> parse(String text) {
        List<Event> out = new ArrayList<>();
        Matcher m = EVENT.matcher(text);
        while (m.find()) {
            out.add(new Event(Tracer.Kind.valueOf(m.group(1)), Long.parseLong(m.group(2), 16),
                    Long.parseLong(m.group(3))));
        }
        return out;
    }

    // ------------------------------------------------------------------ quarantine

    static Stream<Arguments> capacities() {
        return Stream.of(0L, 1L, 16L, 100L, 1000L, Long.MAX_VALUE).flatMap(bytes -> IntStream.of(1, 2, 3, 5, 100)
                .mapToObj(blocks -> Arguments.of(bytes, blocks)));
    }

    private record Entry(long inner, long user, long size) {
    }

    private static List<Entry> contents(Quarantine q) {
        List<Entry> out = new ArrayList<>();
        for (int k = 0; k < q.count(); k++) {
            out.add(new Entry(q.innerAt(k), q.userAt(k), q.sizeAt(k)));
        }
        return out;
    }

    /** What guard mode's free does after an add: the oldest blocks leave while the ring is over a bound. */
    private static List<Entry> evict(Quarantine q) {
        List<Entry> out = new ArrayList<>();
        while (q.over()) {
            out.add(new Entry(q.innerAt(0), q.userAt(0), q.sizeAt(0)));
            q.dropOldest();
        }
        return out;
    }

    @ParameterizedTest(name = "{0} bytes, {1} blocks")
    @MethodSource("capacities")
    void theQuarantineKeepsTheLongestSuffixThatFitsBothBounds(long maxBytes, int maxBlocks) {
        for (long seed = 0; seed < 5; seed++) {
            Random random = new Random(seed * 31 + maxBlocks);
            Quarantine q = new Quarantine(maxBytes, maxBlocks);
            List<Entry> model = new ArrayList<>();
            for (int step = 0; step < 300; step++) {
                // Sizes around the bounds, 0 included: a block of exactly maxBytes, one byte more, one less.
                long size = switch (random.nextInt(4)) {
                    case 0 -> random.nextInt(3);
                    case 1 -> Math.max(0, Math.min(maxBytes, 1 << 20) + random.nextInt(3) - 1);
                    default -> random.nextInt(60);
                };
                // Inner addresses start at 0x1000: 0 marks a hole.
                Entry e = new Entry(0x1000L * (step + 1), 0x1000L * (step + 1) + 32, size);
                String at = "seed " + seed + ", step " + step;
                int op = random.nextInt(12);
                if (op == 0) {
                    q.addWithoutEviction(e.inner, e.user, e.size);
                    model.add(e);
                } else if (op == 1 && !model.isEmpty()) {
                    // A block found corrupted by a check: a hole of size 0 until it is evicted.
                    int k = random.nextInt(model.size());
                    q.forget(k);
                    model.set(k, new Entry(0, model.get(k).user, 0));
                } else if (op == 2) {
                    // A dead thread's ring, adopted: its blocks come after this one's, in their order.
                    Quarantine orphan = new Quarantine(Long.MAX_VALUE, Integer.MAX_VALUE);
                    for (int i = random.nextInt(40); i > 0; i--) {
                        Entry o = new Entry(0x1000L * (step + 1) + i, 0x1000L * (step + 1) + i + 32, random.nextInt(60));
                        orphan.add(o.inner, o.user, o.size);
                        model.add(o);
                    }
                    q.adopt(orphan);
                    assertEquals(List.of(), contents(orphan), at + ": an adopted ring is emptied");
                } else {
                    model.add(e);
                    int keepFrom = firstThatFits(model, maxBytes, maxBlocks);
                    List<Entry> evicted = new ArrayList<>(model.subList(0, keepFrom));
                    model.subList(0, keepFrom).clear();
                    q.add(e.inner, e.user, e.size);
                    assertEquals(evicted, evict(q), at + ": blocks let go after add");
                }
                assertEquals(model, contents(q), at);
                assertNull(q.check(), at);
            }
        }
    }

    /**
     * The smallest k such that blocks k.. fit within both bounds, or are the newest block alone when the quarantine
     * is on (the model, stated without a loop that evicts).
     */
    private static int firstThatFits(List<Entry> blocks, long maxBytes, int maxBlocks) {
        for (int k = 0; k <= blocks.size(); k++) {
            long bytes = blocks.subList(k, blocks.size()).stream().mapToLong(Entry::size).sum();
            if ((blocks.size() - k <= maxBlocks && bytes <= maxBytes) || (maxBytes > 0 && blocks.size() - k <= 1)) {
                return k;
            }
        }
        throw new AssertionError("unreachable: the empty suffix always fits");
    }
}
