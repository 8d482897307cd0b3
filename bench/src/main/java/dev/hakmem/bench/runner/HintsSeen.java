package dev.hakmem.bench.runner;

import dev.hakmem.bench.peer.NativeAllocator;
import dev.hakmem.bench.peer.SiteHint;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A peer that remembers which {@link SiteHint}s a workload allocates with: the compare command's warm-up learns
 * from it which sites' rules are worth a run. Only the warm-up pays for the set's lookup.
 */
final class HintsSeen implements NativeAllocator {
    private final NativeAllocator peer;
    private final Set<SiteHint> seen = ConcurrentHashMap.newKeySet();

    HintsSeen(NativeAllocator peer) {
        this.peer = peer;
    }

    /** The site names of the hints seen, in the hints' order. */
    List<String> sites() {
        return Arrays.stream(SiteHint.values()).filter(seen::contains).map(SiteHint::siteName).toList();
    }

    @Override
    public long malloc(long size) {
        return peer.malloc(size);
    }

    @Override
    public long malloc(long size, SiteHint site) {
        if (!seen.contains(site)) {
            seen.add(site);
        }
        return peer.malloc(size, site);
    }

    @Override
    public void free(long address) {
        peer.free(address);
    }

    @Override
    public String name() {
        return peer.name();
    }

    @Override
    public boolean crossThreadFree() {
        return peer.crossThreadFree();
    }
}
