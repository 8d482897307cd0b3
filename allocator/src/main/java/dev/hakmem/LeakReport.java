package dev.hakmem;

import java.util.List;
import java.util.Objects;

/**
 * The blocks still allocated, grouped by the site that allocated them (guard mode records sites; without it every
 * block is under one "(no site)" entry), largest total first.
 *
 * @param blocks live blocks
 * @param bytes  their requested bytes
 * @param sites  per allocation site
 * @param note   what the totals leave out, printed under the header line, or empty when they leave out nothing
 *               known: sampled guard mode says there how many sampled allocations it skipped, which make its
 *               totals a lower bound
 */
public record LeakReport(long blocks, long bytes, List<Site> sites, String note) {
    /**
     * Copies the list of sites, so that a report is immutable.
     *
     * @throws NullPointerException when {@code sites} is null or holds a null, or {@code note} is null
     */
    public LeakReport {
        sites = List.copyOf(sites);
        Objects.requireNonNull(note, "note");
    }

    /**
     * A report with no note: its totals leave out nothing known.
     *
     * @param blocks live blocks
     * @param bytes  their requested bytes
     * @param sites  per allocation site
     * @throws NullPointerException when {@code sites} is null or holds a null
     */
    public LeakReport(long blocks, long bytes, List<Site> sites) {
        this(blocks, bytes, sites, "");
    }

    /**
     * One allocation site's live blocks.
     *
     * @param stack  the call chain that allocated them, innermost frame first, or a placeholder in parentheses when
     *               the site is not known
     * @param blocks the site's live blocks
     * @param bytes  their requested bytes
     */
    public record Site(String stack, long blocks, long bytes) {
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("hakmem leak report: " + blocks + (blocks == 1 ? " block, " : " blocks, ")
                + bytes + " bytes live");
        if (!note.isEmpty()) {
            sb.append("\n  ").append(note);
        }
        for (Site s : sites) {
            sb.append("\n  ").append(s.blocks).append(s.blocks == 1 ? " block, " : " blocks, ").append(s.bytes)
                    .append(" bytes at ").append(s.stack);
        }
        return sb.toString();
    }
}
