package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketStringEchoTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketStringEchoTest} on hakmem's allocators (see {@link HakMemSuites}). */
@ExtendWith(HakMemSuites.class)
class HakMemSocketStringEchoTest extends SocketStringEchoTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
