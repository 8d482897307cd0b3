package dev.hakmem.netty;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.PlatformDependent;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The surefire executions run Netty as they say: the default one as JDK 25 leaves it (no Unsafe), netty-unsafe with
 * its Unsafe paths and the paranoid leak detector (see netty/pom.xml).
 */
class NettyConfigurationTest {
    @Test
    void nettyRunsAsTheExecutionSays() {
        boolean unsafe = Boolean.getBoolean("netty.unsafe");
        assertEquals(unsafe, PlatformDependent.hasUnsafe());
        assertEquals(unsafe ? ResourceLeakDetector.Level.PARANOID : ResourceLeakDetector.Level.SIMPLE,
                ResourceLeakDetector.getLevel());
    }
}
