package dev.hakmem.site;

/**
 * A sampled block the profiler remembers until it is freed.
 *
 * @param site      the site that allocated it
 * @param size      the bytes requested
 * @param bornNanos when its malloc returned ({@link System#nanoTime()}, or the test's clock)
 * @param thread    the id of the thread that allocated it
 */
public record SampledBlock(SiteState site, long size, long bornNanos, long thread) {
}
