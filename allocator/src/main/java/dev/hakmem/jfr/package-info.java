/**
 * The allocator's JFR events, in category "hakmem" and named {@code dev.hakmem.*}. Each is emitted only on a slow
 * path (mapping, purging, adoption, running out of memory, a learning transition, a guard violation) or periodically
 * (heap statistics), and each has one static {@code emit} method, its one home. A disabled event costs its
 * {@code shouldCommit()} test, which the JIT folds to false while no recording enables it.
 */
package dev.hakmem.jfr;
