package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.Peers;
import dev.hakmem.bench.workload.Workloads;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchCommandTest {

    private static List<Trial> plan(String... args) {
        BenchCommand command = new BenchCommand();
        new CommandLine(command).parseArgs(args);
        return command.schedule().stream().map(Rounds.Run::trial).toList();
    }

    @Test
    void theDefaultsRunEveryWorkloadOnEveryAllocatorButTheSiteSamplingGuardsAtOneAndTwoThreads() {
        List<Trial> trials = plan();

        long allocators = Peers.NAMES.stream().filter(n -> !BenchCommand.NOT_BY_DEFAULT.contains(n)).count();
        assertEquals(Workloads.ALL.size() * 2 * allocators, trials.size());
        assertFalse(trials.stream().anyMatch(t -> BenchCommand.NOT_BY_DEFAULT.contains(t.allocator())));
        assertEquals(new Trial(Workloads.ALL.getFirst().name(), Peers.NAMES.getFirst(), 1), trials.getFirst());
    }

    @Test
    void listsAreCommaSeparatedAndTheTrialsGoByWorkloadThenThreadsThenAllocator() {
        List<Trial> trials = plan("--workloads", "larson,json", "--allocators", "mimalloc,hakmem",
                "--threads", "2,1", "--seconds", "0.5", "--reps", "5");

        assertEquals(List.of(
                new Trial("larson", "mimalloc", 2), new Trial("larson", "hakmem", 2),
                new Trial("larson", "mimalloc", 1), new Trial("larson", "hakmem", 1),
                new Trial("json", "mimalloc", 2), new Trial("json", "hakmem", 2),
                new Trial("json", "mimalloc", 1), new Trial("json", "hakmem", 1)), trials);
    }

    @Test
    void unknownNamesAndImpossibleNumbersAreRefusedWithAReason() {
        assertTrue(assertThrows(ParameterException.class, () -> plan("--workloads", "larsen")).getMessage()
                .contains("unknown workload 'larsen', known: [tiny_hot"));
        assertTrue(assertThrows(ParameterException.class, () -> plan("--allocators", "jemaloc")).getMessage()
                .contains("unknown allocator 'jemaloc'"));
        assertThrows(ParameterException.class, () -> plan("--threads", "0"));
        assertThrows(ParameterException.class, () -> plan("--seconds", "0"));
        assertThrows(ParameterException.class, () -> plan("--reps", "0"));
        assertThrows(ParameterException.class, () -> plan("--threads", "two"));
        assertTrue(assertThrows(ParameterException.class, () -> plan("--rounds", "0")).getMessage()
                .contains("--rounds must be at least 1: 0"));
        assertTrue(assertThrows(ParameterException.class, () -> plan("--allocators", "hakmem,mimalloc,hakmem"))
                .getMessage().contains("named twice"));
    }
}
