package dev.hakmem.bench.runner;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * Where a trial's RSS growth sits ({@code hakmem profile --memory}): three {@link Snapshot}s of the child
 * ({@link MemoryProbe}) and the table that splits the growth of the peak and the end over the baseline into parts:
 * <pre>
 *   growth = RSS(snapshot) - RSS(baseline)
 *          = sum over hakmem's parts of (resident(snapshot) - resident(baseline))     mincore, by mapping kind
 *          + sum over NMT categories of (committed(snapshot) - committed(baseline))   the JVM's own
 *          + remainder                                                                 everything else
 * </pre>
 * The remainder is the growth minus the parts, so the rows add up to the growth by construction; what it holds is the
 * error of the split: memory neither source sees (a native allocator's mappings, libc's malloc arenas, the
 * difference between NMT's committed and resident) and the few milliseconds between the reads of one snapshot.
 *
 * @param probe how the probe sampled
 */
record MemorySplit(Snapshot baseline, Snapshot peak, Snapshot end, Probe probe) {
    private static final String SNAPSHOT = "SNAPSHOT";
    private static final String SAMPLES = "SAMPLES";
    private static final String HAKMEM = "hakmem:";
    private static final String NMT = "nmt:";
    private static final double MiB = 1 << 20;
    /** An NMT category whose growth stays under this at the peak and the end is summed with the other small ones. */
    private static final long SMALL = 64 << 10;
    /** Rows of the table of size classes. */
    private static final int CLASSES = 8;

    /**
     * The process and the heap at one moment.
     *
     * @param name      baseline, peak or end
     * @param rss       VmRSS in bytes
     * @param rssFile   RssFile in bytes: the part of {@code rss} that maps files (libraries, the jar, the CDS archive)
     * @param live      the heap's live bytes ({@code stats().liveBytes()}), -1 for a peer that is not hakmem
     * @param committed the heap's committed bytes, -1 for a peer that is not hakmem
     * @param hakmem    the heap's resident bytes by part ({@link ResidentMappings}), empty for another peer
     * @param nmt       the JVM's committed bytes by NMT category
     */
    record Snapshot(String name, long rss, long rssFile, long live, long committed, Map<String, Long> hakmem,
                    Map<String, Long> nmt) {
        Snapshot {
            hakmem = Map.copyOf(hakmem);
            nmt = Map.copyOf(nmt);
        }

        long hakmemResident() {
            return hakmem.values().stream().mapToLong(Long::longValue).sum();
        }

        /** The resident bytes of the parts {@code group} maps to {@code row}. */
        long hakmem(Function<String, String> group, String row) {
            return hakmem.entrySet().stream().filter(e -> group.apply(e.getKey()).equals(row))
                    .mapToLong(Map.Entry::getValue).sum();
        }
    }

    /**
     * How the probe sampled the measured windows.
     *
     * @param samples        how many times it read VmRSS
     * @param periodMillis   its period
     * @param snapshots      the snapshots it took at a new highest RSS
     * @param snapshotMillis the time they took, on the probe's thread: a snapshot takes the heap's stats, whose locks
     *                       a workload thread may wait for, so this bounds what the probe cost the workload
     */
    record Probe(int samples, long periodMillis, int snapshots, long snapshotMillis) {
    }

    /** One row of the table: what, and its growth at the peak and at the end, in bytes. */
    record Row(String part, long peak, long end) {
    }

    /** The child's lines for the parent ({@link #parse}). */
    List<String> toLines() {
        List<String> lines = new ArrayList<>();
        for (Snapshot s : List.of(baseline, peak, end)) {
            StringBuilder line = new StringBuilder(SNAPSHOT).append(' ').append(s.name()).append(" rss=")
                    .append(s.rss()).append(" rss_file=").append(s.rssFile()).append(" live=").append(s.live()).append(" committed=").append(s.committed());
            s.hakmem().forEach((k, v) -> line.append(' ').append(HAKMEM).append(encode(k)).append('=').append(v));
            s.nmt().forEach((k, v) -> line.append(' ').append(NMT).append(encode(k)).append('=').append(v));
            lines.add(line.toString());
        }
        lines.add(SAMPLES + " " + probe.samples() + " " + probe.periodMillis() + " " + probe.snapshots() + " "
                + probe.snapshotMillis());
        return lines;
    }

    /**
     * Reads what {@link #toLines} wrote.
     *
     * @throws IllegalArgumentException naming the line that is not a snapshot of baseline, peak and end
     */
    static MemorySplit parse(List<String> lines) {
        Map<String, Snapshot> snapshots = new HashMap<>();
        Probe probe = null;
        for (String line : lines) {
            String[] fields = line.split(" ");
            if (fields[0].equals(SAMPLES) && fields.length == 5) {
                probe = new Probe(Integer.parseInt(fields[1]), Long.parseLong(fields[2]), Integer.parseInt(fields[3]),
                        Long.parseLong(fields[4]));
            } else if (fields[0].equals(SNAPSHOT) && fields.length >= 5) {
                Map<String, Long> values = new HashMap<>();
                Map<String, Long> hakmem = new HashMap<>();
                Map<String, Long> nmt = new HashMap<>();
                for (int i = 2; i < fields.length; i++) {
                    int equals = fields[i].lastIndexOf('=');
                    if (equals < 0) {
                        throw new IllegalArgumentException("not key=value: '" + fields[i] + "' in " + line);
                    }
                    String key = fields[i].substring(0, equals);
                    long value = Long.parseLong(fields[i].substring(equals + 1));
                    if (key.startsWith(HAKMEM)) {
                        hakmem.put(decode(key.substring(HAKMEM.length())), value);
                    } else if (key.startsWith(NMT)) {
                        nmt.put(decode(key.substring(NMT.length())), value);
                    } else {
                        values.put(key, value);
                    }
                }
                if (!values.keySet().equals(Set.of("rss", "rss_file", "live", "committed"))) {
                    throw new IllegalArgumentException("a snapshot needs rss, rss_file, live and committed: " + line);
                }
                snapshots.put(fields[1], new Snapshot(fields[1], values.get("rss"), values.get("rss_file"),
                        values.get("live"),
                        values.get("committed"), hakmem, nmt));
            } else if (!line.isBlank()) {
                throw new IllegalArgumentException("not a memory probe line: " + line);
            }
        }
        if (!snapshots.keySet().equals(Set.of("baseline", "peak", "end")) || probe == null) {
            throw new IllegalArgumentException("the memory probe wrote snapshots " + snapshots.keySet()
                    + (probe == null ? " and no sample count" : "") + ", not baseline, peak and end");
        }
        return new MemorySplit(snapshots.get("baseline"), snapshots.get("peak"), snapshots.get("end"), probe);
    }

    /** Spaces would split a line: part and category names have none of these. */
    private static String encode(String name) {
        return name.replace(' ', '_');
    }

    private static String decode(String name) {
        return name.replace('_', ' ');
    }

    /**
     * The rows of hakmem's mappings by kind, Tiny, Mid and Large slabs each in one row, but those with nothing resident
     * at any snapshot; none for another peer.
     */
    List<Row> hakmemRows() {
        Set<String> rows = new TreeSet<>();
        for (Snapshot s : List.of(baseline, peak, end)) {
            s.hakmem().forEach((part, bytes) -> {
                if (bytes > 0) {
                    rows.add(tierRow(part));
                }
            });
        }
        return rows.stream().map(row -> growthRow(row, s -> s.hakmem(MemorySplit::tierRow, row))).toList();
    }

    /** "hakmem slab TINY 64" to "hakmem slabs TINY"; other parts unchanged. */
    private static String tierRow(String part) {
        return part.startsWith(ResidentMappings.SLAB)
                ? "hakmem slabs " + part.substring(ResidentMappings.SLAB.length()).split(" ")[0]
                : "hakmem " + part;
    }

    /**
     * The JVM's rows: each NMT category that grew or shrank by {@link #SMALL} or more at the peak or the end, the
     * others in one row.
     */
    List<Row> jvmRows() {
        Set<String> categories = new LinkedHashSet<>();
        for (Snapshot s : List.of(baseline, peak, end)) {
            s.nmt().keySet().stream().sorted().forEach(categories::add);
        }
        List<Row> rows = new ArrayList<>();
        long smallPeak = 0;
        long smallEnd = 0;
        for (String category : categories) {
            Row row = growthRow("JVM " + category, s -> s.nmt().getOrDefault(category, 0L));
            if (Math.abs(row.peak()) >= SMALL || Math.abs(row.end()) >= SMALL) {
                rows.add(row);
            } else {
                smallPeak += row.peak();
                smallEnd += row.end();
            }
        }
        rows.add(new Row("JVM, the other categories (each under " + SMALL / 1024 + " KiB)", smallPeak, smallEnd));
        return rows;
    }

    /** The growth minus every part: what neither hakmem's mappings nor NMT account for. */
    Row remainder() {
        List<Row> parts = new ArrayList<>(hakmemRows());
        parts.addAll(jvmRows());
        return new Row("remainder (unaccounted)", growth(peak) - parts.stream().mapToLong(Row::peak).sum(),
                growth(end) - parts.stream().mapToLong(Row::end).sum());
    }

    long growth(Snapshot s) {
        return s.rss() - baseline.rss();
    }

    private Row growthRow(String part, ToLongFunction<Snapshot> value) {
        long base = value.applyAsLong(baseline);
        return new Row(part, value.applyAsLong(peak) - base, value.applyAsLong(end) - base);
    }

    /**
     * The split as markdown: the table of parts, then the heap's live, committed and resident bytes and the size
     * classes holding the most resident memory at the peak.
     *
     * @param hwmGrowth the bench's peak RSS growth from the same child (VmHWM over the baseline), -1 if unknown
     */
    String markdown(long hwmGrowth) {
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "- peak RSS growth: %s MiB by VmHWM (the bench's figure); the probe's"
                        + " highest sample of %d (every %d ms) %s MiB, which the table splits; its %d snapshots took"
                        + " %d ms%n", mib(hwmGrowth), probe.samples(), probe.periodMillis(), mib(growth(peak)),
                probe.snapshots(), probe.snapshotMillis()));
        boolean hakmem = baseline.live() >= 0;
        if (hakmem) {
            md.append(String.format(Locale.ROOT, "- hakmem at baseline / peak / end: live %s / %s / %s MiB,"
                                    + " committed %s / %s / %s MiB, resident %s / %s / %s MiB; overhead at the peak"
                                    + " (resident - live, negative where blocks are not written whole: the workloads"
                                    + " write a block's first and last byte) %s MiB. Its metadata (slab bitmaps, the registry) is on the"
                                    + " fixed, pre-touched Java heap: in the baseline, not in the growth%n",
                            mib(baseline.live()), mib(peak.live()), mib(end.live()), mib(baseline.committed()),
                            mib(peak.committed()), mib(end.committed()), mib(baseline.hakmemResident()),
                            mib(peak.hakmemResident()), mib(end.hakmemResident()),
                            mib(peak.hakmemResident() - peak.live())));
        }
        md.append("\n| part | MiB at peak | MiB at end | share of the peak growth |\n| --- | ---: | ---: | ---: |\n");
        List<Row> rows = new ArrayList<>(hakmemRows());
        rows.addAll(jvmRows());
        rows.add(remainder());
        rows.add(new Row("**RSS growth**", growth(peak), growth(end)));
        for (Row row : rows) {
            md.append("| ").append(row.part()).append(" | ").append(mib(row.peak())).append(" | ")
                    .append(mib(row.end())).append(" | ").append(share(row.peak())).append(" |\n");
        }
        md.append(String.format(Locale.ROOT, "%nOf the remainder, %s MiB at the peak and %s MiB at the end are pages"
                        + " that map files (RssFile: libraries and the jar read since the baseline); the rest is"
                        + " anonymous memory no part accounts for (a native allocator's own mappings; glibc's malloc"
                        + " arenas beyond the bytes NMT counts in use; NMT's committed against resident).%n",
                mib(peak.rssFile() - baseline.rssFile()), mib(end.rssFile() - baseline.rssFile())));
        if (hakmem) {
            classes(md);
        }
        return md.toString();
    }

    /** The slab classes holding the most resident bytes at the peak: resident, not growth, at each snapshot. */
    private void classes(StringBuilder md) {
        Map<String, Long> atPeak = peak.hakmem().entrySet().stream()
                .filter(e -> e.getKey().startsWith(ResidentMappings.SLAB))
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed()
                        .thenComparing(Map.Entry.comparingByKey(Comparator.naturalOrder())))
                .limit(CLASSES)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
        if (atPeak.isEmpty()) {
            return;
        }
        md.append("\nResident slab memory by size class (tier and block size), the ").append(CLASSES)
                .append(" largest at the peak:\n\n| class | MiB at baseline | MiB at peak | MiB at end |\n")
                .append("| --- | ---: | ---: | ---: |\n");
        atPeak.forEach((part, bytes) -> md.append("| ").append(part.substring(ResidentMappings.SLAB.length()))
                .append(" B | ").append(mib(baseline.hakmem().getOrDefault(part, 0L))).append(" | ")
                .append(mib(bytes)).append(" | ").append(mib(end.hakmem().getOrDefault(part, 0L))).append(" |\n"));
    }

    private String share(long bytes) {
        long growth = growth(peak);
        return growth == 0 ? "-" : String.format(Locale.ROOT, "%.0f%%", 100.0 * bytes / growth);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.2f", bytes / MiB);
    }
}
