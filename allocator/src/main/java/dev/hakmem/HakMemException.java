package dev.hakmem;

/**
 * Unchecked base of every error hakmem reports about the caller's use of the heap. After one is thrown the heap
 * is intact: every live block keeps its contents and allocation goes on.
 */
public class HakMemException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * An error with a message and no cause.
     *
     * @param message what the caller did wrong
     */
    public HakMemException(String message) {
        super(message);
    }

    /**
     * An error with a message and the exception that led to it.
     *
     * @param message what the caller did wrong
     * @param cause   the exception that led to it, or null
     */
    public HakMemException(String message, Throwable cause) {
        super(message, cause);
    }
}
