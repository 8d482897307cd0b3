package dev.hakmem.bench.peer;

import dev.hakmem.GuardOptions;
import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import dev.hakmem.PageSource;
import dev.hakmem.Policy;
import dev.hakmem.Site;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * hakmem through its public API, on a heap of its own so that every trial starts from an empty heap.
 *
 * <p>Plain {@value #NAME} ignores the workloads' {@link SiteHint}s: it is the baseline, "plain hakmem". The adaptive
 * peers give each hint its own {@link Site} ({@code heap.site(hint.siteName())}), so that the site's profile can
 * earn it a rule (long-lived blocks in slabs of their own):
 * <ul>
 *   <li>{@value #LEARNING} starts from the default policy in mode LEARNING and learns during the run;</li>
 *   <li>{@value #FROZEN} starts FROZEN, in mode BALANCED, from a policy learned in an earlier run: the JSON file
 *       named by the system property {@value #FROZEN_POLICY_PROPERTY}, by default {@code bench/frozen-policy.json}
 *       in the working directory, which {@code ./hakmem learn --policy-out bench/frozen-policy.json} writes.</li>
 * </ul>
 */
public final class HakMemPeer implements Reallocating {
    public static final String NAME = "hakmem";
    /**
     * Plain hakmem again under a name of its own: paired with {@value #NAME} in the same rounds, its ratio measures
     * the runner's own spread between JVMs (an A/A test), the noise a target such as "within 2%" or "at most 5%" is
     * judged against.
     */
    public static final String CONTROL = "hakmem-control";
    /** Guard mode with its defaults: every allocation records its site. */
    public static final String GUARD = "hakmem-guard";
    /** Guard mode recording the site of one allocation in 64. */
    public static final String GUARD_SITES64 = "hakmem-guard-sites64";
    /** Full guard mode with sites off (depth 0): the configuration of issue 12's 3x target. */
    public static final String GUARD_NO_SITES = "hakmem-guard-nosites";
    /** Sampled guard mode (the production level) at its default rate: one allocation in N guarded. */
    public static final String GUARD_SAMPLE = "hakmem-guard-sample";
    /** The system property that sets {@value #GUARD_SAMPLE}'s rate instead of the default, for measurements. */
    public static final String SAMPLE_RATE_PROPERTY = "hakmem.bench.sampleRate";
    public static final String LEARNING = "hakmem-learning";
    public static final String FROZEN = "hakmem-frozen";
    /** The system property naming {@value #FROZEN}'s policy file. */
    public static final String FROZEN_POLICY_PROPERTY = "hakmem.bench.frozenPolicy";
    /** {@value #FROZEN}'s policy file when the property is not set, relative to the working directory. */
    public static final String DEFAULT_FROZEN_POLICY = "bench/frozen-policy.json";
    /**
     * {@value #LEARNING}'s learning window: 20 ms, the maintenance thread's tick at which windows close, the shortest
     * there is. The runner gives a trial 0.5 s of warm-up and 1 s windows (3 by default), 3.5 s in all: about 175
     * learning windows, enough for the learner's 90 to freeze, where the default 1 s window would give it 3. (A
     * site's rule no longer depends on the window: a site is long-lived when 75% of its blocks outlive 10 ms,
     * {@code SiteRules}.) The price is noisier windows, which the learner's rails absorb (a change must pass a sign
     * test over its last 14 paired comparisons, at most 2 not cheaper, and win their median by 8%).
     */
    public static final long LEARN_WINDOW_MILLIS = 20;

    /**
     * The page source of the heaps of the peers created while it is bound, instead of their configs' own: the bench's
     * memory profile binds a source that sees every mapping (bench.runner.ResidentMappings). Scoped, so that every
     * factory below gets it without a parameter of its own.
     */
    public static final ScopedValue<PageSource> PAGES = ScopedValue.newInstance();

    private final String name;
    private final HakMem heap;
    /** Each hint's site, by ordinal; null for the peers that ignore hints. */
    private final Site[] sites;

    private HakMemPeer(String name, HakMemConfig config, boolean sited) {
        this.name = name;
        this.heap = HakMem.create(PAGES.isBound() ? config.toBuilder().pageSource(PAGES.get()).build() : config);
        if (sited) {
            SiteHint[] hints = SiteHint.values();
            this.sites = new Site[hints.length];
            for (SiteHint hint : hints) {
                sites[hint.ordinal()] = heap.site(hint.siteName());
            }
        } else {
            this.sites = null;
        }
    }

    public static HakMemPeer fast() {
        return new HakMemPeer(NAME, HakMemConfig.defaults(), false);
    }

    /** {@link #fast()} under the name {@value #CONTROL}. */
    public static HakMemPeer control() {
        return new HakMemPeer(CONTROL, HakMemConfig.defaults(), false);
    }

    public static HakMemPeer guard() {
        return new HakMemPeer(GUARD, HakMemConfig.builder().guard(true).build(), false);
    }

    public static HakMemPeer guardSites64() {
        GuardOptions oneSiteIn64 = GuardOptions.on().withSites(GuardOptions.on().siteDepth(), 64);
        return new HakMemPeer(GUARD_SITES64, HakMemConfig.builder().guard(oneSiteIn64).build(), false);
    }

    public static HakMemPeer guardNoSites() {
        return new HakMemPeer(GUARD_NO_SITES, HakMemConfig.builder().guard(GuardOptions.on().withSites(0, 1)).build(),
                false);
    }

    /**
     * Sampled guard mode at {@link GuardOptions#DEFAULT_SAMPLE_RATE}, or at the rate the system property
     * {@value #SAMPLE_RATE_PROPERTY} names (a measurement's variant: bench/scripts/windows.sh).
     *
     * @throws IllegalArgumentException when the property is not a rate {@link GuardOptions#sampled} accepts, naming it
     */
    public static HakMemPeer guardSample() {
        String rate = System.getProperty(SAMPLE_RATE_PROPERTY);
        GuardOptions sampled;
        try {
            sampled = GuardOptions.sampled(
                    rate == null ? GuardOptions.DEFAULT_SAMPLE_RATE : Integer.parseInt(rate.trim()));
        } catch (IllegalArgumentException e) { // a NumberFormatException too
            throw new IllegalArgumentException(SAMPLE_RATE_PROPERTY + "=" + rate + ": " + e.getMessage(), e);
        }
        return new HakMemPeer(GUARD_SAMPLE, HakMemConfig.builder().guard(sampled).build(), false);
    }

    /** Mode LEARNING from the default policy, with a learning window of {@value #LEARN_WINDOW_MILLIS} ms. */
    public static HakMemPeer learning() {
        return sited(LEARNING, HakMemConfig.builder().mode(HakMemConfig.Mode.LEARNING)
                .learnWindowMillis(LEARN_WINDOW_MILLIS).build());
    }

    /**
     * Mode BALANCED, FROZEN from the policy in {@link #frozenPolicyFile()}.
     *
     * @throws PeerUnavailableException when the file does not exist, naming it and the command that writes it
     * @throws IllegalArgumentException when it is not a policy, naming the file and the field
     * @throws UncheckedIOException     when it exists but cannot be read
     */
    public static HakMemPeer frozen() {
        Path file = frozenPolicyFile();
        String json;
        try {
            json = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new PeerUnavailableException(FROZEN + " needs a learned policy and " + file.toAbsolutePath()
                    + " does not exist: write one with './hakmem learn --policy-out " + file + "' (or name another"
                    + " file with -D" + FROZEN_POLICY_PROPERTY + "=FILE)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + FROZEN + "'s policy " + file.toAbsolutePath(), e);
        }
        Policy policy;
        try {
            policy = Policy.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
        return sited(FROZEN, HakMemConfig.builder().mode(HakMemConfig.Mode.BALANCED).policy(policy).build());
    }

    /** The file {@value #FROZEN} starts from: the property {@value #FROZEN_POLICY_PROPERTY}, or the default. */
    public static Path frozenPolicyFile() {
        return Path.of(System.getProperty(FROZEN_POLICY_PROPERTY, DEFAULT_FROZEN_POLICY));
    }

    /** A peer named {@code name} on a new heap of {@code config} that gives each {@link SiteHint} its own site. */
    public static HakMemPeer sited(String name, HakMemConfig config) {
        return new HakMemPeer(name, config, true);
    }

    /** The peer's heap: its stats, policy and learning history. */
    public HakMem heap() {
        return heap;
    }

    @Override
    public long malloc(long size) {
        return heap.malloc(size);
    }

    @Override
    public long malloc(long size, SiteHint site) {
        return sites == null ? heap.malloc(size) : sites[site.ordinal()].malloc(size);
    }

    @Override
    public void free(long address) {
        heap.free(address);
    }

    @Override
    public long realloc(long address, long newSize) {
        return heap.realloc(address, newSize);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
        heap.close();
    }
}
