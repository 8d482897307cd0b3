package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * A program whose workload changes under the allocator: the phases run one after another for {@code phaseMillis}
 * each, in turn, until the budget ends (the seed's json, mir, vm and mixed, then the lifetime mix). Each phase is
 * the workload of that name, run from its start; it frees what it holds before the next begins. No static
 * configuration suits every phase, which is what a learning allocator is for. {@code onPhase} hears of each phase
 * as it begins, on the thread that runs the workload ({@code hakmem learn} labels its windows with it).
 */
final class PhaseShift implements Workload {
    private final String name;
    private final List<Workload> phases;
    private final long phaseNanos;
    private final Consumer<Workload> onPhase;

    PhaseShift(String name, List<Workload> phases, long phaseMillis, Consumer<Workload> onPhase) {
        this.name = name;
        this.phases = List.copyOf(phases);
        this.phaseNanos = phaseMillis * 1_000_000L;
        this.onPhase = onPhase;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return "phase shift: " + phases.stream().map(Workload::name).collect(Collectors.joining(" -> "))
                + ", " + phaseNanos / 1_000_000 + " ms each, in turn";
    }

    @Override
    public boolean freesOnOtherThreads() {
        return phases.stream().anyMatch(Workload::freesOnOtherThreads);
    }

    @Override
    public long run(NativeAllocator allocator, int threads, Budget budget) {
        long total = 0;
        for (int phase = 0; budget.more(total / threads); phase = (phase + 1) % phases.size()) {
            onPhase.accept(phases.get(phase));
            long end = System.nanoTime() + phaseNanos;
            long before = total;
            // The phase's workers count their own operations; the budget sees the run's, spread over the workers.
            Budget phaseBudget = done -> System.nanoTime() - end < 0 && budget.more(before / threads + done);
            total += phases.get(phase).run(allocator, threads, phaseBudget);
        }
        return total;
    }
}
