package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A SuperSlab or a big block's mapping taken from or given back to the OS. */
@Name("dev.hakmem.Mapping")
@Label("Mapping")
@Category("hakmem")
@Description("hakmem mapped or unmapped memory: a 2 MiB SuperSlab or a big block's mapping")
@StackTrace(false)
public final class MappingEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("Kind")
    @Description("superslab or big")
    String kind;
    @Label("Action")
    @Description("map or unmap")
    String action;
    @Label("Address")
    long address;
    @Label("Size") @DataAmount
    long bytes;
}
