package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketSslEchoTest;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketSslEchoTest} on hakmem's allocators (see {@link HakMemSuites}); slow: under -Pstress only. */
@EnabledIfSystemProperty(named = "netty.slowSuites", matches = "true")
@ExtendWith(HakMemSuites.class)
class HakMemSocketSslEchoTest extends SocketSslEchoTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
