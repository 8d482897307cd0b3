package dev.hakmem.arrow;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's Arrow example, as printed there: compiled, run, and its output and memory checked. */
class ReadmeExampleTest {

    private static final Pattern ARROW_EXAMPLE =
            Pattern.compile("(?s)\\n## Arrow\\n.*?```java\\n(.*?)```");

    @Test
    void theArrowExampleCompilesAndRunsOnHakmem(@TempDir Path dir) throws Exception {
        Matcher m = ARROW_EXAMPLE.matcher(Files.readString(Path.of("..", "README.md")));
        assertTrue(m.find(), "README has an Arrow section with a java example");
        List<String> lines = m.group(1).lines().toList();
        String imports = String.join("\n", lines.stream().filter(l -> l.startsWith("import ")).toList());
        String body = String.join("\n", lines.stream().filter(l -> !l.startsWith("import ")).toList());
        Path source = dir.resolve("Example.java");
        Files.writeString(source, imports + "\npublic class Example {\n    public static void main(String[] args)"
                + " throws Exception {\n" + body + "\n    }\n}\n");

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        int rc = javac.run(null, diagnostics, diagnostics, "-classpath", System.getProperty("java.class.path"),
                "-d", dir.toString(), source.toString());
        assertEquals(0, rc, () -> diagnostics.toString(StandardCharsets.UTF_8));

        long before = mallocs();
        String out = runMain(dir);
        assertEquals("[31, 47, null]", out.strip());
        assertTrue(mallocs() > before, "the example's vector was a hakmem block");
    }

    private static long mallocs() {
        return HakMem.global().stats().tiers().values().stream().mapToLong(HakMemStats.TierStats::mallocs).sum();
    }

    private static String runMain(Path classes) throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                ReadmeExampleTest.class.getClassLoader());
             PrintStream ps = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(ps);
            loader.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }
}
