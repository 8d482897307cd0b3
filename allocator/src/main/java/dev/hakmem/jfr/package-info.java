/**
 * The allocator's JFR events, in category "hakmem" and named {@code dev.hakmem.*}, and {@link dev.hakmem.jfr.Jfr},
 * the one home of their emission. Each is emitted only on a slow path (mapping, purging, adoption, running out of
 * memory, a learning transition, a guard violation) or periodically (heap statistics), and not at all before JFR is
 * initialized in the JVM (see {@code Jfr}).
 */
package dev.hakmem.jfr;
