package dev.hakmem;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Use after {@link HakMem#close()} through every public method, on a heap whose caches were warmed in every tier
 * first (the current slabs' free lists, the slab cache, the thread-id to heap cache, the shared heaps of virtual
 * threads, the big tier's cache, guard mode's quarantine), from the closing thread, another platform thread that
 * warmed its own heap, and a virtual thread.
 *
 * <p>The documented result: every operation that allocates, frees, resizes or reads a block throws
 * IllegalStateException without touching the unmapped memory (a touch would crash the JVM, failing the test run);
 * {@code free(0)} stays a no-op; {@code close()} again is a no-op; {@code check()} throws IllegalStateException (there
 * is no heap to walk); the queries ({@code stats()}, {@code leakReport()}, {@code violations()}, {@code config()},
 * guard mode's {@code dumpTrace}) still answer, and report nothing mapped and nothing committed; {@code site(...)}
 * still names a site, whose allocations throw IllegalStateException and whose profile holds no live block.
 *
 * <p>The methods are found by reflection: a public method added to HakMem later fails this test until it is given a
 * recipe below, saying what it must do after close.
 */
class UseAfterCloseTest {
    /** One request size per tier: Tiny, Mid, Large, Big. */
    private static final long[] SIZES = {24, 3000, 200_000, 3 << 20};

    enum Caller { CLOSING_THREAD, OTHER_PLATFORM_THREAD, VIRTUAL_THREAD }

    static Stream<Arguments> cases() {
        return Stream.of(false, true).flatMap(guard -> Arrays.stream(Caller.values())
                .map(caller -> Arguments.of(guard, caller)));
    }

    /** Blocks and handed-out objects from before the close, on the thread that will use them after it. */
    private record Warmed(long[] live, Arena arena, MemorySegment arenaSegment, MemorySegment segment) {
    }

    /**
     * Allocates and frees in every tier so every cache holds something, and keeps one live block per tier and one
     * from a site.
     */
    private static Warmed warm(HakMem heap) {
        long[] live = new long[SIZES.length + 1];
        for (int t = 0; t < SIZES.length; t++) {
            long[] burst = new long[40];
            for (int i = 0; i < burst.length; i++) {
                burst[i] = heap.malloc(SIZES[t]);
            }
            // Freed by the allocating thread: the owner's free path fills the slab cache and the current slab's list.
            for (int i = 1; i < burst.length; i += 2) {
                heap.free(burst[i]);
            }
            live[t] = burst[0];
            heap.free(heap.realloc(heap.calloc(2, SIZES[t]), SIZES[t] / 2 + 1));
        }
        Site site = heap.site("warm");
        live[SIZES.length] = site.malloc(100);
        heap.free(site.calloc(3, 1000));
        Arena arena = heap.newArena();
        MemorySegment arenaSegment = arena.allocate(100, 64);
        MemorySegment segment = heap.allocate(200, 32);
        heap.free(heap.allocate(300, 128));
        return new Warmed(live, arena, arenaSegment, segment);
    }

    @ParameterizedTest(name = "guard={0}, {1}")
    @MethodSource("cases")
    void everyPublicMethodAfterCloseDoesWhatIsDocumented(boolean guard, Caller caller, @TempDir Path dir)
            throws Exception {
        HakMem heap = HakMem.create(HakMemConfig.builder().guard(guard).sharedHeaps(1).build());
        Warmed mine = warm(heap);
        if (caller == Caller.CLOSING_THREAD) {
            heap.close();
            useAfterClose(heap, mine, caller, dir);
            return;
        }
        CountDownLatch warmed = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        CompletableFuture<Void> done = new CompletableFuture<>();
        Runnable other = () -> {
            try {
                Warmed theirs = warm(heap);
                warmed.countDown();
                assertTrue(closed.await(30, TimeUnit.SECONDS));
                useAfterClose(heap, theirs, caller, dir);
                done.complete(null);
            } catch (Throwable t) {
                warmed.countDown();
                done.completeExceptionally(t);
            }
        };
        Thread t = caller == Caller.VIRTUAL_THREAD ? Thread.ofVirtual().start(other)
                : Thread.ofPlatform().start(other);
        assertTrue(warmed.await(30, TimeUnit.SECONDS));
        heap.close();
        closed.countDown();
        t.join(30_000);
        assertFalse(t.isAlive(), "the thread using the closed heap hangs");
        done.get();
    }

    private void useAfterClose(HakMem heap, Warmed w, Caller caller, Path dir) throws Exception {
        Map<String, Function<Method, Object[][]>> recipes = recipes(heap, w, dir);
        Set<String> covered = new HashSet<>();
        for (Method m : publicMethods()) {
            String sig = signature(m);
            Function<Method, Object[][]> recipe = recipes.get(sig);
            if (recipe == null) {
                fail("HakMem." + sig + " has no use-after-close recipe: add one to " + getClass().getSimpleName()
                        + " saying what it must do on a closed heap");
            }
            covered.add(sig);
            for (Object[] args : recipe.apply(m)) {
                expect(heap, m, args);
            }
        }
        assertEquals(recipes.keySet(), covered, "recipes for methods HakMem no longer has");

        // The objects handed out before the close. The arena is confined to the thread that made it.
        assertThrows(IllegalStateException.class, () -> w.arena.allocate(16, 16), "Arena.allocate after close");
        assertNotNull(w.arena.scope());
        assertTrue(w.arenaSegment.scope().isAlive());
        // Closing the arena makes its segments inaccessible first; freeing its blocks then finds the heap closed.
        assertThrows(IllegalStateException.class, w.arena::close, "Arena.close after the heap's close");
        assertFalse(w.arenaSegment.scope().isAlive(), "the arena's segments stay accessible over unmapped memory");
        assertThrows(IllegalStateException.class, () -> heap.free(w.segment), "free(segment) after close");
        assertThrows(IllegalStateException.class, () -> heap.allocate(64), "SegmentAllocator.allocate after close");

        // Nothing is left behind: the closed heap maps and commits nothing, and stays closed for every caller.
        assertNothingLeft(heap.stats());
        assertEquals(0, heap.leakReport().blocks(), "a closed heap reports leaks");
        assertThrows(IllegalStateException.class, () -> heap.malloc(1));
    }

    /** A closed heap's stats: nothing mapped, committed or live, in any tier. */
    private static void assertNothingLeft(HakMemStats s) {
        String brief = "mapped " + s.mappedBytes() + ", committed " + s.committedBytes() + ", live "
                + s.liveBlocks() + " blocks, " + s.liveBytes() + " B, tiers " + s.tiers();
        assertEquals(0, s.mappedBytes(), brief);
        assertEquals(0, s.committedBytes(), brief);
        assertEquals(0, s.liveBlocks(), brief);
        assertEquals(0, s.liveBytes(), brief);
        s.tiers().forEach((tier, t) -> assertEquals(0, t.liveBlocks(), tier + ": " + brief));
        s.sites().forEach(p -> assertEquals(0, p.liveSamples(), p + ": " + brief));
    }

    /** A site of a closed heap: its allocations throw, its profile answers with nothing live. */
    private static void assertClosed(Site site) {
        for (long size : SIZES) {
            assertThrows(IllegalStateException.class, () -> site.malloc(size), "Site.malloc after close");
            assertThrows(IllegalStateException.class, () -> site.calloc(2, size), "Site.calloc after close");
            assertThrows(IllegalStateException.class, () -> site.allocate(size, 64), "Site.allocate after close");
        }
        assertEquals(0, site.profile().liveSamples(), "a closed heap's site holds live blocks");
    }

    /** Public instance methods of HakMem, those it inherits from SegmentAllocator's defaults aside. */
    private static List<Method> publicMethods() {
        List<Method> out = new ArrayList<>();
        for (Method m : HakMem.class.getDeclaredMethods()) {
            if (Modifier.isPublic(m.getModifiers()) && !Modifier.isStatic(m.getModifiers()) && !m.isSynthetic()) {
                out.add(m);
            }
        }
        return out;
    }

    private static String signature(Method m) {
        return m.getName() + Arrays.stream(m.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }

    /** Marks the expected outcome of a call: it throws this, or returns and its result passes {@code check}. */
    private record Outcome(Class<? extends Throwable> thrown, Consumer<Object> check) {
        static Outcome throwsIse() {
            return new Outcome(IllegalStateException.class, null);
        }

        static Outcome returns(Consumer<Object> check) {
            return new Outcome(null, check);
        }
    }

    /** Per method, the calls to make: each row is the arguments followed by the expected {@link Outcome}. */
    private static Map<String, Function<Method, Object[][]>> recipes(HakMem heap, Warmed w, Path dir) {
        long[] live = w.live;
        Outcome ise = Outcome.throwsIse();
        Outcome nothing = Outcome.returns(r -> { });
        return Map.ofEntries(
                Map.entry("malloc(long)", m -> perSize(size -> new Object[]{size, ise}, 0L)),
                Map.entry("calloc(long,long)", m -> perSize(size -> new Object[]{1L, size, ise})),
                Map.entry("mallocAligned(long,long)", m -> perSize(size -> new Object[]{size, 256L, ise})),
                Map.entry("allocate(long,long)", m -> perSize(size -> new Object[]{size, 16L, ise})),
                Map.entry("realloc(long,long)", m -> rows(
                        perLive(live, a -> new Object[]{a, 8L, ise}),
                        perLive(live, a -> new Object[]{a, 5L << 20, ise}),
                        new Object[][]{{0L, 100L, ise}})),
                Map.entry("free(long)", m -> rows(
                        perLive(live, a -> new Object[]{a, ise}),
                        new Object[][]{{0L, nothing}})),
                Map.entry("usableSize(long)", m -> perLive(live, a -> new Object[]{a, ise})),
                Map.entry("free(MemorySegment)", m -> new Object[][]{{w.segment, ise}}),
                Map.entry("newArena()", m -> new Object[][]{{Outcome.returns(r -> {
                    try (Arena a = (Arena) r) {
                        assertThrows(IllegalStateException.class, () -> a.allocate(8), "a new arena allocates");
                    }
                })}}),
                Map.entry("check()", m -> new Object[][]{{ise}}),
                Map.entry("site(String)", m -> new Object[][]{{"warm", Outcome.returns(r -> assertClosed((Site) r))},
                        {"new after close", Outcome.returns(r -> assertClosed((Site) r))}}),
                Map.entry("site()", m -> new Object[][]{{Outcome.returns(r -> assertClosed((Site) r))}}),
                Map.entry("stats()", m -> new Object[][]{{Outcome.returns(r -> assertNothingLeft((HakMemStats) r))}}),
                Map.entry("leakReport()", m -> new Object[][]{{Outcome.returns(r -> assertNotNull(r))}}),
                Map.entry("dumpTrace(Path)", m -> new Object[][]{{dir.resolve("trace-" + Thread.currentThread()
                        .threadId()), heap.config().guard().enabled() ? Outcome.returns(r -> { }) : ise}}),
                Map.entry("violations()", m -> new Object[][]{{Outcome.returns(r -> assertEquals(0L, r))}}),
                Map.entry("config()", m -> new Object[][]{{Outcome.returns(r -> assertEquals(heap.config(), r))}}),
                Map.entry("policy()", m -> new Object[][]{{Outcome.returns(r -> assertEquals(heap.config().policy(), r))}}),
                Map.entry("learningState()", m -> new Object[][]{{Outcome.returns(r ->
                        assertEquals(LearningState.FROZEN, r))}}),
                Map.entry("learningHistory()", m -> new Object[][]{{Outcome.returns(r -> assertEquals(List.of(), r))}}),
                Map.entry("close()", m -> new Object[][]{{nothing}, {nothing}}),
                Map.entry("toString()", m -> new Object[][]{{Outcome.returns(r -> assertNotNull(r))}}));
    }

    private static Object[][] perSize(Function<Long, Object[]> row, long... extra) {
        return Stream.concat(Arrays.stream(SIZES).boxed(), Arrays.stream(extra).boxed()).map(row)
                .toArray(Object[][]::new);
    }

    private static Object[][] perLive(long[] live, Function<Long, Object[]> row) {
        return Arrays.stream(live).boxed().map(row).toArray(Object[][]::new);
    }

    private static Object[][] rows(Object[][]... groups) {
        return Arrays.stream(groups).flatMap(Arrays::stream).toArray(Object[][]::new);
    }

    private static void expect(HakMem heap, Method m, Object[] row) throws Exception {
        Object[] args = Arrays.copyOf(row, row.length - 1);
        Outcome want = (Outcome) row[row.length - 1];
        String call = signature(m) + " with " + Arrays.toString(args) + " after close";
        Object result;
        try {
            result = m.invoke(heap, args);
        } catch (InvocationTargetException e) {
            if (want.thrown() != null && want.thrown().isInstance(e.getCause())) {
                return;
            }
            throw new AssertionError(call + ": expected " + (want.thrown() == null ? "a result"
                    : want.thrown().getSimpleName()) + ", got " + e.getCause(), e.getCause());
        }
        if (want.thrown() != null) {
            fail(call + ": expected " + want.thrown().getSimpleName() + ", returned " + result);
        }
        want.check().accept(result);
        if (m.getName().equals("dumpTrace")) {
            assertTrue(Files.exists((Path) args[0]), call);
        }
    }
}
