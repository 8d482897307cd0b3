package dev.hakmem.bench.runner;

import java.util.List;

/** Trial results for the tests, with round numbers. */
final class Results {
    static final long MiB = 1 << 20;

    private Results() {
    }

    /** A finished trial: baseline 100 MiB, peak 100 + growth MiB, back to 100 MiB after free and close. */
    static TrialResult ok(String workload, String allocator, int threads, long growthMiB, Double... mops) {
        return new TrialResult(new Trial(workload, allocator, threads), TrialResult.Status.OK, "", List.of(mops),
                100 * MiB, (100 + growthMiB) * MiB, 100 * MiB, 100 * MiB);
    }
}
