package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;

/** Guard mode (full or sampled) found a heap error; the event's own stack is where it was found. */
@Name("dev.hakmem.GuardViolation")
@Label("Guard Violation")
@Category("hakmem")
@Description("hakmem's guard mode detected a heap error (overflow, write after free, double or invalid free)")
public final class GuardViolationEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("Kind")
    @Description("DoubleFreeException, InvalidFreeException or HeapCorruptionException")
    String kind;
    @Label("Block")
    long block;
    @Label("Report")
    @Description("The report as thrown or logged: the bad write's offset and direction, the sizes, and the allocating"
            + " and freeing threads and stacks where guard mode knows them")
    String report;
}
