package dev.hakmem.bench.runner;

import dev.hakmem.Policy;
import dev.hakmem.bench.workload.Bytes;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** A policy's knobs as people read them, in the learn and sites commands' tables: "1 MiB", "cache long-lived". */
final class PolicyText {
    private PolicyText() {
    }

    /** The knobs that differ from {@link Policy#defaults()}, as {@code knob=value} separated by spaces; "default". */
    static String describe(Policy p) {
        Policy d = Policy.defaults();
        List<String> knobs = new ArrayList<>();
        if (p.wMax() != d.wMax()) {
            knobs.add("wMax=" + p.wMax());
        }
        if (p.bigThreshold() != d.bigThreshold()) {
            knobs.add("big=" + Bytes.format(p.bigThreshold()));
        }
        if (p.retainBytes() != d.retainBytes()) {
            knobs.add("retain=" + Bytes.format(p.retainBytes()));
        }
        if (p.purgeDelayMillis() != d.purgeDelayMillis()) {
            knobs.add("purge=" + p.purgeDelayMillis() + " ms");
        }
        if (p.bridgeClasses().length > 0) {
            knobs.add("bridges=" + bridges(p));
        }
        if (!p.sites().isEmpty()) {
            knobs.add("sites=" + sites(p));
        }
        return knobs.isEmpty() ? "default" : String.join(" ", knobs);
    }

    /** The bridge classes, "40 KiB;48 KiB", or "-". */
    static String bridges(Policy p) {
        int[] classes = p.bridgeClasses();
        return classes.length == 0 ? "-"
                : Arrays.stream(classes).mapToObj(Bytes::format).collect(Collectors.joining(";"));
    }

    /** The site rules, "cache long-lived;vm direct", or "-". */
    static String sites(Policy p) {
        return p.sites().isEmpty() ? "-"
                : p.sites().values().stream().map(r -> r.site() + " " + rule(r)).collect(Collectors.joining(";"));
    }

    /**
     * What a rule decides: "long-lived", "direct", "presize 40 KiB", those that apply joined by '+', or "-" for a rule
     * that decides nothing.
     */
    static String rule(Policy.SiteRule r) {
        if (r == null) {
            return "-";
        }
        List<String> parts = new ArrayList<>();
        if (r.longLived()) {
            parts.add("long-lived");
        }
        if (r.direct()) {
            parts.add("direct");
        }
        if (r.presize() != 0) {
            parts.add("presize " + Bytes.format(r.presize()));
        }
        return parts.isEmpty() ? "-" : String.join("+", parts);
    }
}
