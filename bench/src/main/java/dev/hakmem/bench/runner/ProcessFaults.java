package dev.hakmem.bench.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's page faults so far, read from {@code /proc/self/stat} as the learner reads them (minflt plus majflt,
 * fields 10 and 12 of proc(5)); the allocator's reader is not API, and the compare command measures the heaps from
 * outside. -1 where there is no such file.
 */
final class ProcessFaults {
    private static final Path STAT = Path.of("/proc/self/stat");

    private ProcessFaults() {
    }

    static long sinceStart() {
        try {
            return parse(Files.readString(STAT));
        } catch (IOException e) {
            return -1;
        }
    }

    /** The faults in a {@code /proc/<pid>/stat} line, or -1 if it is not one. */
    static long parse(String stat) {
        // Field 2, the command, is in parentheses and may hold spaces and parentheses: fields count from the last ')'.
        int command = stat.lastIndexOf(')');
        if (command < 0) {
            return -1;
        }
        String[] fields = stat.substring(command + 1).trim().split("\\s+");
        try {
            return fields.length < 10 ? -1 : Long.parseLong(fields[7]) + Long.parseLong(fields[9]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
