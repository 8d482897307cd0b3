package dev.hakmem;

/**
 * A request that cannot be met: the OS refused memory, a configured limit was reached, or the size is beyond what
 * any tier can map. No half-built state is left behind.
 */
public class HakMemOutOfMemoryError extends OutOfMemoryError {
    private static final long serialVersionUID = 1L;

    /** The size of the request that failed, in bytes. */
    private final long requestedBytes;

    /**
     * A failed request; the message names its size and the reason.
     *
     * @param requestedBytes the size of the request, in bytes
     * @param reason         why it failed, e.g. the OS's error or the limit reached
     */
    public HakMemOutOfMemoryError(long requestedBytes, String reason) {
        super("hakmem cannot allocate " + requestedBytes + " bytes: " + reason);
        this.requestedBytes = requestedBytes;
    }

    /**
     * A failed request, with the error that made it fail.
     *
     * @param requestedBytes the size of the request, in bytes
     * @param reason         why it failed
     * @param cause          the error that made it fail, or null
     */
    public HakMemOutOfMemoryError(long requestedBytes, String reason, Throwable cause) {
        this(requestedBytes, reason);
        initCause(cause);
    }

    /** {@return the size of the request that failed, in bytes} */
    public long requestedBytes() {
        return requestedBytes;
    }
}
