package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/** A thread's heap took over a SuperSlab abandoned by a thread that died. */
@Name("dev.hakmem.Adoption")
@Label("Adoption")
@Category("hakmem")
@Description("A hakmem heap adopted a SuperSlab whose owner thread had died")
@StackTrace(false)
public final class AdoptionEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("SuperSlab")
    long superSlab;
}
