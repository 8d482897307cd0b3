package dev.hakmem.bench.workload;

/** Sizes as people write them: 64 B, 8 KiB, 2 MiB. */
public final class Bytes {
    private Bytes() {
    }

    public static String format(long bytes) {
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0) {
            return bytes / (1 << 20) + " MiB";
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0) {
            return bytes / (1 << 10) + " KiB";
        }
        return bytes + " B";
    }
}
