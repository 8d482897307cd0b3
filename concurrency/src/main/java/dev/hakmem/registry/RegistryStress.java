package dev.hakmem.registry;

import dev.hakmem.concurrency.FakeMemory;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;

import java.util.concurrent.atomic.AtomicLong;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The global {@link Registry}. Each test state works on its own fake chunks (the registry is process-wide, and
 * jcstress runs many states at once) and leaves none registered.
 */
public final class RegistryStress {
    private static final int HEAP_ID = 7;
    private static final int PAYLOAD = 42;
    /** Counts {@link LeafInstall}'s states, which take roots 12288..16383 of the table, each root in turn. */
    private static final AtomicLong LEAF_STATES = new AtomicLong();
    private static final int LEAF_ROOTS = 4096;

    private RegistryStress() {
    }

    /** A region with a plain field its builder writes before publishing it. */
    static final class TestRegion extends Region {
        int payload;

        TestRegion(long base) {
            super(HEAP_ID, base, Registry.CHUNK);
        }

        @Override
        protected void markReleased() {
            throw new AssertionError("the registry never releases a region");
        }
    }

    /** Encodes what a lookup returned: (0, 0) nothing; (1, payload) the region fully built; (2, *) wrong fields. */
    static void observe(Region found, long base, II_Result r) {
        if (found == null) {
            return;
        }
        r.r1 = found.base == base && found.span == Registry.CHUNK && found.heapId == HEAP_ID ? 1 : 2;
        r.r2 = found instanceof TestRegion t ? t.payload : -1;
    }

    @JCStressTest
    @Description("One thread builds a region and registers it; another looks its chunk up. A found region has "
            + "its final fields and the field written before register.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "not registered yet")
    @Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "found, fully built")
    @Outcome(expect = FORBIDDEN, desc = "found half-built")
    @State
    public static class Publish {
        private final long base = FakeMemory.chunks(1);
        private TestRegion region;

        @Actor
        public void builder() {
            TestRegion t = new TestRegion(base);
            t.payload = PAYLOAD;
            region = t;
            Registry.register(t);
        }

        @Actor
        public void reader(II_Result r) {
            observe(Registry.lookup(base + 4096), base, r);
        }

        @Arbiter
        public void cleanUp() {
            Registry.unregister(region);
        }
    }

    @JCStressTest
    @Description("A lookup races the unregistration of a region: it finds the whole region or nothing.")
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "already unregistered")
    @Outcome(id = "1, 42", expect = ACCEPTABLE, desc = "still registered, fully built")
    @Outcome(expect = FORBIDDEN, desc = "something else")
    @State
    public static class LookupRacesUnregister {
        private final long base = FakeMemory.chunks(1);
        private final TestRegion region = new TestRegion(base);

        public LookupRacesUnregister() {
            region.payload = PAYLOAD;
            Registry.register(region);
        }

        @Actor
        public void remover() {
            Registry.unregister(region);
        }

        @Actor
        public void reader(II_Result r) {
            observe(Registry.lookup(base + Registry.CHUNK - 1), base, r);
        }
    }

    @JCStressTest
    @Description("The old region of a chunk is unregistered while its successor (a re-carved SuperSlab) is "
            + "registered over it: the successor stays, whatever the order.")
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "the successor is registered")
    @Outcome(id = "0", expect = FORBIDDEN, desc = "unregistering the old region removed its successor")
    @Outcome(expect = FORBIDDEN, desc = "the old region is still registered")
    @State
    public static class UnregisterRacesSuccessor {
        private final long base = FakeMemory.chunks(1);
        private final TestRegion old = new TestRegion(base);
        private final TestRegion successor = new TestRegion(base);

        public UnregisterRacesSuccessor() {
            Registry.register(old);
        }

        @Actor
        public void remover() {
            Registry.unregister(old);
        }

        @Actor
        public void registrar() {
            Registry.register(successor);
        }

        @Arbiter
        public void check(I_Result r) {
            Region found = Registry.lookup(base);
            r.r1 = found == successor ? 2 : found == old ? 1 : 0;
            Registry.unregister(successor);
        }
    }

    @JCStressTest
    @Description("Two regions in one root of the table are registered at once; for a root never used before, "
            + "both race to install its leaf. Both must be found. Roots are fresh for the first 4096 states of "
            + "each VM; later states check the same property with the leaf already installed.")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "both registered, then both unregistered")
    @Outcome(expect = FORBIDDEN, desc = "a registration lost with a leaf that lost the race")
    @State
    public static class LeafInstall {
        private final TestRegion a;
        private final TestRegion b;

        /** State i takes root i mod 4096 and, in it, a pair of chunks no other state of the last 8M takes. */
        public LeafInstall() {
            long i = LEAF_STATES.getAndIncrement();
            long root = (1L << 48) - (i % LEAF_ROOTS + 1) * (1L << 34);
            long pair = (i / LEAF_ROOTS) % (LEAF_ROOTS / 2);
            a = new TestRegion(root + 2 * pair * Registry.CHUNK);
            b = new TestRegion(a.base + Registry.CHUNK);
        }

        @Actor
        public void registrarA() {
            Registry.register(a);
        }

        @Actor
        public void registrarB() {
            Registry.register(b);
        }

        @Arbiter
        public void check(III_Result r) {
            r.r1 = Registry.lookup(a.base) == a ? 1 : 0;
            r.r2 = Registry.lookup(b.base) == b ? 1 : 0;
            Registry.unregister(a);
            Registry.unregister(b);
            r.r3 = Registry.lookup(a.base) == null && Registry.lookup(b.base) == null ? 0 : 1;
        }
    }
}
