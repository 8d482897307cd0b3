package dev.hakmem.os;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's page faults so far, for the learner's cost: a fault is paid when a page first touched after a
 * mapping or a purge is made present, outside any allocator call, so timing allocator calls cannot see it. Read
 * from {@code /proc/self/stat} (fields 10 and 12, minflt and majflt, proc(5)); -1 where there is no such file.
 */
public final class PageFaults {
    private static final Path STAT = Path.of("/proc/self/stat");

    private PageFaults() {
    }

    /** Minor plus major faults of the whole process since it started, or -1 when the platform does not tell. */
    public static long sinceStart() {
        try {
            return parse(Files.readString(STAT));
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The faults in a {@code /proc/<pid>/stat} line, or -1 if it is not one. */
    static long parse(String stat) {
        // The command name, field 2, is in parentheses and may hold spaces and parentheses: count from the last ')'.
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            return -1;
        }
        String[] f = stat.substring(end + 1).trim().split("\\s+");
        if (f.length < 10) {
            return -1;
        }
        try {
            return Long.parseLong(f[7]) + Long.parseLong(f[9]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
