/**
 * Slabs, SuperSlabs and their pool: the blocks and the metadata that says which are free.
 *
 * <h2>Conventions, for this package and the heaps built on it ({@code dev.hakmem.heap})</h2>
 * <b>Who may call.</b> A method is the owner's unless its name or comment says otherwise: the owner is the heap
 * that owns the SuperSlab (for a shared heap: whoever holds its lock), and the owner's methods use no atomic
 * instruction. A method that any other thread may call on the same object is the cross-thread variant of an
 * owner's method and ends in {@code Remote}, side by side with its {@code Local} twin: {@code Slab.freeLocal} and
 * {@code Slab.freeRemote}, {@code Free.freeLocal} and {@code Free.freeRemote} (mimalloc's {@code _mt} suffix, spelled
 * out).
 * <p>
 * <b>Memory ordering</b> (as in JCTools). Every access to a field that another thread reads or writes is named by
 * its ordering: {@code xxxPlain}, {@code xxxOpaque}, {@code xxxAcquire}, {@code setXxxRelease}, {@code xxxVolatile},
 * {@code casXxx} (volatile), and goes through that accessor only. The argument for each choice is written beside the
 * field or the access, in a {@code NOTE:} or its javadoc. A plain access on a path only the owner runs is the
 * default, and says why no other thread can observe it half-done; opaque and stronger accesses each cost the JIT
 * its freedom to combine and reorder memory accesses around them, so the owner's hot paths use them only where
 * another thread reads the same word.
 */
package dev.hakmem.slab;
