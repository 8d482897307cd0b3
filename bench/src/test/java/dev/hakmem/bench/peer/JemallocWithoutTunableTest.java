package dev.hakmem.bench.peer;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's jemalloc loads only with a glibc tunable in the JVM's environment, which the tests' JVM has; a JVM
 * started without it must say so. Runs {@link #main} in a child JVM whose environment lacks the tunable.
 */
class JemallocWithoutTunableTest {

    /** Prints the jemalloc peer's unavailability message, or "loaded". */
    public static void main(String[] args) {
        try {
            CMallocPeer.jemalloc().close();
            System.out.println("loaded");
        } catch (PeerUnavailableException e) {
            System.out.println(e.getMessage());
        }
    }

    @Test
    void theMessageNamesTheTunable() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder builder = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), JemallocWithoutTunableTest.class.getName())
                .redirectErrorStream(true);
        builder.environment().remove("GLIBC_TUNABLES");
        Process child = builder.start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, child.exitValue(), output);
        Assumptions.assumeFalse(output.equals("loaded"), "jemalloc loads here without the tunable");
        Assumptions.assumeTrue(output.contains("static TLS"), "jemalloc is refused here for another reason: " + output);
        assertTrue(output.contains("GLIBC_TUNABLES=glibc.rtld.optional_static_tls=16384"), output);
    }
}
