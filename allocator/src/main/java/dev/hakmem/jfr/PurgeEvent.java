package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** Empty memory given back to the OS with madvise, its mapping kept. */
@Name("dev.hakmem.Purge")
@Label("Purge")
@Category("hakmem")
@Description("hakmem gave empty pages back to the OS (madvise), keeping the mapping for reuse")
@StackTrace(false)
public final class PurgeEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("Address")
    long address;
    @Label("Size") @DataAmount
    long bytes;
}
