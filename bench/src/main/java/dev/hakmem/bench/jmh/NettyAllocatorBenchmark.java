package dev.hakmem.bench.jmh;

import dev.hakmem.HakMem;
import dev.hakmem.bench.peer.NettyPeer;
import dev.hakmem.netty.HakMemByteBufAllocator;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * hakmem's Netty allocator ({@code hakmem-netty}) against Netty's {@code PooledByteBufAllocator} (thread caches on)
 * and {@code AdaptiveByteBufAllocator}, Netty 4.2's default (issue 13). Each allocator is used as a Netty
 * application uses it, through {@link ByteBufAllocator} and {@code release()}, with the buffers' own accessors (the
 * Netty allocators take their Unsafe paths: the fork allows sun.misc.Unsafe; hakmem's buffers never use it).
 *
 * <ul>
 *   <li>{@code allocWriteRelease1} / {@code 2}: at 1 and 2 threads, {@code directBuffer(size, size)}, write its
 *   first and last byte, release it: the allocator's fast path per size, 64 B to 64 KiB.</li>
 *   <li>{@code echo}: one round trip over loopback TCP, NIO on both sides: the client writes a {@code size}-byte
 *   buffer, the server echoes what it reads, the client waits for all of it. Every buffer on both sides (writes,
 *   reads, the echo) comes from the allocator under test. Mostly system calls and thread hand-offs: it shows how
 *   much of a real exchange the allocator is.</li>
 * </ul>
 * Netty's leak detector is off, as its sampling is a debugging aid and not the allocator's cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class NettyAllocatorBenchmark {

    @Param({"hakmem", NettyPeer.POOLED, NettyPeer.ADAPTIVE})
    public String allocator;

    @Param({"64", "512", "4096", "16384", "65536"})
    public int size;

    private ByteBufAllocator alloc;
    /** The heap behind {@code hakmem}, closed after the trial; null for Netty's allocators. */
    private HakMem heap;

    @Setup(Level.Trial)
    public void setUp() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        switch (allocator) {
            case "hakmem" -> {
                heap = HakMem.create();
                alloc = new HakMemByteBufAllocator(heap);
            }
            case NettyPeer.POOLED -> alloc = NettyPeer.pooledAllocator(true);
            case NettyPeer.ADAPTIVE -> alloc = NettyPeer.adaptiveAllocator();
            default -> throw new IllegalArgumentException("unknown allocator " + allocator);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (heap != null) {
            heap.close();
        }
    }

    @Benchmark
    @Threads(1)
    public void allocWriteRelease1() {
        allocWriteRelease();
    }

    @Benchmark
    @Threads(2)
    public void allocWriteRelease2() {
        allocWriteRelease();
    }

    /** One op: directBuffer(size, size), write its first and last byte, release. */
    private void allocWriteRelease() {
        ByteBuf buf = alloc.directBuffer(size, size);
        buf.setByte(0, 1);
        buf.setByte(size - 1, 1);
        buf.release();
    }

    /** One round trip of {@code size} bytes over a loopback connection of the benchmark thread's own. */
    @Benchmark
    public void echo(Echo echo) throws InterruptedException {
        echo.client.writeAndFlush(alloc.directBuffer(size, size).writerIndex(size));
        echo.arrived.take();
    }

    /** A loopback echo server and one client connection, both allocating from the benchmark's allocator. */
    @State(Scope.Thread)
    public static class Echo {
        private EventLoopGroup group;
        private Channel server;
        Channel client;
        /** One token per round trip, put when the client has read back every byte it wrote. */
        final BlockingQueue<Boolean> arrived = new ArrayBlockingQueue<>(1);

        @Setup(Level.Trial)
        public void setUp(NettyAllocatorBenchmark b) throws InterruptedException {
            group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.ALLOCATOR, b.alloc)
                    .childOption(ChannelOption.ALLOCATOR, b.alloc)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new EchoHandler());
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            client = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.ALLOCATOR, b.alloc)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new CountingHandler(b.size, arrived))
                    .connect(server.localAddress()).sync().channel();
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            client.close().sync();
            server.close().sync();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** The server side: writes back what it reads, flushing once per read burst. */
    private static final class EchoHandler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }
    }

    /** The client side: releases what it reads and signals each time a whole message has come back. */
    private static final class CountingHandler extends ChannelInboundHandlerAdapter {
        private final int size;
        private final BlockingQueue<Boolean> arrived;
        /** Bytes read towards the current message; only the client's event-loop thread touches it. */
        private int received;

        CountingHandler(int size, BlockingQueue<Boolean> arrived) {
            this.size = size;
            this.arrived = arrived;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            received += ((ByteBuf) msg).readableBytes();
            ReferenceCountUtil.release(msg);
            if (received >= size) {
                received -= size;
                arrived.add(Boolean.TRUE);
            }
        }
    }
}
