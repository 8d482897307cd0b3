package dev.hakmem.site;

/**
 * What holds blocks (a slab, or a big mapping) and counts which of them the {@link Profiler} remembers as sampled,
 * so that the free of a block whose holder counts none pays one load and no lookup.
 */
public interface SampleHolder {
    /** Sampled blocks remembered in this holder (opaque load): non-zero exactly while it holds one. */
    int sampledOpaque();

    /** Volatile atomic add: a sampled block remembered (+1) or forgotten (-1), by any thread. */
    void addSampled(int delta);
}
