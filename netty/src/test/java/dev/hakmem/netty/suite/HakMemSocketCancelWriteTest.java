package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketCancelWriteTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketCancelWriteTest} on hakmem's allocators (see {@link HakMemSuites}). */
@ExtendWith(HakMemSuites.class)
class HakMemSocketCancelWriteTest extends SocketCancelWriteTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
