package dev.hakmem;

/**
 * Unchecked base of every error hakmem reports about the caller's use of the heap. After one is thrown the heap
 * is intact: every live block keeps its contents and allocation goes on.
 */
public class HakMemException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public HakMemException(String message) {
        super(message);
    }

    public HakMemException(String message, Throwable cause) {
        super(message, cause);
    }
}
