package dev.hakmem.netty.suite;

import io.netty.buffer.ByteBufAllocator;
import io.netty.testsuite.transport.socket.SocketGatheringWriteTest;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

/** Netty's {@link SocketGatheringWriteTest} on hakmem's allocators (see {@link HakMemSuites}); slow: under -Pstress only. */
@EnabledIfSystemProperty(named = "netty.slowSuites", matches = "true")
@ExtendWith(HakMemSuites.class)
class HakMemSocketGatheringWriteTest extends SocketGatheringWriteTest {
    @Override
    protected List<ByteBufAllocator> newAllocators() {
        return HakMemSuites.allocators();
    }
}
