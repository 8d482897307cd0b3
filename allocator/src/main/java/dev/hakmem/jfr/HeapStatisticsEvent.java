package dev.hakmem.jfr;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;

/** A heap's sizes and counts, once per period (1 s unless the recording's settings say otherwise). */
@Name("dev.hakmem.HeapStatistics")
@Label("Heap Statistics")
@Category("hakmem")
@Description("One hakmem heap's live, mapped and committed bytes, per tier, and its allocation counts")
@Period("1 s")
@StackTrace(false)
public final class HeapStatisticsEvent extends Event {
    @Label("Heap Id")
    @Description("The number in the heap's name (heap-N, global-N)")
    int heapId;
    @Label("Live") @DataAmount
    long liveBytes;
    @Label("Mapped") @DataAmount
    long mappedBytes;
    @Label("Committed") @DataAmount
    long committedBytes;
    @Label("Tiny Live") @DataAmount
    long tinyLiveBytes;
    @Label("Mid Live") @DataAmount
    long midLiveBytes;
    @Label("Large Live") @DataAmount
    long largeLiveBytes;
    @Label("Big Live") @DataAmount
    long bigLiveBytes;
    @Label("Allocations")
    long mallocs;
    @Label("Frees")
    long frees;
    @Label("Guard Violations")
    long violations;

    /** Commits one heap's figures; called from the periodic hook, which JFR runs only while the event is enabled. */
}
