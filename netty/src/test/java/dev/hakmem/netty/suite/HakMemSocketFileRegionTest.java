package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketFileRegionTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketFileRegionTest} on hakmem's allocators (see {@link HakMemSuites}). */
@ExtendWith(HakMemSuites.class)
class HakMemSocketFileRegionTest extends SocketFileRegionTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
