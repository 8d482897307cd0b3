package dev.hakmem;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A test's main class in a JVM of its own, for what one JVM can do once (the global heap, its settings, its exit
 * hooks): the same java and class path as this JVM's, a 64 MiB Java heap, native access.
 */
final class ChildJvms {
    private ChildJvms() {
    }

    /**
     * Runs {@code main} with {@code flags} before the class path and returns its standard output and error, merged,
     * once it has ended (within 60 s, or the test fails).
     */
    static String output(Class<?> main, String... flags) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx64m"));
        command.addAll(List.of(flags));
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                main.getName()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        return out;
    }
}
