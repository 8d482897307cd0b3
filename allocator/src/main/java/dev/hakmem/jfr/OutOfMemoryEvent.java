package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** An allocation failed for want of memory and a HakMemOutOfMemoryError reaches the caller; with the stack. */
@Name("dev.hakmem.OutOfMemory")
@Label("Out Of Memory")
@Category("hakmem")
@Description("A hakmem allocation failed: the mapped limit, the page source or the address range refused it")
public final class OutOfMemoryEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("Requested") @DataAmount
    long requestedBytes;
    @Label("Reason")
    String reason;
}
