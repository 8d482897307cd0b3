package dev.hakmem.bench.peer;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMemConfig;
import dev.hakmem.LearningState;
import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.LongStream;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every peer hands out distinct, writable blocks that keep their contents until freed, by any thread it allows. */
class PeersTest {
    static final List<String> NAMES = Peers.NAMES;
    static final List<String> C_PEERS = List.of(CMallocPeer.MIMALLOC, CMallocPeer.JEMALLOC, CMallocPeer.TCMALLOC);
    /** What hakmem-frozen starts from in these tests: every knob off its default, and a site rule. */
    private static final Policy SAVED = Policy.builder().wMax(1.5).bigThreshold(256 << 10).retainBytes(16 << 20)
            .purgeDelayMillis(1000).bridgeClasses(40960).site(new Policy.SiteRule(SiteHint.CACHE.siteName(), true,
                    false)).build();

    @TempDir
    static Path directory;

    /** hakmem-frozen runs in every test of every peer, from a policy saved as `hakmem learn` saves it. */
    @BeforeAll
    static void savePolicy() throws IOException {
        Path file = directory.resolve("frozen-policy.json");
        Files.writeString(file, SAVED.toJson());
        System.setProperty(HakMemPeer.FROZEN_POLICY_PROPERTY, file.toString());
    }

    @AfterAll
    static void forgetPolicy() {
        System.clearProperty(HakMemPeer.FROZEN_POLICY_PROPERTY);
    }

    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
    /** 1 byte to 1 MiB: every tier of hakmem and of the peers, and sizes off the powers of two. */
    private static final long[] SIZES = LongStream.concat(
            LongStream.of(1, 2, 3, 7, 15, 16, 17, 100, 1000, 1024, 1025, 4095, 4096, 10_000, 65_536, 100_000, 262_144,
                    500_000),
            LongStream.iterate(1, size -> size <= 1 << 20, size -> size * 2)).toArray();

    /** A peer that cannot run here is skipped, as the benchmarks skip it. */
    private static NativeAllocator createOrSkip(String name) {
        try {
            return Peers.create(name);
        } catch (PeerUnavailableException e) {
            return Assumptions.abort(e.getMessage());
        }
    }

    private static long[] mallocAndFill(NativeAllocator peer) {
        long[] blocks = new long[SIZES.length];
        Set<Long> distinct = new HashSet<>();
        for (int i = 0; i < SIZES.length; i++) {
            blocks[i] = peer.malloc(SIZES[i]);
            assertNotEquals(0, blocks[i]);
            assertTrue(distinct.add(blocks[i]), "address handed out twice");
            ALL.set(JAVA_BYTE, blocks[i] + SIZES[i] - 1, lastByte(i));
            ALL.set(JAVA_BYTE, blocks[i], (byte) i);
        }
        return blocks;
    }

    /** The last byte of block i, unless it is also its first (a 1-byte block), which holds i. */
    private static byte lastByte(int i) {
        return SIZES[i] == 1 ? (byte) i : (byte) ~i;
    }

    /** Checks the first and last byte of every block, which the other blocks' writes must not have touched. */
    private static void checkAndFree(NativeAllocator peer, long[] blocks) {
        for (int i = 0; i < blocks.length; i++) {
            assertEquals((byte) i, ALL.get(JAVA_BYTE, blocks[i]), "first byte of block " + i);
            assertEquals(lastByte(i), ALL.get(JAVA_BYTE, blocks[i] + SIZES[i] - 1), "last byte of block " + i);
            peer.free(blocks[i]);
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void blocksOfEverySizeAreDistinctWritableAndKeepTheirContents(String name) {
        try (NativeAllocator peer = createOrSkip(name)) {
            assertEquals(name, peer.name());
            for (int round = 0; round < 3; round++) {
                checkAndFree(peer, mallocAndFill(peer));
            }
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void blocksFreedByAnotherThread(String name) throws Exception {
        try (NativeAllocator peer = createOrSkip(name); ExecutorService other = Executors.newSingleThreadExecutor()) {
            Assumptions.assumeTrue(peer.crossThreadFree(), name + " frees only in the allocating thread");
            for (int round = 0; round < 3; round++) {
                long[] mine = mallocAndFill(peer);
                CompletableFuture.runAsync(() -> checkAndFree(peer, mine), other).get();
                long[] theirs = CompletableFuture.supplyAsync(() -> mallocAndFill(peer), other).get();
                checkAndFree(peer, theirs);
            }
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void reallocKeepsTheContents(String name) {
        try (NativeAllocator created = createOrSkip(name)) {
            Assumptions.assumeTrue(created instanceof Reallocating, name + " has no realloc");
            Reallocating peer = (Reallocating) created;
            long address = peer.malloc(16);
            ALL.set(JAVA_BYTE, address, (byte) 0x5A);
            ALL.set(JAVA_BYTE, address + 15, mark(16));
            for (long size = 32; size <= 1 << 20; size *= 2) {
                address = peer.realloc(address, size);
                assertEquals((byte) 0x5A, ALL.get(JAVA_BYTE, address), "first byte after growing to " + size);
                assertEquals(mark(size / 2), ALL.get(JAVA_BYTE, address + size / 2 - 1), "old last byte, " + size);
                ALL.set(JAVA_BYTE, address + size - 1, mark(size));
            }
            peer.free(address);
        }
    }

    /** A different, non-zero byte for each power of two, so that fresh zeroed memory cannot pass for it. */
    private static byte mark(long powerOfTwo) {
        return (byte) Long.numberOfTrailingZeros(powerOfTwo);
    }

    @Test
    void confinedArenasAreTheOnlyPeersThatFreeInTheirOwnThreadOnly() {
        for (String name : NAMES) {
            try (NativeAllocator peer = Peers.create(name)) {
                assertEquals(!name.equals(ArenaPeer.CONFINED), peer.crossThreadFree(), name);
            } catch (PeerUnavailableException e) {
                // Not installed here: nothing to say about it.
            }
        }
    }

    /** Each library's malloc is its own: the lookup must not resolve the name to libc's, which the JVM uses. */
    @ParameterizedTest
    @FieldSource("C_PEERS")
    void libraryMallocIsNotLibcs(String name) {
        createOrSkip(name).close();
        String library = switch (name) {
            case CMallocPeer.MIMALLOC -> "libmimalloc.so.2";
            case CMallocPeer.JEMALLOC -> "libjemalloc.so.2";
            default -> "libtcmalloc_minimal.so.4";
        };
        MemorySegment libcMalloc = Linker.nativeLinker().defaultLookup().find("malloc").orElseThrow();
        MemorySegment ownMalloc = NativeLibraries.load(name, "-", library).find("malloc").orElseThrow();
        assertNotEquals(libcMalloc, ownMalloc);
    }

    @Test
    void aMissingLibraryMakesThePeerUnavailableWithTheLinkersReason() {
        String property = "hakmem.bench." + CMallocPeer.MIMALLOC;
        System.setProperty(property, "/nonexistent/libmimalloc.so");
        try {
            PeerUnavailableException e = assertThrows(PeerUnavailableException.class, CMallocPeer::mimalloc);
            assertTrue(e.getMessage().contains("/nonexistent/libmimalloc.so: cannot open shared object file"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("apt-get install libmimalloc2.0"), e.getMessage());
            assertFalse(e.getMessage().contains("GLIBC_TUNABLES"), e.getMessage());
        } finally {
            System.clearProperty(property);
        }
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void createsThePeerItIsAskedFor(String name) {
        try (NativeAllocator peer = createOrSkip(name)) {
            assertEquals(name, peer.name());
        }
    }

    @Test
    void frozenStartsFrozenFromTheSavedPolicyInBalancedMode() {
        try (HakMemPeer peer = HakMemPeer.frozen()) {
            assertEquals(SAVED, peer.heap().policy());
            assertEquals(LearningState.FROZEN, peer.heap().learningState());
            assertEquals(HakMemConfig.Mode.BALANCED, peer.heap().config().mode());
            assertTrue(peer.heap().config().startsFrozen());
        }
    }

    @Test
    void aMissingPolicyMakesFrozenUnavailableNamingTheFileAndTheCommandThatWritesIt() {
        String saved = System.getProperty(HakMemPeer.FROZEN_POLICY_PROPERTY);
        try {
            System.clearProperty(HakMemPeer.FROZEN_POLICY_PROPERTY);
            PeerUnavailableException e = assertThrows(PeerUnavailableException.class, () -> Peers.create(
                    HakMemPeer.FROZEN));
            assertTrue(e.getMessage().contains(Path.of(HakMemPeer.DEFAULT_FROZEN_POLICY).toAbsolutePath()
                    + " does not exist"), e.getMessage());
            assertTrue(e.getMessage().contains("./hakmem learn --policy-out " + HakMemPeer.DEFAULT_FROZEN_POLICY),
                    e.getMessage());
        } finally {
            System.setProperty(HakMemPeer.FROZEN_POLICY_PROPERTY, saved);
        }
    }

    @Test
    void aPolicyFileThatIsNoPolicyIsAnErrorNamingTheFileAndTheField() throws IOException {
        Path bad = directory.resolve("bad-policy.json");
        Files.writeString(bad, SAVED.toJson().replace("\"wMax\": 1.5", "\"wMax\": 3"));
        String saved = System.getProperty(HakMemPeer.FROZEN_POLICY_PROPERTY);
        try {
            System.setProperty(HakMemPeer.FROZEN_POLICY_PROPERTY, bad.toString());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, HakMemPeer::frozen);
            assertTrue(e.getMessage().startsWith(bad.toAbsolutePath() + ": policy.wMax: "), e.getMessage());
        } finally {
            System.setProperty(HakMemPeer.FROZEN_POLICY_PROPERTY, saved);
        }
    }

    @Test
    void theSampledGuardRunsAtTheDefaultRateUnlessAMeasurementSetsAnother() {
        try (HakMemPeer peer = HakMemPeer.guardSample()) {
            assertEquals(GuardOptions.DEFAULT_SAMPLE_RATE, peer.heap().config().guard().sampleRate());
        }
        try {
            System.setProperty(HakMemPeer.SAMPLE_RATE_PROPERTY, "8192");
            try (HakMemPeer peer = HakMemPeer.guardSample()) {
                assertEquals(8192, peer.heap().config().guard().sampleRate());
                assertTrue(peer.heap().config().guard().sampling());
            }
            for (String bad : List.of("often", "0")) {
                System.setProperty(HakMemPeer.SAMPLE_RATE_PROPERTY, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, HakMemPeer::guardSample);
                assertTrue(e.getMessage().startsWith(HakMemPeer.SAMPLE_RATE_PROPERTY + "=" + bad + ": "),
                        e.getMessage());
            }
        } finally {
            System.clearProperty(HakMemPeer.SAMPLE_RATE_PROPERTY);
        }
    }

    @Test
    void learningLearnsFromTheDefaultPolicyWithItsShortWindow() {
        try (HakMemPeer peer = HakMemPeer.learning()) {
            assertEquals(HakMemConfig.Mode.LEARNING, peer.heap().config().mode());
            assertEquals(HakMemPeer.LEARN_WINDOW_MILLIS, peer.heap().config().learnWindowMillis());
            assertEquals(Policy.defaults(), peer.heap().policy());
            assertEquals(LearningState.LEARN, peer.heap().learningState());
        }
    }

    /**
     * The adaptive peers allocate each hint's blocks from its site, whose profile then sees them; plain hakmem, the
     * baseline, ignores the hints and has no such site. 16 MiB in 64 KiB blocks: about 32 sampled at the default
     * sampling period of 512 KiB, none with a probability of e^-32.
     */
    @ParameterizedTest
    @ValueSource(strings = {HakMemPeer.NAME, HakMemPeer.LEARNING, HakMemPeer.FROZEN})
    void siteHintsGoToSitesOnTheAdaptivePeersOnly(String name) {
        try (HakMemPeer peer = (HakMemPeer) Peers.create(name)) {
            long[] blocks = new long[256];
            for (int i = 0; i < blocks.length; i++) {
                blocks[i] = peer.malloc(64 << 10, SiteHint.CACHE);
            }
            Optional<SiteProfile> cache = peer.heap().stats().sites().stream()
                    .filter(p -> p.name().equals(SiteHint.CACHE.siteName())).findFirst();
            if (name.equals(HakMemPeer.NAME)) {
                assertTrue(cache.isEmpty(), cache.toString());
            } else {
                assertTrue(cache.orElseThrow().samples() > 0, cache.toString());
            }
            for (long block : blocks) {
                peer.free(block);
            }
        }
    }

    @Test
    void unknownNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Peers.create("no-such-allocator"));
    }
}
