package dev.hakmem.stress;

import java.util.Locale;

/** Human-readable quantities for the progress and summary lines (and {@code hakmem top}'s columns). */
public final class Units {
    private Units() {
    }

    /** Binary units; negative means the value is unknown (RSS where /proc is missing). */
    public static String bytes(long n) {
        if (n < 0) {
            return "n/a";
        }
        if (n < 1024) {
            return n + " B";
        }
        if (n < 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        }
        if (n < 1024L * 1024 * 1024) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    }
}
