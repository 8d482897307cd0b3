package dev.hakmem.slab;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.openjdk.jol.info.ClassLayout;
import org.openjdk.jol.info.FieldLayout;

/**
 * The layout {@link SlabRemote}'s padding promises, as the running JVM lays a {@link Slab} out (JOL reads the field
 * offsets): a cache line around the remote side (the fields a remote free writes) holds no field of the owner's and
 * does not reach the object's start, whatever the line's alignment. A field added to any class of the chain that
 * HotSpot places in a hole next to the remote side fails here.
 */
class SlabLayoutTest {
    private static final long LINE = 64;

    @Test
    void theRemoteSideSharesNoCacheLineWithTheOwnersFields() {
        ClassLayout layout = ClassLayout.parseClass(Slab.class);
        long remoteStart = Long.MAX_VALUE;
        long remoteEnd = Long.MIN_VALUE;
        for (FieldLayout f : layout.fields()) {
            if (f.hostClass().endsWith("SlabRemote")) {
                remoteStart = Math.min(remoteStart, f.offset());
                remoteEnd = Math.max(remoteEnd, f.offset() + f.size());
            }
        }
        assertTrue(remoteStart < remoteEnd, "no remote fields found:\n" + layout.toPrintable());
        assertTrue(remoteStart >= LINE, "the remote side is within a line of the object's start (and of the object"
                + " before it):\n" + layout.toPrintable());
        for (FieldLayout f : layout.fields()) {
            if (f.hostClass().endsWith(".Slab")) {
                boolean near = f.offset() + f.size() > remoteStart - LINE + 1 && f.offset() < remoteEnd + LINE - 1;
                assertFalse(near, f.name() + " at " + f.offset() + " may share a line with the remote side ["
                        + remoteStart + ", " + remoteEnd + "):\n" + layout.toPrintable());
            }
        }
    }
}
