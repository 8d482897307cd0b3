package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketSpdyEchoTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketSpdyEchoTest} on hakmem's allocators (see {@link HakMemSuites}). */
@ExtendWith(HakMemSuites.class)
class HakMemSocketSpdyEchoTest extends SocketSpdyEchoTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
