package dev.hakmem.big;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.concurrency.FakeMemory;
import dev.hakmem.registry.Registry;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Description;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.IIII_Result;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

/**
 * The Big tier over fake mappings (nothing is mapped; malloc without zeroing never touches a block). Each state
 * has its own tier and gives its mappings back, unregistering them, in its arbiter.
 */
public final class BigTierStress {
    private static final long SIZE = 2 * Registry.CHUNK;

    private BigTierStress() {
    }

    static BigTier newTier() {
        return new BigTier(0, FakeMemory.pages(), new MemoryAccount(Long.MAX_VALUE, Long.MAX_VALUE), new Events(), 0);
    }

    static int free(BigTier big, long address) {
        try {
            big.free((BigMapping) Registry.lookup(address), address);
            return 1;
        } catch (DoubleFreeException e) {
            return 0;
        }
    }

    @JCStressTest
    @Description("Two threads free one big block at once: exactly one free succeeds, the other is a double free; "
            + "the mapping is cached once.")
    @Outcome(id = "1, 0, 0, 1", expect = ACCEPTABLE, desc = "the first free won")
    @Outcome(id = "0, 1, 0, 1", expect = ACCEPTABLE, desc = "the second free won")
    @Outcome(expect = FORBIDDEN, desc = "both or neither freed it, or the cache holds it other than once")
    @State
    public static class DoubleFree {
        private final BigTier big = newTier();
        private final long block = big.malloc(SIZE, Registry.CHUNK, false);

        @Actor
        public void freer1(IIII_Result r) {
            r.r1 = free(big, block);
        }

        @Actor
        public void freer2(IIII_Result r) {
            r.r2 = free(big, block);
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r3 = (int) big.liveBlocks();
            // The cache hands the mapping back once; a second request maps a fresh one.
            long again = big.malloc(SIZE, Registry.CHUNK, false);
            long fresh = big.malloc(SIZE, Registry.CHUNK, false);
            r.r4 = again == block && fresh != block ? 1 : 0;
            big.releaseAll();
        }
    }

    @JCStressTest
    @Description("A free puts a mapping into the cache while a malloc takes one out; another mapping is already "
            + "cached. The two mappings are handed out once each, in either order, and the cache ends empty.")
    @Outcome(id = "2, 1, 1, 0", expect = ACCEPTABLE, desc = "take first: got the cached one, then the freed one")
    @Outcome(id = "1, 2, 1, 0", expect = ACCEPTABLE, desc = "put first: got the freed one (LIFO), then the other")
    @Outcome(expect = FORBIDDEN, desc = "a mapping handed out twice or lost, or the free refused")
    @State
    public static class CachePutRacesTake {
        private final BigTier big = newTier();
        private final long first = big.malloc(SIZE, Registry.CHUNK, false);
        private final long second = big.malloc(SIZE, Registry.CHUNK, false);

        public CachePutRacesTake() {
            free(big, second);
        }

        private int which(long address) {
            return address == first ? 1 : address == second ? 2 : 0;
        }

        @Actor
        public void taker(IIII_Result r) {
            r.r1 = which(big.malloc(SIZE, Registry.CHUNK, false));
        }

        @Actor
        public void freer(IIII_Result r) {
            r.r3 = free(big, first);
        }

        @Arbiter
        public void check(IIII_Result r) {
            r.r2 = which(big.malloc(SIZE, Registry.CHUNK, false));
            r.r4 = which(big.malloc(SIZE, Registry.CHUNK, false));
            big.releaseAll();
        }
    }
}
