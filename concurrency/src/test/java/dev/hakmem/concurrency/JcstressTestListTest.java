package dev.hakmem.concurrency;

import dev.hakmem.slab.SlabFixtures;
import org.junit.jupiter.api.Test;
import org.openjdk.jcstress.annotations.JCStressTest;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * jcstress exits 0 when it finds no test to run, so a build whose annotation processor did not run (JDK 23+
 * ignores processors on the class path) would pass the verify phase having tested nothing. This checks that the
 * generated test list names every {@link JCStressTest} class compiled into this module.
 */
class JcstressTestListTest {
    @Test
    void everyJcstressTestIsListed() throws IOException, URISyntaxException {
        Set<String> listed = new TreeSet<>();
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/TestList")) {
            assertNotNull(in, "META-INF/TestList was not generated");
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                // Each line is a length-prefixed record; its first field is the test's name.
                if (line.startsWith("JCTEST")) {
                    String rest = line.substring("JCTEST".length());
                    int s = rest.indexOf('S');
                    listed.add(rest.substring(s + 1, s + 1 + Integer.parseInt(rest.substring(0, s))));
                }
            }
        }
        Path classes = Path.of(SlabFixtures.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<String> annotated = new TreeSet<>();
        try (Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                if (!name.contains("_jcstress") && isJcstressTest(name)) {
                    annotated.add(name.replace('$', '.'));
                }
            }
        }
        assertFalse(annotated.isEmpty(), "no @JCStressTest class found under " + classes);
        assertEquals(annotated, listed);
    }

    private static boolean isJcstressTest(String className) {
        try {
            return Class.forName(className, false, JcstressTestListTest.class.getClassLoader())
                    .isAnnotationPresent(JCStressTest.class);
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}
