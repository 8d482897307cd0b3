package dev.hakmem.bench.runner;

import dev.hakmem.LearningState;
import dev.hakmem.LearningWindow;
import dev.hakmem.Policy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class WindowReaderTest {
    private final List<LearningWindow> history = new ArrayList<>();
    private final PhaseLog log = new PhaseLog();
    private final WindowReader reader = new WindowReader(() -> List.copyOf(history), log, 100, 0);

    private void close(long... indexes) {
        for (long index : indexes) {
            history.add(new LearningWindow(index, LearningState.LEARN, Policy.defaults(), "", 1, 1000));
        }
    }

    private List<String> read(long now) {
        return reader.read(now).stream().map(w -> w.window().index() + " " + w.phase()).toList();
    }

    @Test
    void eachWindowSpansFromTheEndOfTheOneBeforeToItsEstimatedCloseEvenWhenItClosedLate() {
        log.begin("json", 0);
        log.begin("mir", 500);
        log.begin("vm", 1000);

        close(0);
        assertEquals(List.of("0 json"), read(100));
        assertEquals(List.of(), read(150), "nothing closed since");
        close(1);
        assertEquals(List.of("1 json>mir>vm"), read(1200), "closed 1.1 windows late: it saw three phases");
        close(2, 3);
        assertEquals(List.of("2 vm", "3 vm"), read(1400), "two in one read: a window length apart");
        close(4, 5, 6);
        assertEquals(List.of("4 vm", "5 vm", "6 vm"), read(1450), "never before the previous window's end");
        assertEquals(0, reader.lost());
    }

    @Test
    void windowsThatLeftTheHistoryUnreadAreCounted() {
        log.begin("json", 0);
        close(0);
        read(100);
        history.clear();
        close(3, 4);

        assertEquals(List.of("3 json", "4 json"), read(300));
        assertEquals(2, reader.lost());
    }
}
