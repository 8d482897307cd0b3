package dev.hakmem.netty;

import dev.hakmem.HakMem;
import dev.hakmem.HakMemConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** README's "Netty" example: compiled and run here, and the README's text must be this method's. */
class ReadmeExampleTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/hakmem/netty/ReadmeExampleTest.java");
    private static final Path README = Path.of("../README.md");

    @Test
    void theExampleRuns() {
        // README: begin
        ServerBootstrap server = new ServerBootstrap()
                .option(ChannelOption.ALLOCATOR, HakMemByteBufAllocator.DEFAULT)         // the listening channel
                .childOption(ChannelOption.ALLOCATOR, HakMemByteBufAllocator.DEFAULT);   // every accepted channel
        ByteBuf buf = HakMemByteBufAllocator.DEFAULT.directBuffer(256);   // one block of HakMem.global()
        buf.writeCharSequence("hello", StandardCharsets.US_ASCII);        // grows into a new block when full
        buf.release();                                                    // refCnt 0: the block goes back

        HakMem heap = HakMem.create(HakMemConfig.builder().guard(true).build());   // guard mode
        ByteBuf leaked = new HakMemByteBufAllocator(heap).directBuffer(64);
        System.out.println(heap.leakReport());                            // 1 block, 64 bytes, at the line above
        // README: end
        assertSame(HakMemByteBufAllocator.DEFAULT, server.config().childOptions().get(ChannelOption.ALLOCATOR));
        assertEquals(0, buf.refCnt());
        assertEquals(1, heap.leakReport().blocks());
        leaked.release();
        heap.close();
    }

    @Test
    void theReadmeShowsThisExample() throws IOException {
        assertEquals(between(Files.readAllLines(SOURCE), "// README: begin", "// README: end"),
                between(Files.readAllLines(README), "## Netty", "```java", "```"));
    }

    /** The lines after the one containing each of {@code marks} but the last, up to the last; stripped. */
    private static List<String> between(List<String> lines, String... marks) {
        int at = 0;
        for (int m = 0; m < marks.length - 1; m++) {
            while (!lines.get(at).strip().startsWith(marks[m])) {
                at++;
            }
            at++;
        }
        int end = at;
        while (!lines.get(end).strip().startsWith(marks[marks.length - 1])) {
            end++;
        }
        return lines.subList(at, end).stream().map(String::strip).toList();
    }
}
