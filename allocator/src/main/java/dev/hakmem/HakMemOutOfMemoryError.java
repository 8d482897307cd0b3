package dev.hakmem;

/**
 * A request that cannot be met: the OS refused memory, a configured limit was reached, or the size is beyond what
 * any tier can map. No half-built state is left behind.
 */
public class HakMemOutOfMemoryError extends OutOfMemoryError {
    private static final long serialVersionUID = 1L;

    private final long requestedBytes;

    public HakMemOutOfMemoryError(long requestedBytes, String reason) {
        super("hakmem cannot allocate " + requestedBytes + " bytes: " + reason);
        this.requestedBytes = requestedBytes;
    }

    public HakMemOutOfMemoryError(long requestedBytes, String reason, Throwable cause) {
        this(requestedBytes, reason);
        initCause(cause);
    }

    /** The size of the request that failed. */
    public long requestedBytes() {
        return requestedBytes;
    }
}
