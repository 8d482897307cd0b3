package dev.hakmem.slab;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A slab's remote-free side, on a cache line of its own (JCTools' padding by class chain: HotSpot lays out a
 * superclass's fields before its subclass's, so these sit between two 64-byte runs of padding, away from both the
 * object before this one in memory and the owner's fields in {@link SlabLocal}). A remote free's CAS on the head then
 * does not invalidate the line the owner's malloc and free read (issue 11). HotSpot also fills a superclass's holes
 * with a subclass's small fields, so every class of the chain leaves none: {@code p0} fills the header's 4 bytes
 * and {@code r1..r3} round the remote side up to 8. Verified with JOL 0.17 on JDK 25 (compressed class pointers):
 * the remote side at offsets 80..87, {@link SlabLocal}'s at 152..167, {@link Slab}'s own fields from 232.
 */
abstract class SlabRemotePadBefore {
    @SuppressWarnings("unused")
    private int p0;
    @SuppressWarnings("unused")
    private long p1, p2, p3, p4, p5, p6, p7, p8;
}

/** The fields a remote free writes; see {@link Slab}'s class comment for their protocol. */
abstract class SlabRemote extends SlabRemotePadBefore {
    /** Head of the remote-free MPSC stack; accessed only through {@link Slab}'s named VarHandle accessors. */
    @SuppressWarnings("unused")
    volatile int remoteHead = Slab.NIL;
    /** Set by a remote freer that undid a claim (a racing double free): the owner rebuilds its free stack once. */
    volatile boolean rebuildRequested;
    @SuppressWarnings("unused")
    private byte r1, r2, r3;
}

/** Keeps {@link Slab}'s owner fields off the remote side's line (see {@link SlabRemotePadBefore}). */
abstract class SlabRemotePadAfter extends SlabRemote {
    @SuppressWarnings("unused")
    private long q1, q2, q3, q4, q5, q6, q7, q8;
}

/**
 * The fields the owner writes on every malloc and free, on a cache line of their own (the padding scheme of
 * {@link SlabRemotePadBefore}): away from the remote side before them, and from {@link Slab}'s own fields after
 * them, which a remote free reads ({@code base}, {@code recip}, {@code blockSize}, {@code capacity}, the arrays) on
 * every free. Beside them, each of the owner's writes invalidated the remote freer's copy of the line, and each
 * remote free's read took the line away from the owner again (issue 11: the owner's pop and a remote free of the
 * same slab missed on it in turn).
 */
abstract class SlabLocal extends SlabRemotePadAfter {
    /**
     * The local free stack's height ({@code stack & TOP_MASK}) and the blocks ever handed out from this slab
     * ({@code stack >>> 16}), folded into its heap's counters when the slab retires. Owner only, plain; stats read
     * it opaque ({@link Slab#allocations}), a whole long (see {@code Slab.setAllocatedPlain} on torn longs).
     */
    long stack;
    /** Blocks carved: {@code [0, carved)} were handed out at least once. Owner only, plain. */
    int carved;
    @SuppressWarnings("unused")
    private int l1;
}

/** Keeps {@link Slab}'s fields, read by remote frees, off the owner's line (see {@link SlabLocal}). */
abstract class SlabLocalPadAfter extends SlabLocal {
    @SuppressWarnings("unused")
    private long m1, m2, m3, m4, m5, m6, m7, m8;
}

/**
 * One slab: a run of equal blocks of one size class inside a {@link SuperSlab}. All of its metadata lives on the Java
 * heap, out of reach of stray native writes, so a use-after-free or an overflow in user code can never corrupt a
 * free stack into handing out a wild address.
 *
 * <h2>State and invariants</h2>
 * A block {@code b} (index in {@code [0, capacity)}) has two bits in {@link #bits}: <i>allocated</i>
 * ({@code bits[2w]}) and <i>claimed</i> ({@code bits[2w+1]}), with {@code w = b >>> 6}. Between operations of the
 * owner:
 * <pre>
 *   b >= carved                          : never handed out since the slab was carved; both bits 0
 *   b on the local free stack             : allocated 0, claimed 0
 *   b handed out                          : allocated 1, claimed 0
 *   b on the remote-free stack            : allocated 1, claimed 1   (freed by another thread, not yet drained)
 *
 *   used == carved - top == popcount(allocated)          (top: the local free stack's height)
 *   allocations >= carved                                 (every carved block was handed out once)
 * </pre>
 * so {@code used - |remote stack|} is the number of blocks the program holds, and a free of a block whose allocated
 * bit is 0, or whose claimed bit is 1, is a double free, detected exactly.
 *
 * <h2>The local free stack</h2>
 * The owner's free blocks are a stack of block indices in an array, not a list linked through the blocks:
 * <pre>
 *   free[]:  | 7 | 3 | 12 | 5 |   ...   |        malloc pops free[top - 1], the owner's free pushes at free[top]
 *            0              top        capacity
 * </pre>
 * Its height is its count, so {@code used} is not counted on either path ({@code carved - top}), and the free that
 * empties the slab is seen by comparing {@code top} with {@code carved}; a pop's index does not wait on a link loaded
 * from the block popped before. Every push is an allocated bit going from 1 to 0 by the owner, every pop one going
 * from 0 to 1, and a rebuild lists each free block once, so an index is on the stack at most once and
 * {@code top <= carved <= capacity}.
 * <p>
 * The height shares one {@code long} with the count of blocks ever handed out ({@link #stack}):
 * <pre>
 *   stack:  | allocations (48 bits)                          | top (16 bits) |
 *   pop:    stack += ONE_ALLOCATION - 1        push: stack += 1        carve: stack += ONE_ALLOCATION
 * </pre>
 * so a malloc reads and writes one field for its pop and its count, where it read and wrote two (issue 11: counting
 * that costs nothing on the hot path). {@code top <= capacity < 2^16}, so a push never carries into the count.
 *
 * <h2>Threads</h2>
 * The owner (the heap whose SuperSlab this is) alone touches {@code free}, {@code stack}, {@code carved} and the
 * allocated words, all plain on its hot paths ({@link #popFree}, {@link #freeLocal}; the reasons are written at each
 * access): opaque accesses there would stop the JIT from combining the bitmap word's read and write and from
 * scheduling the other loads around them. Other threads read the allocated words opaque, never a compiler-cached
 * value. Any thread may free a block remotely: it claims the block's bit with
 * one atomic OR (of racing frees of one block exactly one wins), then pushes the block onto the lock-free MPSC
 * stack headed by {@code remoteHead} with one CAS. The owner takes the whole stack with one atomic swap.
 * The local free stack is the array {@link #free}, the remote stack links through {@link #remoteNext}: a racing
 * double free in user code may put one block on both at once, and neither is spliced into the other (the drain then
 * notices the block is already free, see {@link #drain}).
 */
public final class Slab extends SlabLocalPadAfter {
    /** "No block": end of a list. Above any index, since capacity <= 4096. */
    public static final int NIL = 0xFFFF;

    /** Outcome of a free: the block went back. */
    public static final int FREED = 0;
    /** Outcome of a free: the block was not allocated (a double free, or never handed out). */
    public static final int NOT_ALLOCATED = 1;
    /** Outcome of a free: another thread freed the block already and the owner has not drained it yet. */
    public static final int ALREADY_CLAIMED = 2;

    /** A slab with nothing to hand out: every heap's initial current slab, so the fast path needs no null check. */
    public static final Slab SENTINEL = sentinel();

    private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final VarHandle REMOTE_HEAD;
    private static final VarHandle STACK;
    private static final VarHandle SAMPLED;
    private static final VarHandle SAMPLED_MARKS;
    private static final VarHandle OWNER_THREAD;

    static {
        try {
            REMOTE_HEAD = MethodHandles.lookup().findVarHandle(SlabRemote.class, "remoteHead", int.class);
            STACK = MethodHandles.lookup().findVarHandle(SlabLocal.class, "stack", long.class);
            SAMPLED = MethodHandles.lookup().findVarHandle(Slab.class, "sampled", int.class);
            SAMPLED_MARKS = MethodHandles.lookup().findVarHandle(Slab.class, "sampledMarks", long[].class);
            OWNER_THREAD = MethodHandles.lookup().findVarHandle(Slab.class, "ownerThread", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The SuperSlab this slab is carved from, and its slot there. */
    public final SuperSlab superSlab;
    public final int slot;
    /** First block's address; the slab's slot is {@code 1 << superSlab.slabShift} bytes. */
    public final long base;
    /**
     * log2 of the slot's size: {@code [base, base + 2^slotShift)} is this slab's and no other's. A copy of the
     * SuperSlab's {@code slabShift}, so that the free path's slot check ({@link #covers}) reads one object, not two.
     */
    public final int slotShift;
    public final int cls;
    public final int blockSize;
    public final int capacity;
    private final long recip;

    /** The local free stack: {@code free[0, top)} are free blocks, {@code free[top - 1]} the next popped. Owner only. */
    private final char[] free;
    /** Links of the remote-free stack, by block index; written by the pusher before its publishing CAS. */
    private final char[] remoteNext;
    /** Per 64 blocks: [2w] allocated bits (owner writes), [2w+1] claimed bits (atomic OR by freers). */
    private final long[] bits;

    /** The low bits of {@link #stack}: the local free stack's height. */
    private static final long TOP_MASK = 0xFFFF;
    /** What one block handed out adds to {@link #stack}: the count lives above the height. */
    private static final long ONE_ALLOCATION = 1L << 16;

    // ---- owner-only state: plain fields, see the class comment (stack and carved: see SlabLocal) ----
    /** Blocks at index >= carved read as zero (the slot was fresh or decommitted when the slab was carved). */
    private final boolean zeroTail;
    /** Position in the owner's list of slabs of this class, or -1 (current slab, or none). */
    private int listIndex = -1;
    /**
     * Whether this is its owner heap's current slab of its class, the one its mallocs pop. The owner's free tests it
     * on the slab it holds, so that a free emptying the current slab (every free of a malloc/free loop) does not load
     * SuperSlab, owner heap and its {@code current[]} to find out that nothing is to be retired. Written by the owner
     * heap whenever its {@code current[]} changes; owner only, plain. Quiescent, checked by the heap's check: true
     * exactly for the slabs in its {@code current[]}.
     */
    private boolean current;
    /** Double frees that raced and were only noticed when draining (counted, the block kept consistent). */
    private int lateDoubleFrees;
    /**
     * Set when the slab leaves its slot; a Slab object is never carved again. Written by whoever owns the SuperSlab
     * then (its heap, or the maintenance thread reclaiming it abandoned); read plain by the owner's free, which
     * happens-after that write: it is the same thread, or ownership passed on through the pool or an adoption, both
     * of which synchronize.
     */
    private boolean retired;
    /**
     * A copy of the SuperSlab's owner thread, or null once the slab retired: what the owner's free tests, in the
     * object it reads anyway, instead of two dependent loads (SuperSlab, then its owner) and the retired flag.
     * Written by whoever changes the SuperSlab's owner ({@link SuperSlab#setOwnerOpaque}, for every slab in a slot)
     * and by whoever retires the slab; set from the SuperSlab at carve. Quiescent, checked by
     * {@link #checkInvariants}: equal to the SuperSlab's owner thread. A thread reads itself here only while it
     * owns the slab (see {@link #ownerThreadPlain}).
     */
    private Thread ownerThread;

    /**
     * Blocks of this slab marked sampled: the profiler ({@code dev.hakmem.site.Profiler}) remembers them. The free
     * of a block of a slab where this is 0 pays one opaque load here and nothing more; otherwise it tests the
     * block's mark. Changed only by volatile atomic adds, +1 before a mark is set and -1 after one is cleared, so it
     * never falls below the number of marks. Quiescent, checked by {@link #checkInvariants}: equal to the number of
     * marks, each on a live block; and by the allocator's {@code check()}: a mark for each block the profiler
     * remembers. A free of sampled block b happens-after b's +1 (the program passed b on), and every add reads the
     * one before it in their total order, so that free reads at least 1: it cannot miss its own mark.
     */
    @SuppressWarnings("unused")
    private volatile int sampled;
    /**
     * One bit per block, set while the block is marked sampled; null until the first mark. Created by the owner
     * (the only thread that marks: its sampling malloc) and published with a release store; read with an acquire
     * load. A freer that reads null cannot be freeing a marked block: that block's mark happened-before the free.
     */
    @SuppressWarnings("unused")
    private long[] sampledMarks;

    Slab(SuperSlab superSlab, int slot, int cls, int blockSize, boolean zeroTail) {
        this.superSlab = superSlab;
        this.slot = slot;
        this.base = superSlab.base + ((long) slot << superSlab.slabShift);
        this.slotShift = superSlab.slabShift;
        this.cls = cls;
        this.blockSize = blockSize;
        this.capacity = (1 << superSlab.slabShift) / blockSize;
        this.recip = SizeClasses.reciprocal(blockSize);
        this.free = new char[capacity];
        this.remoteNext = new char[capacity];
        this.bits = new long[2 * ((capacity + 63) >>> 6)];
        this.zeroTail = zeroTail;
        this.ownerThread = superSlab.ownerThreadOpaque();
        assert capacity >= 2 && capacity < NIL : capacity;
    }

    private static Slab sentinel() {
        // Never registered, so no free can reach it.
        SuperSlab nowhere = new SuperSlab(0, SuperSlab.SIZE, SizeClasses.SMALL_SHIFT, false, false);
        Slab s = new Slab(nowhere, 0, 0, 16, false);
        s.carved = s.capacity;
        return s;
    }

    // ------------------------------------------------------------------ addresses

    /** Whether {@code address} lies in this slab's slot (any long: one unsigned range check). */
    public boolean covers(long address) {
        return (address - base) >>> slotShift == 0;
    }

    /** The index of the block starting at {@code address} (inside this slab's slot), or -1 if none starts there. */
    public int indexOf(long address) {
        long off = address - base;
        int b = (int) ((off * recip) >>> SizeClasses.RECIP_SHIFT);
        return (long) b * blockSize == off && b < capacity ? b : -1;
    }

    /** The index of the block that contains {@code address} (inside this slab's slot), or -1 in the unused tail. */
    public int indexContaining(long address) {
        int b = (int) (((address - base) * recip) >>> SizeClasses.RECIP_SHIFT);
        return b < capacity ? b : -1;
    }

    public long address(int b) {
        return base + (long) b * blockSize;
    }

    // ------------------------------------------------------------------ owner: allocate

    /**
     * Owner: takes a block from the local free stack, or -1 if it is empty. A popped block must have both bits 0;
     * if not (only possible after a racing double free in user code) the stack is rebuilt from the bitmaps, which
     * are the truth, and the pop retried.
     */
    public int popFree() {
        long st = stack;
        int t = (int) (st & TOP_MASK) - 1;
        if (t < 0) {
            return -1;
        }
        int b = free[t];
        int w = b >>> 6;
        long bit = 1L << b;
        long a = bits[2 * w];
        if (b >= carved || ((a | claimedPlain(w)) & bit) != 0) {
            return popFreeRebuilt();
        }
        stack = st - 1 + ONE_ALLOCATION;
        setAllocatedPlain(w, a | bit);
        return b;
    }

    /** Slow path of {@link #popFree}, kept out of it so that the hot path compiles small and inlines. */
    private int popFreeRebuilt() {
        rebuildFreeList();
        return popFree();
    }

    /** Owner: hands out the next never-used block, or -1 if the slab is fully carved. */
    public int carve() {
        if (carved == capacity) {
            return -1;
        }
        int b = carved++;
        int w = b >>> 6;
        stack += ONE_ALLOCATION;
        setAllocatedPlain(w, bits[2 * w] | (1L << b));
        return b;
    }

    /** Whether a block at index {@code b}, just carved, reads as zero. */
    public boolean carvedZero() {
        return zeroTail;
    }

    /** Owner: block {@code b}, whose allocated bit it just cleared, goes on the local free stack. */
    private void push(int b) {
        long st = stack;
        free[(int) (st & TOP_MASK)] = (char) b;
        stack = st + 1;
    }

    /** Owner: the local free stack's height. */
    private int top() {
        return (int) (stack & TOP_MASK);
    }

    /** Blocks ever handed out from this slab (racy read by stats; exact when quiescent). */
    public long allocations() {
        return (long) STACK.getOpaque(this) >>> 16;
    }

    /** Owner: whether a block can be handed out without draining. */
    public boolean hasFree() {
        return top() > 0 || carved < capacity;
    }

    /** Owner: whether a block freed since it was carved can be handed out without draining (its pages were used). */
    public boolean hasFreed() {
        return top() > 0;
    }

    /** Owner: blocks allocated, including those freed remotely and not yet drained. */
    public int used() {
        return carved - top();
    }

    // ------------------------------------------------------------------ owner: free

    /** Owner: frees block {@code b} onto the local free stack. No atomic instruction, no ordered access. */
    public int freeLocal(int b) {
        int w = b >>> 6;
        long bit = 1L << b;
        long a = bits[2 * w];
        if ((a & bit) == 0) {
            return NOT_ALLOCATED;
        }
        if ((claimedPlain(w) & bit) != 0) {
            return ALREADY_CLAIMED;
        }
        setAllocatedPlain(w, a & ~bit);
        push(b);
        return FREED;
    }

    // ------------------------------------------------------------------ any thread: remote free

    /**
     * Any thread: frees block {@code b} of a slab it does not own. One atomic OR claims the block, one CAS (retried
     * under contention) pushes it on the MPSC stack.
     */
    public int freeRemote(int b) {
        int w = b >>> 6;
        long bit = 1L << b;
        // A free of a block that is plainly not allocated is refused without touching the claim bit, so the owner
        // never sees a transient claim on a block of its free stack.
        if ((allocatedOpaque(w) & bit) == 0) {
            return NOT_ALLOCATED;
        }
        // Claim, then read allocated again: the owner's drain clears allocated before it releases the claim, so a
        // claim that wins after that release also sees allocated == 0 (hb through the claim word's atomic ops).
        long prev = claimOr(w, bit);
        if ((prev & bit) != 0) {
            return ALREADY_CLAIMED;
        }
        if ((allocatedOpaque(w) & bit) == 0) {
            // Raced a free by the owner: undo, and have the owner rebuild its list, in case its pop skipped the block.
            claimAndNot(w, bit);
            rebuildRequested = true;
            return NOT_ALLOCATED;
        }
        int h;
        do {
            h = remoteHeadOpaque();
            // plain: published to the owner by the CAS below (volatile, so release) and its swap (acquire).
            remoteNext[b] = (char) h;
        } while (!casRemoteHead(h, b));
        return FREED;
    }

    /** Any thread: whether the remote stack has blocks to drain. */
    public boolean hasRemote() {
        return remoteHeadOpaque() != NIL || rebuildRequested;
    }

    /**
     * Owner: takes the whole remote stack with one swap and returns its blocks to the local free stack.
     * <p>
     * The claims are released per bitmap word, not per block: the walk gathers the blocks of a run of one word
     * (consecutive remote frees are mostly of neighbouring blocks, handed out in order), then {@link #releaseRun}
     * clears their allocated bits with one plain write and their claims with one atomic AND-NOT. A claim held a
     * little longer only refuses a free of a block already freed and not yet reclaimed, a double free either way.
     *
     * @return the number of blocks reclaimed
     */
    public int drain() {
        boolean inconsistent = rebuildRequested;
        if (inconsistent) {
            rebuildRequested = false;
        }
        int h = swapRemoteHead();
        int n = 0;
        // The run: word w's blocks taken off the stack so far, and w's allocated word, unchanged until the run ends.
        int w = -1;
        long taken = 0;
        long a = 0;
        // Bounded: a racing double free in user code could splice the lists; never loop forever on it.
        for (int steps = 0; h != NIL; steps++) {
            if (steps > capacity) {
                inconsistent = true;
                break;
            }
            int nx = remoteNext[h];
            if (h >>> 6 != w) {
                inconsistent |= releaseRun(w, taken, a);
                w = h >>> 6;
                taken = 0;
                a = bits[2 * w];
            }
            long bit = 1L << h;
            if ((taken & bit) != 0) {
                // Listed twice in one run: a stack spliced by a racing double free; the bitmaps are the truth.
                lateDoubleFrees++;
                inconsistent = true;
            } else if ((a & bit) != 0) {
                push(h);
                n++;
            }
            // A block not allocated raced a local free of it: the local one already listed it (see releaseRun).
            taken |= bit;
            h = nx;
        }
        inconsistent |= releaseRun(w, taken, a);
        if (inconsistent) {
            rebuildFreeList();
        }
        return n;
    }

    /**
     * Owner, ending a run of {@link #drain}: the blocks {@code taken} off the remote stack in word {@code w} (none
     * if {@code w < 0}), whose allocated word read {@code a}, lose their allocated bits, then their claims:
     * allocated first, claim second (see {@link #freeRemote}); the claim's volatile AND-NOT publishes the plain
     * write before it. A taken block not allocated is a remote free that raced a local free of the same block (a
     * double free in user code): counted, and its claim released too.
     *
     * @return whether such a block was found, so the local free stack must be rebuilt from the bitmaps
     */
    private boolean releaseRun(int w, long taken, long a) {
        if (w < 0) {
            return false;
        }
        long late = taken & ~a;
        setAllocatedPlain(w, a & ~taken);
        claimAndNot(w, taken);
        lateDoubleFrees += Long.bitCount(late);
        return late != 0;
    }

    /**
     * Owner: the local free stack becomes exactly the carved blocks with both bits 0, the lowest on top. A block
     * claimed but not allocated (a remote freer's claim about to be undone) is left off: the freer that undoes it
     * requests the next rebuild, which lists it.
     */
    private void rebuildFreeList() {
        int t = 0;
        for (int b = carved - 1; b >= 0; b--) {
            int w = b >>> 6;
            if (((bits[2 * w] | claimedOpaque(w)) & (1L << b)) == 0) {
                free[t++] = (char) b;
            }
        }
        stack = (stack & ~TOP_MASK) | t;
    }

    /** Owner: whether the slab left its slot (see {@link #retired}). */
    public boolean retiredPlain() {
        return retired;
    }

    void markRetired() {
        retired = true;
        setOwnerThreadOpaque(null);
    }

    /**
     * The owner test of the free's fast path: whether {@code caller} reads itself here. NOTE: plain is enough: a
     * thread reads itself only if its own write of itself (at carve or adoption) is the latest in its program order.
     * Ownership leaves a thread by its own write (retiring the slab) or after its death (abandonment clears it), so a
     * thread that no longer owns the slab has written something else since, or is dead; it never reads its own
     * earlier write. A field read, not the VarHandle's plain get: the same access, without the cast of its Object
     * result, a class check on the free's fast path.
     */
    public Thread ownerThreadPlain() {
        return ownerThread;
    }

    /** Opaque: other threads' checks read whole references; ordering comes from the ownership transfer itself. */
    void setOwnerThreadOpaque(Thread t) {
        OWNER_THREAD.setOpaque(this, t);
    }

    /** Owner: position in the owner heap's list of slabs of this class, or -1. */
    public int listIndex() {
        return listIndex;
    }

    public void setListIndex(int i) {
        listIndex = i;
    }

    /** Owner: whether this is its heap's current slab of its class (see {@link #current}). */
    public boolean isCurrent() {
        return current;
    }

    public void setCurrent(boolean c) {
        current = c;
    }

    /** Blocks marked sampled, an upper bound at all times: 0 on every free of a slab that holds none. */
    public int sampledOpaque() {
        return (int) SAMPLED.getOpaque(this);
    }

    /**
     * {@link #sampledOpaque}, read plain on the free paths. NOTE: plain is enough: the free of a marked block b
     * happens-after b's +1 (the program passed b on), and every add, a volatile read-modify-write, reads the one
     * before it; so no add before b's +1 can be the value read, and every later one leaves at least b's mark counted
     * until b's own free takes it off.
     */
    public int sampledPlain() {
        return (int) SAMPLED.get(this);
    }

    /** Owner, on block {@code b} before it hands it out: marks it sampled. */
    public void markSampled(int b) {
        long[] marks = (long[]) SAMPLED_MARKS.getAcquire(this);
        if (marks == null) {
            marks = new long[(capacity + 63) >>> 6];
            SAMPLED_MARKS.setRelease(this, marks);
        }
        SAMPLED.getAndAdd(this, 1);
        BITS.getAndBitwiseOr(marks, b >>> 6, 1L << b);
    }

    /**
     * Any thread, on block {@code b} it is about to free: clears the block's mark and returns whether it was set.
     * Of racing frees of one block (a double free in user code), exactly one gets true: the clear is atomic.
     */
    public boolean unmarkSampled(int b) {
        long[] marks = (long[]) SAMPLED_MARKS.getAcquire(this);
        long bit = 1L << b;
        if (marks == null || ((long) BITS.getOpaque(marks, b >>> 6) & bit) == 0
                || ((long) BITS.getAndBitwiseAnd(marks, b >>> 6, ~bit) & bit) == 0) {
            return false;
        }
        SAMPLED.getAndAdd(this, -1);
        return true;
    }

    /** Whether block {@code b} is marked sampled (racy; exact when quiescent). */
    public boolean isSampled(int b) {
        long[] marks = (long[]) SAMPLED_MARKS.getAcquire(this);
        return marks != null && ((long) BITS.getOpaque(marks, b >>> 6) & (1L << b)) != 0;
    }

    /** Double frees noticed only while draining. */
    public int lateDoubleFrees() {
        return lateDoubleFrees;
    }

    // ------------------------------------------------------------------ any thread: queries

    /** Whether block {@code b} is held by the program: allocated and not claimed by a remote free. Racy but safe. */
    public boolean isLive(int b) {
        int w = b >>> 6;
        long bit = 1L << b;
        return (allocatedOpaque(w) & bit) != 0 && (claimedOpaque(w) & bit) == 0;
    }

    /** Blocks held by the program (allocated and not claimed). Exact when the slab is quiescent. */
    public int liveCount() {
        int n = 0;
        for (int w = 0; w < bits.length / 2; w++) {
            n += Long.bitCount(allocatedOpaque(w) & ~claimedOpaque(w));
        }
        return n;
    }

    /** Visits the address of every block held by the program (racy; exact when quiescent). */
    public void forEachLive(java.util.function.LongConsumer visitor) {
        for (int w = 0; w < bits.length / 2; w++) {
            long live = allocatedOpaque(w) & ~claimedOpaque(w);
            while (live != 0) {
                visitor.accept(address(64 * w + Long.numberOfTrailingZeros(live)));
                live &= live - 1;
            }
        }
    }

    /** Blocks freed remotely and not yet drained. Exact when the slab is quiescent. */
    public int pendingCount() {
        int n = 0;
        for (int w = 0; w < bits.length / 2; w++) {
            n += Long.bitCount(allocatedOpaque(w) & claimedOpaque(w));
        }
        return n;
    }

    /**
     * Checks the invariants of the class comment, walking both stacks. For a quiescent slab, or by its owner.
     *
     * @return null when they hold, else what is wrong
     */
    public String checkInvariants() {
        int allocated = 0;
        for (int w = 0; w < bits.length / 2; w++) {
            allocated += Long.bitCount(allocatedOpaque(w));
            long claimedOnly = claimedOpaque(w) & ~allocatedOpaque(w);
            if (claimedOnly != 0) {
                return "block " + (64 * w + Long.numberOfTrailingZeros(claimedOnly)) + " claimed but not allocated";
            }
        }
        int top = top();
        if (top > carved) {
            return "free stack of height " + top + " with " + carved + " blocks carved";
        }
        // Every carved block was handed out once (used <= carved then follows from top >= 0).
        if (allocations() < carved) {
            return "counts " + allocations() + " blocks handed out, but " + carved + " were carved";
        }
        boolean[] seen = new boolean[capacity];
        for (int i = 0; i < top; i++) {
            int b = free[i];
            if (b >= carved || seen[b]) {
                return "free stack holds block " + b + (b >= carved ? " beyond carved " + carved : " twice");
            }
            if (!isFreeState(b)) {
                return "free-stack block " + b + " has its allocated or claimed bit set";
            }
            seen[b] = true;
        }
        for (int b = carved; b < capacity; b++) {
            if (!isFreeState(b)) {
                return "uncarved block " + b + " has a bit set";
            }
        }
        // With the stack sound, this fails exactly when a carved free block is missing from it.
        if (allocated != used()) {
            return "used " + used() + " (carved " + carved + " - free " + top + ") but " + allocated
                    + " allocated bits";
        }
        if (OWNER_THREAD.getOpaque(this) != superSlab.ownerThreadOpaque()) {
            return "its owner thread " + OWNER_THREAD.getOpaque(this) + " is not its SuperSlab's, "
                    + superSlab.ownerThreadOpaque();
        }
        String marks = checkSampledMarks();
        if (marks != null) {
            return marks;
        }
        int remote = 0;
        for (int b = remoteHeadOpaque(); b != NIL && remote <= capacity; b = remoteNext[b], remote++) {
            if (b >= carved || isLive(b) || (allocatedOpaque(b >>> 6) & (1L << b)) == 0) {
                return "remote stack holds block " + b + " that is not allocated and claimed";
            }
        }
        return pendingCount() == remote ? null : "remote stack has " + remote + " blocks, " + pendingCount()
                + " claimed";
    }

    /** The count of sampled blocks equals the marks, and each mark is on a live block. */
    private String checkSampledMarks() {
        long[] marks = (long[]) SAMPLED_MARKS.getAcquire(this);
        int marked = 0;
        for (int w = 0; marks != null && w < marks.length; w++) {
            long m = (long) BITS.getOpaque(marks, w);
            long notLive = m & ~(allocatedOpaque(w) & ~claimedOpaque(w));
            if (notLive != 0) {
                return "block " + (64 * w + Long.numberOfTrailingZeros(notLive)) + " is marked sampled but is not live";
            }
            marked += Long.bitCount(m);
        }
        return marked == sampledOpaque() ? null : "counts " + sampledOpaque() + " sampled blocks but " + marked
                + " are marked";
    }

    private boolean isFreeState(int b) {
        int w = b >>> 6;
        return ((allocatedOpaque(w) | claimedOpaque(w)) & (1L << b)) == 0;
    }

    // ------------------------------------------------------------------ ordering-named accessors

    private long allocatedOpaque(int w) {
        return (long) BITS.getOpaque(bits, 2 * w);
    }

    /**
     * The owner's hot paths' write of an allocated word. NOTE: plain is enough. Every thread that must see it has a
     * happens-before edge to it: a remote freer got the block from the program after this malloc, and the claim's
     * atomic operations order the drain's clear before the next claimer's re-read (see {@link #freeRemote}). Racy
     * readers (stats, check) read opaque and see this value or an older whole one: a long store is never split on
     * the 64-bit VMs this library runs on (JLS 17.7 leaves that to the VM).
     */
    private void setAllocatedPlain(int w, long value) {
        bits[2 * w] = value;
    }

    private long claimedOpaque(int w) {
        return (long) BITS.getOpaque(bits, 2 * w + 1);
    }

    /**
     * The owner's hot paths' read of a claimed word. NOTE: plain is enough. A remote free that happened-before this
     * access is seen; one that did not races a free or a malloc of the same block by the owner, a double free in
     * user code, which the drain finds and repairs from the bitmaps either way (see {@link #drain}).
     */
    private long claimedPlain(int w) {
        return bits[2 * w + 1];
    }

    /** Volatile atomic OR: the claim. */
    private long claimOr(int w, long bit) {
        return (long) BITS.getAndBitwiseOr(bits, 2 * w + 1, bit);
    }

    /** Volatile atomic AND-NOT: releases a claim. Atomic because freers set other bits of the word concurrently. */
    private void claimAndNot(int w, long bit) {
        BITS.getAndBitwiseAnd(bits, 2 * w + 1, ~bit);
    }

    private int remoteHeadOpaque() {
        return (int) REMOTE_HEAD.getOpaque(this);
    }

    /** Volatile CAS: releases the pusher's write of remoteNext[b] to the owner's swap. */
    private boolean casRemoteHead(int expected, int b) {
        return REMOTE_HEAD.compareAndSet(this, expected, b);
    }

    /** Volatile swap: acquires every push that happened before it. */
    private int swapRemoteHead() {
        return (int) REMOTE_HEAD.getAndSet(this, NIL);
    }

    @Override
    public String toString() {
        return "Slab[class " + cls + ", " + blockSize + " B x " + capacity + " at 0x" + Long.toHexString(base)
                + ", used " + used() + ", carved " + carved + "]";
    }
}
