package dev.hakmem;

import java.util.List;

/**
 * The blocks still allocated, grouped by the site that allocated them (guard mode records sites; without it every
 * block is under one "(no site)" entry), largest total first.
 *
 * @param blocks live blocks
 * @param bytes  their requested bytes
 * @param sites  per allocation site
 */
public record LeakReport(long blocks, long bytes, List<Site> sites) {
    /**
     * Copies the list of sites, so that a report is immutable.
     *
     * @throws NullPointerException when {@code sites} is null or holds a null
     */
    public LeakReport {
        sites = List.copyOf(sites);
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
        StringBuilder sb = new StringBuilder("hakmem leak report: " + blocks + " blocks, " + bytes + " bytes live");
        for (Site s : sites) {
            sb.append("\n  ").append(s.blocks).append(s.blocks == 1 ? " block, " : " blocks, ").append(s.bytes)
                    .append(" bytes at ").append(s.stack);
        }
        return sb.toString();
    }
}
