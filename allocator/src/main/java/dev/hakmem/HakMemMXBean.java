package dev.hakmem;

/**
 * A heap seen through JMX. Every {@link HakMem} registers one on the platform MBean server as
 * {@code dev.hakmem:type=HakMem,name=<heap name>} (see {@link #OBJECT_NAME_PREFIX}) and unregisters it when it is
 * closed; {@code jconsole}, {@code jcmd} and {@code ./hakmem top} read it there. Registration runs in the background,
 * so the bean appears moments after the heap is made; {@link HakMemConfig.Builder#monitoring(boolean)} turns it off.
 *
 * <p>Reading {@link #getStatistics()} walks the heap as {@link HakMem#stats()} does, so a monitor reads it once per
 * refresh, not once per figure. {@link #check()} is meant for a quiescent heap, as {@link HakMem#check()} is.
 */
public interface HakMemMXBean {

    /** The start of every heap's object name; the heap's name follows. */
    String OBJECT_NAME_PREFIX = "dev.hakmem:type=HakMem,name=";

    /** {@return the heap's name: {@code global-N} for the process-wide heap, {@code heap-N} for the others} */
    String getName();

    /** {@return one snapshot of the heap's counters} */
    Statistics getStatistics();

    /** {@return the learner's state: LEARN, FROZEN or CANARY (see {@link HakMem#learningState()})} */
    String getLearningState();

    /** {@return the policy in force as JSON (see {@link Policy#toJson()})} */
    String getPolicy();

    /** {@return true when full guard mode is on ({@link GuardOptions#enabled()}); sampled mode does not count} */
    boolean isGuardEnabled();

    /** Runs {@link HakMem#check()}: returns normally, or fails naming the first inconsistency. */
    void check();

    /** {@return {@link HakMem#leakReport()} as text} */
    String leakReport();

    /**
     * {@link HakMem#dumpTrace(java.nio.file.Path)} to the file at {@code path}.
     *
     * @param path the file to write, a path on the heap's machine
     * @throws IllegalStateException when guard mode is off
     */
    void dumpTrace(String path);

    /**
     * A heap's counters at one moment, flattened from {@link HakMemStats} for JMX clients.
     *
     * @param liveBytes      bytes in allocated blocks
     * @param liveBlocks     allocated blocks
     * @param mappedBytes    bytes mapped from the OS
     * @param committedBytes mapped bytes not given back with madvise
     * @param tinyLiveBytes  live bytes of the Tiny tier (up to 1 KiB)
     * @param midLiveBytes   live bytes of the Mid tier (up to 64 KiB)
     * @param largeLiveBytes live bytes of the Large tier (up to 1 MiB)
     * @param bigLiveBytes   live bytes of the Big tier (above 1 MiB)
     * @param mallocs        blocks allocated since the heap was made
     * @param frees          blocks freed since the heap was made
     * @param violations     heap errors guard mode detected (0 when it is off)
     * @param events         the allocator's event counters
     */
    record Statistics(long liveBytes, long liveBlocks, long mappedBytes, long committedBytes, long tinyLiveBytes,
                      long midLiveBytes, long largeLiveBytes, long bigLiveBytes, long mallocs, long frees,
                      long violations, HakMemStats.Events events) {

        static Statistics of(HakMemStats s, long violations) {
            long mallocs = 0;
            long frees = 0;
            for (HakMemStats.TierStats t : s.tiers().values()) {
                mallocs += t.mallocs();
                frees += t.frees();
            }
            return new Statistics(s.liveBytes(), s.liveBlocks(), s.mappedBytes(), s.committedBytes(),
                    s.tier(HakMemStats.Tier.TINY).liveBytes(), s.tier(HakMemStats.Tier.MID).liveBytes(),
                    s.tier(HakMemStats.Tier.LARGE).liveBytes(), s.tier(HakMemStats.Tier.BIG).liveBytes(), mallocs,
                    frees, violations, s.events());
        }
    }
}
