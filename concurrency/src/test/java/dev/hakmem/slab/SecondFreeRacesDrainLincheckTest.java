package dev.hakmem.slab;

import dev.hakmem.concurrency.LincheckDepth;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Options;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Late second frees racing the owner's drain (DESIGN.md "Remote free"). Any of three threads frees any of four
 * handed-out blocks remotely, as often as it likes (every free after the first of a block is a double free, and two
 * threads may free one block at once); the owner drains. The owner neither frees locally nor hands out (a racing
 * local free, or a pop that saw a refused free's transient claim, legitimately leaves the slab inconsistent until
 * the next drain, which InvalidFreeLincheckTest covers), so the slab's whole invariant must hold whenever the
 * threads are done, BEFORE any further drain: a drain repairs a block both free and pending, which would hide a
 * drain that let a second free win the block it was freeing. Then a last drain must hand out every free block
 * exactly once.
 *
 * <p>Results are not compared (which free of a block wins is legitimately ambiguous); what is checked is the slab.
 * The model checker sees every access: Slab's metadata is Java arrays and fields behind VarHandles.
 */
@Param(name = "b", gen = IntGen.class, conf = "0:3")
public class SecondFreeRacesDrainLincheckTest {
    private final Slab slab = SlabFixtures.slabWithAllocated(16 << 10, 4);

    @Operation
    public void freeRemote(@Param(name = "b") int b) {
        slab.freeRemote(b);
    }

    @Operation(nonParallelGroup = "owner")
    public void drain() {
        slab.drain();
    }

    @Validate
    public void intactBeforeAndAfterDrain() {
        requireIntact("before the drain");
        slab.drain();
        requireIntact("after the drain");
        boolean[] handedOut = new boolean[slab.capacity];
        for (int b; (b = slab.popFree()) >= 0; ) {
            if (handedOut[b]) {
                throw new IllegalStateException("block " + b + " handed out twice");
            }
            handedOut[b] = true;
        }
    }

    private void requireIntact(String when) {
        String problem = slab.checkInvariants();
        if (problem != null) {
            throw new IllegalStateException(when + ": " + problem);
        }
    }

    private static <O extends Options<O, ?>> O configure(O options) {
        return options.threads(3).actorsPerThread(3).actorsBefore(2).actorsAfter(1);
    }

    @Test
    void modelChecking() {
        configure(new ModelCheckingOptions()).iterations(LincheckDepth.iterations(40)).invocationsPerIteration(500)
                .check(getClass());
    }

    @Test
    void stress() {
        configure(new StressOptions()).iterations(LincheckDepth.iterations(30)).invocationsPerIteration(2000)
                .check(getClass());
    }
}
