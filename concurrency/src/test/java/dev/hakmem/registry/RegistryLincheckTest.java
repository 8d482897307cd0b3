package dev.hakmem.registry;

import dev.hakmem.concurrency.FakeMemory;
import dev.hakmem.concurrency.LincheckDepth;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Options;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Linearizability of the real {@link Registry} over three fixed one-chunk regions: two over the same chunk (a
 * SuperSlab and its re-carved successor) and one over the next chunk. Each operation is one access to one table
 * entry, so the registry behaves as a map from chunk to region. (A region of several chunks is registered chunk
 * by chunk, not atomically: by design, since nobody looks an address up before malloc returned it.)
 */
@Param(name = "region", gen = IntGen.class, conf = "0:2")
@Param(name = "chunk", gen = IntGen.class, conf = "0:1")
public class RegistryLincheckTest {
    /** Fake chunks no other test uses; the registry is process-wide, so each instance starts by clearing them. */
    private static final long BASE = FakeMemory.BASE + (1L << 45);
    private static final Region[] REGIONS = {region(0), region(0), region(1)};

    public RegistryLincheckTest() {
        for (Region r : REGIONS) {
            Registry.unregister(r);
        }
    }

    private static Region region(int chunk) {
        return new Region(0, BASE + chunk * Registry.CHUNK, Registry.CHUNK) {
            @Override
            protected void markReleased() {
                throw new AssertionError("the registry never releases a region");
            }
        };
    }

    @Operation
    public void register(@Param(name = "region") int region) {
        Registry.register(REGIONS[region]);
    }

    @Operation
    public void unregister(@Param(name = "region") int region) {
        Registry.unregister(REGIONS[region]);
    }

    /** The index of the region found at any address of the chunk, or -1. */
    @Operation
    public int lookup(@Param(name = "chunk") int chunk) {
        Region found = Registry.lookup(BASE + chunk * Registry.CHUNK + 12345);
        for (int i = 0; i < REGIONS.length; i++) {
            if (found == REGIONS[i]) {
                return i;
            }
        }
        return found == null ? -1 : -2;
    }

    private static <O extends Options<O, ?>> O configure(O options) {
        return options.threads(3).actorsPerThread(3).sequentialSpecification(Spec.class);
    }

    @Test
    void modelChecking() {
        configure(new ModelCheckingOptions()).iterations(LincheckDepth.iterations(30)).invocationsPerIteration(500)
                .check(getClass());
    }

    @Test
    void stress() {
        configure(new StressOptions()).iterations(LincheckDepth.iterations(30)).invocationsPerIteration(2000)
                .check(getClass());
    }

    /** A map from chunk to region. */
    public static final class Spec {
        private final int[] chunks = {-1, -1};

        private static int chunkOf(int region) {
            return region == 2 ? 1 : 0;
        }

        public void register(int region) {
            chunks[chunkOf(region)] = region;
        }

        public void unregister(int region) {
            if (chunks[chunkOf(region)] == region) {
                chunks[chunkOf(region)] = -1;
            }
        }

        public int lookup(int chunk) {
            return chunks[chunk];
        }
    }
}
