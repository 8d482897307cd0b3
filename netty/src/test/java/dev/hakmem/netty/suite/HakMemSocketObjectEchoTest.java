package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketObjectEchoTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketObjectEchoTest} on hakmem's allocators (see {@link HakMemSuites}). */
@ExtendWith(HakMemSuites.class)
class HakMemSocketObjectEchoTest extends SocketObjectEchoTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
