package dev.hakmem.guard;

import dev.hakmem.sampled.SampledGuard;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Allocation sites as small integer handles: the call chain of a sampled allocation (StackWalker, the allocator's
 * own frames skipped) interned once, so a block's header stores 4 bytes and a report prints the chain.
 */
final class Sites {
    static final int NONE = 0;
    private static final String NOT_RECORDED = "(site not recorded: guard site sampling or depth 0)";

    private final int depth;
    private final int sampling;
    private final StackWalker walker = StackWalker.getInstance();
    private final ThreadLocal<int[]> countdown = ThreadLocal.withInitial(() -> new int[1]);
    /** Guarded by this. */
    private final Map<String, Integer> ids = new HashMap<>();
    /** Index = id; copy-on-write so readers need no lock. */
    private volatile List<String> names = List.of(NOT_RECORDED);

    Sites(int depth, int sampling) {
        this.depth = depth;
        this.sampling = sampling;
    }

    /** The site of the caller's allocation, or {@link #NONE} when this one is not sampled. */
    int capture() {
        if (depth == 0) {
            return NONE;
        }
        int[] c = countdown.get();
        if (c[0] > 0) {
            c[0]--;
            return NONE;
        }
        c[0] = sampling - 1;
        String chain = walker.walk(frames -> frames
                .dropWhile(f -> SampledGuard.isAllocatorFrame(f.getClassName()))
                .limit(depth)
                .map(f -> f.getClassName() + "." + f.getMethodName() + "(" + f.getFileName() + ":"
                        + f.getLineNumber() + ")")
                .collect(Collectors.joining(" <- ")));
        return intern(chain);
    }

    private synchronized int intern(String chain) {
        Integer id = ids.get(chain);
        if (id == null) {
            List<String> grown = new ArrayList<>(names);
            grown.add(chain);
            id = grown.size() - 1;
            names = List.copyOf(grown);
            ids.put(chain, id);
        }
        return id;
    }

    String name(int id) {
        List<String> n = names;
        return id >= 0 && id < n.size() ? n.get(id) : "(unknown site " + id + ")";
    }
}
