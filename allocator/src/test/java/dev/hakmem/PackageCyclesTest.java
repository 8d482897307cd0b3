package dev.hakmem;

import dev.hakmem.core.Allocator;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.classfile.ClassFile;
import java.lang.classfile.constantpool.PoolEntry;
import java.lang.classfile.constantpool.Utf8Entry;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The internal packages depend on each other in one direction only (api -> guard -> core -> heap/big -> slab ->
 * os/registry, see docs/DESIGN.md): no package cycle. The dependencies are read from the compiled classes' constant
 * pools (every class, field and method type a class names is there), so an import, a fully qualified name and a
 * field's type all count, and a javadoc mention does not. The API package {@code dev.hakmem} is left out: its value
 * types (the exceptions, {@code PageSource}, {@code Policy}) are used by every layer, and it calls core.
 */
class PackageCyclesTest {
    private static final Pattern INTERNAL = Pattern.compile("dev/hakmem/([a-z]+)/");

    @Test
    void theInternalPackagesHaveNoCycle() throws IOException, URISyntaxException {
        Map<String, Map<String, String>> deps = dependencies();
        assertTrue(deps.keySet().containsAll(List.of("core", "heap", "slab", "big", "registry", "os")),
                "the classes were found: " + deps.keySet());
        List<String> cycle = findCycle(deps);
        assertEquals(List.of(), cycle, () -> "a package cycle: " + String.join(" -> ", cycle) + " (for example "
                + deps.get(cycle.get(0)).get(cycle.get(1)) + ")");
    }

    @Test
    void theCheckFindsACycle() {
        Map<String, Map<String, String>> deps = new TreeMap<>();
        deps.put("heap", Map.of("slab", "ThreadHeap"));
        deps.put("slab", Map.of("os", "SuperSlab", "heap", "SuperSlab"));
        deps.put("os", Map.of());
        assertEquals(List.of("heap", "slab", "heap"), findCycle(deps));
    }

    /** Package -> the packages its classes name, each with one class that does, for the message. */
    private static Map<String, Map<String, String>> dependencies() throws IOException, URISyntaxException {
        Path root = Path.of(Allocator.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Map<String, Map<String, String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root.resolve("dev/hakmem"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                String name = root.relativize(f).toString().replace('\\', '/');
                Matcher own = INTERNAL.matcher(name);
                if (!own.lookingAt()) {
                    continue;
                }
                Map<String, String> out = deps.computeIfAbsent(own.group(1), k -> new TreeMap<>());
                for (PoolEntry e : ClassFile.of().parse(f).constantPool()) {
                    if (e instanceof Utf8Entry u) {
                        Matcher m = INTERNAL.matcher(u.stringValue());
                        while (m.find()) {
                            if (!m.group(1).equals(own.group(1))) {
                                out.putIfAbsent(m.group(1), name);
                            }
                        }
                    }
                }
            }
        }
        return deps;
    }

    /** A cycle as the packages along it, first repeated at the end; empty if there is none (depth-first search). */
    static List<String> findCycle(Map<String, Map<String, String>> deps) {
        Map<String, Integer> state = new TreeMap<>();
        for (String p : new TreeSet<>(deps.keySet())) {
            List<String> path = new ArrayList<>();
            if (visit(p, deps, state, path)) {
                return path;
            }
        }
        return List.of();
    }

    /** state: absent = unvisited, 1 = on the current path, 2 = done. On a cycle, path holds it. */
    private static boolean visit(String p, Map<String, Map<String, String>> deps, Map<String, Integer> state,
                                 List<String> path) {
        Integer s = state.get(p);
        if (s != null && s == 2) {
            return false;
        }
        path.add(p);
        if (s != null) {
            path.subList(0, path.indexOf(p)).clear();
            return true;
        }
        state.put(p, 1);
        for (String q : deps.getOrDefault(p, Map.of()).keySet()) {
            if (visit(q, deps, state, path)) {
                return true;
            }
        }
        state.put(p, 2);
        path.removeLast();
        return false;
    }
}
