package org.apache.arrow.memory.unsafe;

import dev.hakmem.arrow.HakMemAllocationManager;
import org.apache.arrow.memory.AllocationManager;

/**
 * Test-only shim that makes hakmem Arrow's default allocation manager, so that Arrow's own tests (unpacked from
 * arrow-memory-core's test jar, which build their RootAllocators without naming a factory) run on hakmem.
 *
 * <p>Arrow's CheckAllocator takes the default from the first of three class files it finds on the class path:
 * {@code org/apache/arrow/memory/DefaultAllocationManagerFactory.class} (accepted only from a path containing
 * "memory-core"; the test jar's copy is left out when unpacking), then this one, then Netty's. This module has no
 * arrow-memory-unsafe, so the name is free; DefaultAllocationManagerOption reads the {@code FACTORY} field.
 */
public final class DefaultAllocationManagerFactory {

    public static final AllocationManager.Factory FACTORY = HakMemAllocationManager.FACTORY;

    private DefaultAllocationManagerFactory() {
    }
}
