package dev.hakmem.bench.workload;

import dev.hakmem.bench.peer.NativeAllocator;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Threads that only allocate and threads that only free: a producer allocates blocks in batches of
 * {@link Budget#STRIDE} and queues each batch; a consumer takes batches and frees every block. With
 * {@code threads = T} the workload runs T producers and T consumers (2T threads), paired one to one on private
 * queues, or all on one shared queue so that any consumer frees any producer's blocks (xmalloc-test's layout). The
 * producers' budget ends the run; the consumers then drain what is queued, and those frees count like the others.
 */
final class HandOff implements Workload {
    /** Batches a queue holds per producer: enough to keep a consumer busy, few enough to bound the live memory. */
    private static final int DEPTH = 8;
    /** The producer's last batch: the consumer that takes it stops. */
    private static final long[] END = new long[0];

    private final String name;
    private final String origin;
    private final Sizes sizes;
    private final boolean shared;

    HandOff(String name, String origin, Sizes sizes, boolean shared) {
        this.name = name;
        this.origin = origin;
        this.sizes = sizes;
        this.shared = shared;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String description() {
        return origin + ": " + sizes + "; T threads allocate and T other threads free, in batches of "
                + Budget.STRIDE + (shared ? " through one shared queue" : ", each allocating thread paired with one freeing thread");
    }

    @Override
    public boolean freesOnOtherThreads() {
        return true;
    }

    @Override
    public long run(NativeAllocator allocator, int threads, Budget budget) {
        List<Channel> channels = new ArrayList<>();
        for (int i = 0, count = shared ? 1 : threads; i < count; i++) {
            channels.add(new Channel(DEPTH * (shared ? threads : 1)));
        }
        OpTable[] tables = new OpTable[threads];
        for (int producer = 0; producer < threads; producer++) {
            tables[producer] = new OpTable(sizes, 1, producer);
        }
        long[] freed = new long[threads];
        Crew.run(2 * threads, worker -> {
            Channel channel = channels.get((worker % threads) % channels.size());
            if (worker < threads) {
                produce(allocator, tables[worker], budget, channel);
            } else {
                freed[worker - threads] = consume(allocator, channel);
            }
        });
        long operations = 0;
        for (long count : freed) {
            operations += count;
        }
        return operations;
    }

    private static void produce(NativeAllocator allocator, OpTable table, Budget budget, Channel channel)
            throws InterruptedException {
        for (long produced = 0; budget.more(produced); produced += Budget.STRIDE) {
            long[] batch = channel.emptied.poll();
            if (batch == null) {
                batch = new long[Budget.STRIDE];
            }
            for (int i = 0; i < batch.length; i++) {
                batch[i] = Blocks.allocate(allocator, table.size(produced + i));
            }
            channel.full.put(batch);
        }
        channel.full.put(END);
    }

    /**
     * Frees batches until it takes an {@link #END}. On a shared queue each consumer stops at the first END it takes:
     * T producers put T ENDs, each after all of its batches, so the last END taken follows every batch.
     */
    private static long consume(NativeAllocator allocator, Channel channel) throws InterruptedException {
        long freed = 0;
        for (long[] batch = channel.full.take(); batch != END; batch = channel.full.take()) {
            for (long block : batch) {
                allocator.free(block);
            }
            freed += batch.length;
            // Reused, so that the Java heap's garbage is the same for every allocator and small.
            channel.emptied.offer(batch);
        }
        return freed;
    }

    /** Full batches on their way to a consumer, and emptied ones on their way back. */
    private static final class Channel {
        final BlockingQueue<long[]> full;
        final ConcurrentLinkedQueue<long[]> emptied = new ConcurrentLinkedQueue<>();

        Channel(int depth) {
            full = new ArrayBlockingQueue<>(depth);
        }
    }
}
