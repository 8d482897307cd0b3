package dev.hakmem.bench.peer;

/**
 * The purpose of an allocation, as a workload knows it: hakmem gives each its own {@code Site} (its profile then
 * decides where the blocks go); the other peers have no such notion and ignore it.
 */
public enum SiteHint {
    /** Blocks freed soon after they are allocated: a parser's nodes, a request's buffers. */
    PARSE("parse"),
    /** Blocks kept long: a cache's entries. */
    CACHE("cache");

    private final String siteName;

    SiteHint(String siteName) {
        this.siteName = siteName;
    }

    /** The name of hakmem's site for this purpose. */
    public String siteName() {
        return siteName;
    }
}
