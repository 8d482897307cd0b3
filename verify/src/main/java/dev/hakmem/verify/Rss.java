package dev.hakmem.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The resident set size of this process, read from {@code /proc/self/status} (Linux only). */
public final class Rss {

    private static final Path STATUS = Path.of("/proc/self/status");

    private Rss() {
    }

    /** VmRSS in bytes: memory resident right now; -1 where /proc is unavailable. */
    public static long currentBytes() {
        return read("VmRSS:");
    }

    /** RssFile in bytes: the resident pages that map files (libraries, jars); -1 where /proc is unavailable. */
    public static long fileBytes() {
        return read("RssFile:");
    }

    /** VmHWM in bytes: the highest resident set size so far; -1 where /proc is unavailable. */
    public static long peakBytes() {
        return read("VmHWM:");
    }

    private static long read(String key) {
        List<String> lines;
        try {
            lines = Files.readAllLines(STATUS);
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return -1;
        }
        return parse(lines, key);
    }

    /** Finds a line such as {@code "VmRSS:     123456 kB"}; -1 if the key is missing or malformed. */
    static long parse(List<String> lines, String key) {
        for (String line : lines) {
            if (line.startsWith(key)) {
                String[] parts = line.substring(key.length()).trim().split("\\s+");
                try {
                    long value = Long.parseLong(parts[0]);
                    return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value;
                } catch (NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }
}
