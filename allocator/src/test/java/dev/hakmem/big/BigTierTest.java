package dev.hakmem.big;

import dev.hakmem.DoubleFreeException;
import dev.hakmem.HakMemOutOfMemoryError;
import dev.hakmem.InvalidFreeException;
import dev.hakmem.os.LedgerPageSource;
import dev.hakmem.os.LedgerPageSource.Op;
import dev.hakmem.os.Mem;
import dev.hakmem.registry.Registry;
import dev.hakmem.stats.Events;
import dev.hakmem.stats.MemoryAccount;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The big tier on its own, over a page source that keeps a ledger: after every step the tier's mapped and committed
 * bytes must equal the ledger's, its retained bytes must equal what its cache holds, and its counters what the test
 * did.
 */
class BigTierTest {
    private static final long MIB = 1L << 20;
    private static final long CHUNK = Registry.CHUNK;
    private static final long HOUR_MS = TimeUnit.HOURS.toMillis(1);
    /** The smallest retain budget with the lock-free slots (12 MiB of slots, four times over). */
    private static final long SLOTS_BUDGET = 48 * MIB;

    private final LedgerPageSource pages = new LedgerPageSource();
    private final Events events = new Events();
    private MemoryAccount account;
    private BigTier big;

    private BigTier tier(long mappedLimit, long retainBudget, long purgeDelayMillis) {
        account = new MemoryAccount(mappedLimit, retainBudget);
        big = new BigTier(-7, pages, account, events, purgeDelayMillis);
        return big;
    }

    @AfterEach
    void releaseEverything() {
        if (big != null) {
            pages.heal();
            assertEquals(List.of(), big.releaseAll());
            assertEquals(0, pages.reservedBytes(), "close unmaps every mapping");
            assertEquals(0, account.mappedBytes());
        }
    }

    /** The identities that hold after every operation: the account agrees with the page source and the cache. */
    private void assertLedger(long retainedBytes) {
        assertEquals(pages.reservedBytes(), account.mappedBytes(), "mapped bytes against the page source");
        assertEquals(pages.committedBytes(), account.committedBytes(), "committed bytes against the page source");
        assertEquals(retainedBytes, account.retainedBytes(), "retained bytes");
    }

    private void free(long address) {
        big.free((BigMapping) Registry.lookup(address), address);
    }

    @Test
    void aBlockIsItsOwnMappingOfWholeChunksCountedLiveUntilFreed() {
        tier(Long.MAX_VALUE, 0, HOUR_MS);
        long a = big.malloc(1, CHUNK, false);
        long b = big.malloc(CHUNK + 1, CHUNK, false);
        assertEquals(0, a % CHUNK);
        assertEquals(0, b % CHUNK);
        BigMapping ma = (BigMapping) Registry.lookup(a);
        assertEquals(CHUNK, ma.span);
        assertSame(ma, Registry.lookup(a + CHUNK - 1), "every byte of the mapping resolves to it");
        assertEquals(CHUNK, big.usableSize(ma, a));
        assertEquals(2 * CHUNK, big.usableSize((BigMapping) Registry.lookup(b), b));
        assertEquals(2, big.mallocs());
        assertEquals(2, big.liveBlocks());
        assertEquals(3 * CHUNK, big.liveBytes());
        assertEquals(2, events.bigCacheMisses.sum());
        assertLedger(0);

        free(a);
        assertEquals(1, big.frees());
        assertEquals(1, big.liveBlocks());
        assertEquals(2 * CHUNK, big.liveBytes());
        assertEquals(2 * CHUNK, pages.reservedBytes(), "beyond a zero budget the freed mapping is unmapped");
        assertNull(Registry.lookup(a));
        assertLedger(0);
        free(b);
        assertEquals(0, big.liveBytes());
        assertEquals(0, pages.reservedBytes());
        assertLedger(0);
    }

    @Test
    void aFreeOfAnInteriorPointerIsRefusedAndChangesNothing() {
        tier(Long.MAX_VALUE, 0, HOUR_MS);
        long a = big.malloc(3 * MIB, CHUNK, false);
        BigMapping m = (BigMapping) Registry.lookup(a);
        InvalidFreeException interior = assertThrows(InvalidFreeException.class, () -> big.free(m, a + 4096));
        assertTrue(interior.getMessage().contains("interior pointer: 4096 bytes into a big block of " + 2 * CHUNK),
                interior.getMessage());
        assertThrows(InvalidFreeException.class, () -> big.usableSize(m, a + 1));
        assertEquals(0, big.frees());
        assertEquals(1, big.liveBlocks());
        assertEquals(2 * CHUNK, big.liveBytes());
        free(a);
        assertLedger(0);
    }

    @Test
    void aSecondFreeIsRefusedAndChangesNothing() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long c = big.malloc(3 * MIB, CHUNK, false);
        BigMapping mc = (BigMapping) Registry.lookup(c);
        free(c);
        DoubleFreeException twice = assertThrows(DoubleFreeException.class, () -> big.free(mc, c));
        assertTrue(twice.getMessage().contains("is not allocated"), twice.getMessage());
        assertThrows(DoubleFreeException.class, () -> big.usableSize(mc, c));
        assertThrows(DoubleFreeException.class, () -> big.checkLive(mc, c));
        assertEquals(1, big.frees(), "the refused free is not counted");
        assertEquals(0, big.liveBytes());
        assertLedger(2 * CHUNK);
    }

    @Test
    void aFreedMappingServesTheNextRequestOfUpToItsSpanAndAQuarterLess() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long a = big.malloc(10 * MIB, CHUNK, false);
        free(a);
        assertLedger(10 * MIB);
        assertNotEquals(a, big.malloc(6 * MIB, CHUNK, false), "10 MiB is more than 1.25 x 6 MiB: not reused");
        assertEquals(a, big.malloc(8 * MIB, CHUNK, false), "10 MiB is 1.25 x 8 MiB: reused");
        assertEquals(1, events.bigCacheHits.sum());
        assertEquals(2, events.bigCacheMisses.sum());
        assertEquals(10 * MIB + 6 * MIB, big.liveBytes(), "a reused mapping counts its whole span");
        assertLedger(0);
    }

    @Test
    void anAlignmentAboveAChunkGetsAFreshMappingAlignedToIt() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long a = big.malloc(8 * MIB, CHUNK, false);
        free(a);
        long b = big.malloc(8 * MIB, 8 * MIB, false);
        assertEquals(0, b % (8 * MIB));
        assertNotEquals(a, b, "the cache cannot promise an alignment above a chunk");
        assertEquals(0, events.bigCacheHits.sum());
        assertLedger(8 * MIB);
    }

    @Test
    void callocFromTheCacheIsZeroedAndAPurgedMappingNeedsNoFill() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long a = big.malloc(6 * MIB, CHUNK, false);
        Mem.fill(a, 6 * MIB, (byte) 7);
        free(a);
        assertEquals(a, big.malloc(6 * MIB, CHUNK, true));
        for (long off = 0; off < 6 * MIB; off += 4096) {
            assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + off + 4095));
        }
        Mem.fill(a, 6 * MIB, (byte) 7);
        free(a);
        big.purge(System.nanoTime() + TimeUnit.HOURS.toNanos(2));
        assertEquals(1, events.purges.sum());
        assertLedger(6 * MIB);
        assertEquals(a, big.malloc(6 * MIB, CHUNK, true));
        assertEquals(0, Mem.ALL.get(ValueLayout.JAVA_BYTE, a + 6 * MIB - 1), "decommit zeroed it");
        assertLedger(0);
    }

    @Test
    void thePurgeWaitsForTheDelayThenGivesThePagesBackOnceAndRecommitsOnReuse() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long a = big.malloc(6 * MIB, CHUNK, false);
        free(a);
        big.purge(System.nanoTime());
        assertEquals(0, pages.calls(Op.DECOMMIT), "cached for less than the delay");
        assertEquals(6 * MIB, account.committedBytes());
        long later = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(HOUR_MS);
        big.purge(later);
        assertEquals(1, pages.calls(Op.DECOMMIT));
        assertEquals(1, events.purges.sum());
        assertLedger(6 * MIB);
        assertEquals(0, account.committedBytes());
        big.purge(later + 1);
        assertEquals(1, pages.calls(Op.DECOMMIT), "a purged mapping is not purged again");
        assertEquals(a, big.malloc(6 * MIB, CHUNK, false));
        assertEquals(1, pages.calls(Op.COMMIT));
        assertLedger(0);
        assertEquals(6 * MIB, account.committedBytes());
    }

    @Test
    void aRefusedDecommitKeepsTheMappingCommittedUntilALaterPurge() {
        tier(Long.MAX_VALUE, 64 * MIB, 0);
        free(big.malloc(6 * MIB, CHUNK, false));
        pages.failing(Op.DECOMMIT, true);
        big.purge(System.nanoTime());
        assertEquals(0, events.purges.sum());
        assertLedger(6 * MIB);
        assertEquals(6 * MIB, account.committedBytes());
        pages.failing(Op.DECOMMIT, false);
        big.purge(System.nanoTime());
        assertEquals(1, events.purges.sum());
        assertLedger(6 * MIB);
    }

    @Test
    void aRefusedRecommitLeavesTheMappingCachedAndMapsAFreshOne() {
        tier(Long.MAX_VALUE, 64 * MIB, 0);
        long a = big.malloc(6 * MIB, CHUNK, false);
        free(a);
        big.purge(System.nanoTime());
        pages.failing(Op.COMMIT, true);
        long b = big.malloc(6 * MIB, CHUNK, false);
        assertNotEquals(a, b);
        assertEquals(2, events.bigCacheMisses.sum());
        assertLedger(6 * MIB);
        pages.failing(Op.COMMIT, false);
        assertEquals(a, big.malloc(6 * MIB, CHUNK, false), "still cached, usable once the commit works");
        assertLedger(0);
    }

    @Test
    void refusedMappingsFailWithTheReasonAndLeaveNoAccountBehind() {
        tier(16 * MIB, 64 * MIB, HOUR_MS);
        HakMemOutOfMemoryError tooLarge = assertThrows(HakMemOutOfMemoryError.class,
                () -> big.malloc(BigTier.MAX_SIZE + 1, CHUNK, false));
        assertTrue(tooLarge.getMessage().contains("larger than the largest possible mapping"), tooLarge.getMessage());
        HakMemOutOfMemoryError limit = assertThrows(HakMemOutOfMemoryError.class,
                () -> big.malloc(BigTier.MAX_SIZE, CHUNK, false));
        assertTrue(limit.getMessage().contains("the mapped limit of " + 16 * MIB + " bytes is reached (0 mapped)"),
                limit.getMessage());
        assertEquals(BigTier.MAX_SIZE, limit.requestedBytes());

        pages.failing(Op.RESERVE, true);
        HakMemOutOfMemoryError refused = assertThrows(HakMemOutOfMemoryError.class,
                () -> big.malloc(3 * MIB, CHUNK, false));
        assertTrue(refused.getMessage().contains("the page source refused " + 2 * CHUNK + " bytes aligned to "
                + CHUNK + ":"), refused.getMessage());
        assertInstanceOf(dev.hakmem.os.OsException.class, refused.getCause());
        pages.failing(Op.RESERVE, false);

        pages.beyondAddressSpace(true);
        HakMemOutOfMemoryError beyond = assertThrows(HakMemOutOfMemoryError.class,
                () -> big.malloc(3 * MIB, CHUNK, false));
        pages.beyondAddressSpace(false);
        assertTrue(beyond.getMessage().contains("beyond the 48-bit registry range"), beyond.getMessage());
        assertEquals(1, pages.calls(Op.RELEASE), "the unusable mapping is given back");

        pages.misaligned(true);
        HakMemOutOfMemoryError misaligned = assertThrows(HakMemOutOfMemoryError.class,
                () -> big.malloc(3 * MIB, CHUNK, false));
        pages.misaligned(false);
        assertTrue(misaligned.getMessage().contains("the page source mapped " + 2 * CHUNK + " bytes at an address not"
                + " aligned to " + CHUNK + " bytes, against its contract"), misaligned.getMessage());
        assertEquals(2, pages.calls(Op.RELEASE), "the misplaced mapping is given back, nothing built over it");
        assertEquals(0, big.mallocs());
        assertLedger(0);
        assertEquals(0, account.mappedBytes());

        long a = big.malloc(16 * MIB, CHUNK, false);
        assertThrows(HakMemOutOfMemoryError.class, () -> big.malloc(1, CHUNK, false), "the limit is reached");
        free(a);
        assertEquals(a, big.malloc(16 * MIB, CHUNK, false), "cached memory is within the limit already");
        assertLedger(0);
    }

    @Test
    void beyondTheRetainBudgetTheOldestCachedMappingsAreUnmapped() {
        tier(Long.MAX_VALUE, 20 * MIB, HOUR_MS);
        long[] blocks = new long[4];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = big.malloc(6 * MIB, CHUNK, false);
        }
        for (long b : blocks) {
            free(b);
        }
        assertLedger(18 * MIB);
        assertNull(Registry.lookup(blocks[0]), "the oldest went first");
        assertEquals(18 * MIB, pages.reservedBytes());
        for (int i = 1; i < blocks.length; i++) {
            assertInstanceOf(BigMapping.class, Registry.lookup(blocks[i]));
        }
    }

    @Test
    void aMappingWhoseUnmapIsRefusedStaysCachedAndIsRetried() {
        tier(Long.MAX_VALUE, 0, HOUR_MS);
        long a = big.malloc(6 * MIB, CHUNK, false);
        pages.failing(Op.RELEASE, true);
        free(a);
        assertLedger(6 * MIB);
        assertInstanceOf(BigMapping.class, Registry.lookup(a));
        pages.failing(Op.RELEASE, false);
        long b = big.malloc(4 * MIB, CHUNK, false);
        free(b);
        assertLedger(0);
        assertNull(Registry.lookup(a), "the next trim unmapped it");
    }

    @Test
    void purgedAndUnpurgedMappingsLeaveTheCommittedBytesRightWhenUnmapped() {
        tier(Long.MAX_VALUE, 64 * MIB, HOUR_MS);
        long a = big.malloc(6 * MIB, CHUNK, false);
        long b = big.malloc(4 * MIB, CHUNK, false);
        free(a);
        big.purge(System.nanoTime() + TimeUnit.HOURS.toNanos(2));
        free(b);
        assertLedger(10 * MIB);
        big.releaseCached();
        assertLedger(0);
        assertEquals(0, account.committedBytes());
        assertEquals(0, pages.reservedBytes());
    }

    @Test
    void releaseCachedEmptiesTheLockFreeSlotsToo() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET, HOUR_MS);
        long a = big.malloc(CHUNK, CHUNK, false);
        long b = big.malloc(2 * CHUNK, CHUNK, false);
        long c = big.malloc(3 * CHUNK, CHUNK, false);
        free(a);
        free(b);
        free(c);
        assertLedger(6 * CHUNK);
        big.releaseCached();
        assertLedger(0);
        assertEquals(0, pages.reservedBytes());
    }

    /**
     * Mappings parked in the lock-free slots (spans of one and two chunks) are counted as retained at once, but the
     * budget is applied to them at the next maintenance tick, when they move into the cache; a span of three chunks
     * goes straight to the cache, which is trimmed at once.
     */
    @Test
    void theBudgetReachesSlotMappingsAtTheNextPurge() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET, HOUR_MS);
        List<Long> cached = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            cached.add(big.malloc(3 * CHUNK, CHUNK, false));
        }
        long one = big.malloc(CHUNK, CHUNK, false);
        long two = big.malloc(2 * CHUNK, CHUNK, false);
        cached.forEach(this::free);
        assertLedger(SLOTS_BUDGET);
        free(one);
        free(two);
        assertLedger(SLOTS_BUDGET + 3 * CHUNK);
        assertEquals(SLOTS_BUDGET + 3 * CHUNK, pages.reservedBytes(), "slots are not trimmed on free");
        big.purge(System.nanoTime());
        assertLedger(SLOTS_BUDGET);
        assertNull(Registry.lookup(cached.getFirst()), "the oldest cached mapping made room");
        assertEquals(0, pages.calls(Op.DECOMMIT), "within the purge delay");
    }

    /** Below the slots' threshold no free may leave more than the budget retained, whatever its span. */
    @Test
    void belowFourTimesTheSlotsTheBudgetIsKeptExactlyOnEveryFree() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET - CHUNK, HOUR_MS);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            blocks.add(big.malloc(5 * CHUNK, CHUNK, false));
        }
        blocks.add(big.malloc(3 * CHUNK, CHUNK, false));
        blocks.add(big.malloc(CHUNK, CHUNK, false));
        blocks.add(big.malloc(2 * CHUNK, CHUNK, false));
        long retained = 0;
        for (long b : blocks) {
            retained += ((BigMapping) Registry.lookup(b)).span;
            free(b);
            assertTrue(account.retainedBytes() <= SLOTS_BUDGET - CHUNK, account.retainedBytes() + " retained");
        }
        assertLedger(SLOTS_BUDGET - CHUNK - 4 * MIB);
        assertEquals(retained - 10 * MIB, account.retainedBytes(), "the oldest made room");
        assertNull(Registry.lookup(blocks.getFirst()));
    }

    @Test
    void forEachLiveVisitsExactlyTheAllocatedBlocks() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET, HOUR_MS);
        long a = big.malloc(CHUNK, CHUNK, false);
        long b = big.malloc(5 * CHUNK, CHUNK, false);
        long c = big.malloc(5 * CHUNK, CHUNK, false);
        free(b);
        List<Long> seen = new ArrayList<>();
        big.forEachLive(seen::add);
        seen.sort(null);
        assertEquals(java.util.stream.Stream.of(a, c).sorted().toList(), seen);
    }

    @Test
    void releaseAllCollectsRefusedUnmapsAndForgetsEveryMapping() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET, HOUR_MS);
        long a = big.malloc(CHUNK, CHUNK, false);
        long b = big.malloc(5 * CHUNK, CHUNK, false);
        free(a);
        pages.failing(Op.RELEASE, true);
        List<Throwable> failures = big.releaseAll();
        assertEquals(2, failures.size());
        failures.forEach(f -> assertInstanceOf(dev.hakmem.os.OsException.class, f));
        assertNull(Registry.lookup(a));
        assertNull(Registry.lookup(b));
        assertEquals(6 * CHUNK, account.mappedBytes(), "a mapping that could not be unmapped stays mapped");
        assertEquals(6 * CHUNK, pages.reservedBytes());
        pages.failing(Op.RELEASE, false);
        pages.releaseAll();
        big = null;
    }

    @Test
    void aSlotHandsItsMappingOnlyToARequestOfItsSpan() {
        tier(Long.MAX_VALUE, SLOTS_BUDGET, HOUR_MS);
        long one = big.malloc(CHUNK, CHUNK, false);
        long two = big.malloc(2 * CHUNK, CHUNK, false);
        free(one);
        free(two);
        assertLedger(3 * CHUNK);
        long b = big.malloc(2 * CHUNK, CHUNK, false);
        assertEquals(two, b, "the two-chunk slot");
        assertEquals(2 * CHUNK, big.usableSize((BigMapping) Registry.lookup(b), b));
        assertLedger(CHUNK);
        assertEquals(one, big.malloc(CHUNK, CHUNK, false));
        assertLedger(0);
        assertEquals(2, events.bigCacheHits.sum());
        assertEquals(3 * CHUNK, big.liveBytes());
    }
}
