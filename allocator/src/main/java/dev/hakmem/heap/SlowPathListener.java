package dev.hakmem.heap;

/** Told of a heap's slow-path events (guard mode's trace ring listens); never called on a fast path. */
public interface SlowPathListener {
    /** A heap made a slab with space current for class {@code cls}. */
    void refill(int cls, long slabBase);

    /** A heap adopted an abandoned SuperSlab. */
    void adopt(long superSlabBase);
}
