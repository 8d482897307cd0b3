package dev.hakmem.slab;

/**
 * Whoever allocates from a {@link SuperSlab}: a heap ({@code dev.hakmem.heap.ThreadHeap} is the one kind). The slab
 * layer keeps it as an opaque owner word, as mimalloc's page keeps only its owner's thread id and heap pointer: it
 * stores and compares owners, and never calls them, so this package does not depend on the heaps built on it.
 */
public abstract class SlabOwner {
    protected SlabOwner() {
    }
}
