package dev.hakmem.bench.peer;

/**
 * A peer cannot run on this machine, typically because its native library is not installed. Its message says
 * what is missing and how to provide it; it carries no stack trace because the message is the whole story.
 */
public final class PeerUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PeerUnavailableException(String message) {
        super(message, null, false, false);
    }
}
