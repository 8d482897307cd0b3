package dev.hakmem.bench.runner;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Where a trial's time goes, from the {@code jdk.ExecutionSample}s of a JFR recording ({@code hakmem profile}): each
 * sample is one running thread's stack, taken every 10 ms under JFR's "profile" settings, so a frame's share of the
 * samples estimates its share of the CPU time. Three tables, on the workload threads' samples only:
 * <ol>
 *   <li>top frames by self samples: the method and line at the top of the stack, where the time is spent;</li>
 *   <li>inclusive samples per hakmem method: the samples whose stack holds the method at least once (a recursive or
 *       re-entered method counts once per stack), where the time is spent under it;</li>
 *   <li>parts: the package of the topmost allocator frame (slab, heap, core, guard, ...), so that JDK code the
 *       allocator calls (VarHandles, memory segments) counts as the allocator's; a sample with no allocator frame by
 *       its top frame's package: the bench's workload or peer adapter, the JDK and FFM (named with the first caller
 *       outside the JDK), or a peer's library.</li>
 * </ol>
 * Shares are of all the workload threads' execution samples. Samples taken in native code
 * ({@code jdk.NativeMethodSample}: a non-critical FFM downcall, a system call) are only counted, every 20 ms: they
 * are on a clock of their own and cannot share a table with the others.
 */
final class ExecutionProfile {
    static final String EXECUTION_SAMPLE = "jdk.ExecutionSample";
    static final String NATIVE_SAMPLE = "jdk.NativeMethodSample";
    /** The workloads' threads are named {@code workload-<index>} (bench.workload.Crew). */
    static final Predicate<String> WORKLOAD_THREAD = name -> name != null && name.startsWith("workload-");
    /** The allocator's packages; the bench's own code is under it but is not the allocator. */
    private static final String HAKMEM = "dev.hakmem.";
    private static final String BENCH = "dev.hakmem.bench.";
    private static final String JDK = "JDK/FFM";

    /** One frame of a stack: the class's binary name, the method's name, and the line (-1 if unknown). */
    record Frame(String type, String method, int line) {
        boolean allocator() {
            return type.startsWith(HAKMEM) && !type.startsWith(BENCH);
        }

        /** {@code slab.Slab.popFree}: the class and method, without the common {@code dev.hakmem.} prefix. */
        String name() {
            return (type.startsWith(HAKMEM) ? type.substring(HAKMEM.length()) : type) + "." + method;
        }

        String packageName() {
            int dot = type.lastIndexOf('.');
            return dot < 0 ? "" : type.substring(0, dot);
        }
    }

    /** A table row: what, and how many samples. */
    record Row(String name, long samples) {
    }

    /** The workload threads' stacks, each top frame first. */
    private final List<List<Frame>> stacks;
    private final long otherThreads;
    private final long nativeSamples;

    ExecutionProfile(List<List<Frame>> stacks, long otherThreads, long nativeSamples) {
        this.stacks = List.copyOf(stacks);
        this.otherThreads = otherThreads;
        this.nativeSamples = nativeSamples;
    }

    /**
     * Reads the samples of {@code recording} on the threads whose name {@code threads} accepts.
     *
     * @throws IOException if the file cannot be read as a recording
     */
    static ExecutionProfile read(Path recording, Predicate<String> threads) throws IOException {
        List<List<Frame>> stacks = new ArrayList<>();
        long otherThreads = 0;
        long nativeSamples = 0;
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                String type = event.getEventType().getName();
                if (!type.equals(EXECUTION_SAMPLE) && !type.equals(NATIVE_SAMPLE)) {
                    continue;
                }
                RecordedThread thread = event.getThread("sampledThread");
                if (thread == null || !threads.test(thread.getJavaName())) {
                    otherThreads += type.equals(EXECUTION_SAMPLE) ? 1 : 0;
                } else if (type.equals(NATIVE_SAMPLE)) {
                    nativeSamples++;
                } else if (event.getStackTrace() != null) {
                    stacks.add(event.getStackTrace().getFrames().stream().map(ExecutionProfile::frame).toList());
                }
            }
        }
        return new ExecutionProfile(stacks, otherThreads, nativeSamples);
    }

    private static Frame frame(RecordedFrame frame) {
        return new Frame(frame.getMethod().getType().getName(), frame.getMethod().getName(), frame.getLineNumber());
    }

    /** The workload threads' execution samples: the denominator of every share. */
    long samples() {
        return stacks.size();
    }

    /** Execution samples on other threads (the runner's main thread, the JIT's and GC's are not sampled), left out. */
    long otherThreads() {
        return otherThreads;
    }

    /** The workload threads' samples in native code, counted apart. */
    long nativeSamples() {
        return nativeSamples;
    }

    /** The {@code top} frames (method and line) by self samples, the most first. */
    List<Row> topFrames(int top) {
        return rank(stacks.stream().filter(s -> !s.isEmpty()).map(s -> {
            Frame f = s.getFirst();
            return f.name() + (f.line() >= 0 ? ":" + f.line() : "");
        }).toList(), top);
    }

    /** The {@code top} allocator methods by the samples whose stack holds them, each stack counted once per method. */
    List<Row> inclusive(int top) {
        List<String> names = new ArrayList<>();
        for (List<Frame> stack : stacks) {
            Set<String> seen = new HashSet<>();
            stack.stream().filter(Frame::allocator).map(Frame::name).filter(seen::add).forEach(names::add);
        }
        return rank(names, top);
    }

    /** Self samples per method, all lines together: a method's own share beside its inclusive one. */
    Map<String, Long> selfByMethod() {
        Map<String, Long> self = new HashMap<>();
        stacks.stream().filter(s -> !s.isEmpty()).forEach(s -> self.merge(s.getFirst().name(), 1L, Long::sum));
        return self;
    }

    /** Every part (see the class comment) by samples, the most first. */
    List<Row> parts() {
        return rank(stacks.stream().map(ExecutionProfile::part).toList(), Integer.MAX_VALUE);
    }

    /**
     * A sample's part: the subpackage of its topmost allocator frame ({@code slab}; {@code api} for
     * {@code dev.hakmem} itself); without one, its top frame's: {@code bench.workload}, {@code bench.peer}, "JDK/FFM
     * under" the first caller outside the JDK for the JDK's packages, else the first two names of the package
     * ({@code io.netty}).
     */
    static String part(List<Frame> stack) {
        for (Frame frame : stack) {
            if (frame.allocator()) {
                String sub = frame.packageName().length() < HAKMEM.length() ? "api"
                        : frame.packageName().substring(HAKMEM.length());
                return sub.contains(".") ? sub.substring(0, sub.indexOf('.')) : sub;
            }
        }
        if (stack.isEmpty()) {
            return "(no frames)";
        }
        String top = outside(stack.getFirst().packageName());
        if (!top.equals(JDK)) {
            return top;
        }
        // Whose call it is: the workload's own segment writes and a native peer's downcalls are not alike.
        return stack.stream().map(Frame::packageName).map(ExecutionProfile::outside).filter(p -> !p.equals(JDK))
                .findFirst().map(caller -> JDK + " under " + caller).orElse(JDK);
    }

    /** An outside-the-allocator package's part: {@code bench.workload}, {@link #JDK}, {@code io.netty}. */
    private static String outside(String pkg) {
        if (pkg.startsWith(BENCH)) {
            String sub = pkg.substring(BENCH.length());
            return "bench." + (sub.contains(".") ? sub.substring(0, sub.indexOf('.')) : sub);
        }
        if (pkg.startsWith("java.") || pkg.startsWith("jdk.") || pkg.startsWith("sun.") || pkg.startsWith("javax.")) {
            return JDK;
        }
        String[] names = pkg.split("\\.");
        return names.length <= 2 ? pkg : names[0] + "." + names[1];
    }

    private static List<Row> rank(List<String> keys, int top) {
        Map<String, Long> counts = new HashMap<>();
        keys.forEach(key -> counts.merge(key, 1L, Long::sum));
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(top).map(e -> new Row(e.getKey(), e.getValue())).toList();
    }

    /** The three tables as markdown, each row with its samples and its share of {@link #samples()}. */
    String markdown(int top) {
        StringBuilder md = new StringBuilder();
        md.append("Where the time goes, by the package of the topmost allocator frame (JDK code the allocator calls is")
                .append(" the allocator's; a sample outside it by its top frame's package):\n\n");
        table(md, "part", parts(), null);
        md.append("\nTop frames by self samples (the method and line on top of the stack):\n\n");
        table(md, "frame:line", topFrames(top), null);
        md.append("\nInclusive samples per allocator method (the samples whose stack holds it, once per stack), and")
                .append(" its self samples over all its lines:\n\n");
        table(md, "method", inclusive(top), selfByMethod());
        return md.toString();
    }

    /** A table of {@code rows} with their shares, and a self column from {@code self} when it is not null. */
    private void table(StringBuilder md, String what, List<Row> rows, Map<String, Long> self) {
        md.append("| ").append(what).append(" | samples | share |").append(self == null ? "" : " self | self share |")
                .append("\n| --- | ---: | ---: |").append(self == null ? "" : " ---: | ---: |").append('\n');
        for (Row row : rows) {
            md.append("| `").append(row.name()).append("` | ").append(row.samples()).append(" | ")
                    .append(share(row.samples())).append(" |");
            if (self != null) {
                long own = self.getOrDefault(row.name(), 0L);
                md.append(' ').append(own).append(" | ").append(share(own)).append(" |");
            }
            md.append('\n');
        }
    }

    private String share(long count) {
        return String.format(Locale.ROOT, "%.1f%%", 100.0 * count / samples());
    }
}
