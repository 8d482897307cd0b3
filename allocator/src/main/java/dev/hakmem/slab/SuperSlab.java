package dev.hakmem.slab;

import dev.hakmem.registry.Region;
import dev.hakmem.registry.Registry;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A 2 MiB-aligned region split into {@code 2^(21 - slabShift)} equal slots, each holding at most one {@link Slab}.
 * Its geometry is final; a SuperSlab re-carved for another slab size is a new object registered over the old.
 *
 * <h2>Ownership</h2>
 * A SuperSlab belongs to one heap at a time, which alone carves and retires its slabs and allocates from them.
 * {@code ownerThread} is that heap's platform thread, or null (a heap shared by virtual threads, or no owner):
 * a thread that reads itself there is the owner, since only the owner writes itself in and only its death (or its
 * own give-back) takes it out. The life cycle, driven by CAS on {@code state}:
 * <pre>
 *   OWNED --(owner's thread died)--> ABANDONED --(CAS by an adopter)--> OWNED
 *                                    ABANDONED --(CAS by the maintenance thread)--> RECLAIMING --> ABANDONED | POOLED
 *   OWNED --(every slab retired)--> POOLED --(acquired)--> OWNED;   POOLED --(beyond the budget)--> RELEASED
 * </pre>
 */
public final class SuperSlab extends Region {
    public static final long SIZE = Registry.CHUNK;

    public static final int OWNED = 0;
    public static final int ABANDONED = 1;
    public static final int RECLAIMING = 2;
    public static final int POOLED = 3;
    public static final int RELEASED = 4;

    /** {@link #freeSince} of a slot with nothing to give back: it holds a slab, or reads as zero. */
    static final long CLEAN = Long.MIN_VALUE;
    /** At most one slot in this many of a SuperSlab keeps a stale layout under a Mid carve ({@link #relaid}). */
    static final int MAX_RELAID_SHARE = 4;

    private static final VarHandle SLABS = MethodHandles.arrayElementVarHandle(Slab[].class);
    private static final VarHandle STATE;
    private static final VarHandle OWNER_THREAD;
    private static final VarHandle OWNER;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            STATE = l.findVarHandle(SuperSlab.class, "state", int.class);
            OWNER_THREAD = l.findVarHandle(SuperSlab.class, "ownerThread", Thread.class);
            OWNER = l.findVarHandle(SuperSlab.class, "owner", SlabOwner.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    public final int slabShift;
    public final int slots;
    private final Slab[] slabs;

    // Owner-only slot bookkeeping (plain).
    private int usedSlots;
    /** Slot reads as zero: never written since mapped, or decommitted since. */
    private final boolean[] zero;
    /** Slot's pages were given back with madvise. */
    private final boolean[] decommitted;
    /**
     * Per slot, the class of the last slab carved there since its pages were last given back, or -1. A slab touches
     * the pages its blocks start and end on; carving the same class again touches the same pages, where another
     * class's block boundaries would dirty new ones (issue 11: a new thread's heap re-carving a dead one's slots for
     * other classes made the resident set grow by up to the whole slot each time). Kept across retire, the pool and
     * adoption; reset with the pages.
     */
    private final int[] lastClass;
    /**
     * Per slot, when it last became free with its pages dirty (System.nanoTime), or {@link #CLEAN}. Invariant
     * ({@link #checkSlots}): a slot holding a slab is CLEAN; a free slot is dirty with a free time exactly when it does
     * not read as zero, and reads as zero (never written, or given back) otherwise. The owner's sweep
     * ({@link SuperSlabPool#purgeSlots}) gives a dirty slot's pages back once it has stayed free for the purge delay.
     */
    private final long[] freeSince;
    /**
     * Per slot, whether it was carved over another class's layout since its pages were last given back: its pages
     * may hold that layout's stale pages beside the current one's (a block touches the pages it starts and ends on,
     * and a program that writes its blocks sparsely, as mid_large_mt_64k does, leaves the rest of the slot untouched
     * by the new layout). {@code relaidSlots} counts them; a Mid carve keeps a stale layout only in a slot relaid already
     * or while fewer than one slot in {@link #MAX_RELAID_SHARE} is ({@link #keepsStaleLayout}), which bounds what sparse writers
     * keep resident to a quarter of the SuperSlab beyond their layouts. Reset with the pages.
     */
    private final boolean[] relaid;
    private int relaidSlots;

    @SuppressWarnings("unused")
    private volatile int state;
    @SuppressWarnings("unused")
    private Thread ownerThread;
    @SuppressWarnings("unused")
    private SlabOwner owner;
    /** When the SuperSlab became POOLED (System.nanoTime), for the purge delay. Guarded by the pool's lock. */
    long pooledSince;

    SuperSlab(int heapId, long base, int slabShift, boolean zero, boolean decommitted) {
        super(heapId, base, SIZE);
        this.slabShift = slabShift;
        this.slots = 1 << (Registry.CHUNK_SHIFT - slabShift);
        this.slabs = new Slab[slots];
        this.zero = new boolean[slots];
        this.decommitted = new boolean[slots];
        java.util.Arrays.fill(this.zero, zero);
        java.util.Arrays.fill(this.decommitted, decommitted);
        this.lastClass = new int[slots];
        java.util.Arrays.fill(this.lastClass, -1);
        this.relaid = new boolean[slots];
        this.freeSince = new long[slots];
        // Memory written before this object (a pooled SuperSlab re-carved for another slot size) is dirty from now.
        java.util.Arrays.fill(this.freeSince, zero ? CLEAN : System.nanoTime());
    }

    public long slotBytes() {
        return 1L << slabShift;
    }

    /** The slab whose slot covers {@code address} (which must be inside this SuperSlab), or null. */
    public Slab slabAt(long address) {
        return slabAcquire((int) ((address - base) >>> slabShift));
    }

    /** acquire: pairs with the owner's release in {@link #carve}, so a found slab is fully built. */
    public Slab slabAcquire(int slot) {
        return (Slab) SLABS.getAcquire(slabs, slot);
    }

    // ------------------------------------------------------------------ owner: slots

    public boolean hasFreeSlot() {
        return usedSlots < slots;
    }

    public boolean isEmpty() {
        return usedSlots == 0;
    }

    /**
     * Owner: carves a slab of class {@code cls} in slot {@link #freeSlotFor freeSlotFor(cls)}. The caller commits the
     * slot first if needed.
     */
    public Slab carve(int cls, int blockSize) {
        int i = freeSlotFor(cls);
        if (i < 0) {
            throw new IllegalStateException("no free slot in " + this);
        }
        Slab s = new Slab(this, i, cls, blockSize, zero[i]);
        if (laidOutForOther(i, cls) && !relaid[i]) {
            relaid[i] = true;
            relaidSlots++;
        }
        zero[i] = false;
        lastClass[i] = cls;
        freeSince[i] = CLEAN;
        usedSlots++;
        // release: the slab is fully built before a freer's acquire load can find it.
        SLABS.setRelease(slabs, i, s);
        return s;
    }

    /**
     * Owner (or the pool, for a pooled SuperSlab under its lock): the slot the next {@link #carve} of {@code cls}
     * takes: a free slot that last held {@code cls} (its pages already dirty in that layout); else, in slots above
     * 64 KiB, one laid out for no class (never used, or given back: it dirties only the pages {@code cls} touches)
     * before one laid out for another class (whose pages a Mid carve gives back first, a madvise and a refault:
     * issue 11, mid_large_mt_64k); else, in 64 KiB slots, the first free one (a Tiny carve dirties its whole slot
     * anyway, so another class's dirty slot costs it no new page where a never-used one would). -1 if none is free.
     */
    public int freeSlotFor(int cls) {
        boolean blankFirst = prefersBlankSlots();
        int blank = -1;
        int other = -1;
        for (int i = 0; i < slots; i++) {
            if (slabs[i] == null) {
                if (lastClass[i] == cls) {
                    return i;
                }
                if (lastClass[i] == -1 || !blankFirst) {
                    blank = blank < 0 ? i : blank;
                } else {
                    other = other < 0 ? i : other;
                }
            }
        }
        return blank >= 0 ? blank : other;
    }

    /** Whether {@link #freeSlotFor} takes a slot laid out for no class before another class's: slots above 64 KiB. */
    public boolean prefersBlankSlots() {
        return slabShift > SizeClasses.SMALL_SHIFT;
    }

    /** Owner (or the pool, under its lock): whether a free slot last held a slab of {@code cls}. */
    public boolean hasFreeSlotOf(int cls) {
        int i = freeSlotFor(cls);
        return i >= 0 && lastClass[i] == cls;
    }

    /** Owner: whether free slot {@code slot} holds dirty pages, free since {@link #freeSince(int)}. */
    boolean isFreeDirty(int slot) {
        return freeSince[slot] != CLEAN;
    }

    /** Owner, or a check at rest: the first free slot that holds dirty pages, or -1 if none does. */
    public int firstFreeDirtySlot() {
        for (int i = 0; i < slots; i++) {
            if (isFreeDirty(i)) {
                return i;
            }
        }
        return -1;
    }

    /** Owner: when dirty free slot {@code slot} became free (System.nanoTime). */
    long freeSince(int slot) {
        return freeSince[slot];
    }

    public boolean isDecommitted(int slot) {
        return decommitted[slot];
    }

    public void markCommitted(int slot) {
        decommitted[slot] = false;
    }

    /** Owner: whether free slot {@code slot} holds pages dirtied in the layout of a class other than {@code cls}. */
    public boolean laidOutForOther(int slot, int cls) {
        return lastClass[slot] != -1 && lastClass[slot] != cls;
    }

    /**
     * Owner: whether a Mid carve may lay free slot {@code slot} out again without giving back the pages of the other
     * class's layout it holds: the slot is relaid already (its stale pages counted), or fewer than one slot in
     * {@link #MAX_RELAID_SHARE} is. Otherwise the carve gives them back first, one madvise and a refault.
     */
    public boolean keepsStaleLayout(int slot) {
        return relaid[slot] || relaidSlots < slots / MAX_RELAID_SHARE;
    }

    /** Owner: free slot {@code slot}'s pages were given back (see {@link SuperSlabPool#giveBackSlot}). */
    void markDecommitted(int slot) {
        if (relaid[slot]) {
            relaid[slot] = false;
            relaidSlots--;
        }
        zero[slot] = true;
        decommitted[slot] = true;
        lastClass[slot] = -1;
        freeSince[slot] = CLEAN;
    }

    /**
     * Owner: empties a slot at {@code now} (System.nanoTime). Its pages stay committed and dirty, free from then:
     * {@code zero} and {@code decommitted} are already false for a carved slot (carve clears the one, the commit
     * before it the other); the owner's sweep gives them back after the purge delay, or the pool's purge with the
     * whole SuperSlab.
     */
    public void retire(Slab s, long now) {
        s.markRetired();
        SLABS.setRelease(slabs, s.slot, null);
        freeSince[s.slot] = now;
        usedSlots--;
    }

    /** Bytes of slots whose pages were not given back. */
    public long committedBytes() {
        long n = 0;
        for (boolean d : decommitted) {
            n += d ? 0 : slotBytes();
        }
        return n;
    }

    /** Whether every slot reads as zero. */
    public boolean allZero() {
        for (boolean z : zero) {
            if (!z) {
                return false;
            }
        }
        return true;
    }

    /** Owner or pool: every slot's pages were given back. */
    void markAllDecommitted() {
        for (int i = 0; i < slots; i++) {
            markDecommitted(i);
        }
    }

    /**
     * For {@code check()} on a quiescent heap: the slot bookkeeping agrees with the slots. {@code usedSlots} counts
     * the slots holding a slab; each slab sits in its own slot and is the last class carved there; a slot whose pages
     * read as zero or were given back remembers no class (its pages hold no layout); a free slot is dirty with a free
     * time, or reads as zero (see {@link #freeSince}). Returns null or the problem.
     */
    String checkSlots() {
        int used = 0;
        int relaid = 0;
        for (int i = 0; i < slots; i++) {
            Slab s = slabAcquire(i);
            if (s != null) {
                used++;
                if (s.slot != i || s.superSlab != this) {
                    return "slot " + i + " holds " + s + ", which records slot " + s.slot + " of " + s.superSlab;
                }
                if (lastClass[i] != s.cls) {
                    return "slot " + i + " holds a slab of class " + s.cls + " but remembers class " + lastClass[i];
                }
                if (freeSince[i] != CLEAN) {
                    return "slot " + i + " holds a slab but has a free time";
                }
            } else if ((freeSince[i] != CLEAN) == zero[i]) {
                return "free slot " + i + (zero[i] ? " reads as zero but has a free time"
                        : " is dirty but has no free time: its pages would never be given back");
            }
            relaid += this.relaid[i] ? 1 : 0;
            if (this.relaid[i] && zero[i]) {
                return "slot " + i + " reads as zero but counts as holding a stale layout";
            }
            if (decommitted[i] && !zero[i]) {
                return "slot " + i + " was given back but does not read as zero";
            }
            if ((zero[i] || decommitted[i]) && lastClass[i] != -1) {
                return "slot " + i + " reads as zero (" + zero[i] + ") or was given back (" + decommitted[i]
                        + ") but remembers the layout of class " + lastClass[i];
            }
        }
        if (relaid != relaidSlots) {
            return relaidSlots + " slots counted as relaid, but " + relaid + " are";
        }
        return used == usedSlots ? null : usedSlots + " slots counted as used, but " + used + " hold a slab";
    }

    // ------------------------------------------------------------------ ownership

    public int stateVolatile() {
        return (int) STATE.getVolatile(this);
    }

    public void setStateRelease(int s) {
        STATE.setRelease(this, s);
    }

    /** Volatile CAS: the one way out of ABANDONED, so exactly one adopter or reclaimer wins. */
    public boolean casState(int expected, int next) {
        return STATE.compareAndSet(this, expected, next);
    }

    /** Opaque: a thread only acts on seeing itself, which only it can have written. */
    public Thread ownerThreadOpaque() {
        return (Thread) OWNER_THREAD.getOpaque(this);
    }

    /**
     * The owner test of the free's fast path. NOTE: plain is enough: a thread reads itself here only if its own write
     * of itself is the latest in its program order. Ownership leaves a thread by its own write (a give-back) or after
     * its death, so a thread that is no longer the owner has written something else since, and reads that or a later
     * write of another thread; never its own earlier write.
     */
    public Thread ownerThreadPlain() {
        return (Thread) OWNER_THREAD.get(this);
    }

    /** Opaque: the heap that owns this SuperSlab, or null (pooled, abandoned); see {@link #setOwnerOpaque}. */
    public SlabOwner ownerOpaque() {
        return (SlabOwner) OWNER.getOpaque(this);
    }

    /**
     * Sets the owner, and the owner thread's copy in every slab in a slot (see {@code Slab.ownerThread}): before an
     * abandoned SuperSlab is queued, so a dead thread stays referenced nowhere, and by the adopter before it files
     * the slabs. Published to other threads by the state transition that follows or precedes it.
     */
    public void setOwnerOpaque(SlabOwner heap, Thread thread) {
        OWNER.setOpaque(this, heap);
        OWNER_THREAD.setOpaque(this, thread);
        for (int i = 0; i < slots; i++) {
            Slab s = slabAcquire(i);
            if (s != null) {
                s.setOwnerThreadOpaque(thread);
            }
        }
    }

    @Override
    protected void markReleased() {
        setStateRelease(RELEASED);
    }

    @Override
    public String toString() {
        return "SuperSlab[0x" + Long.toHexString(base) + ", " + slots + " x " + slotBytes() + " B, state "
                + stateVolatile() + "]";
    }
}
