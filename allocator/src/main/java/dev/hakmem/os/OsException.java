package dev.hakmem.os;

/** A system call failed; the message names the call, its arguments and errno. */
public final class OsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public OsException(String call, int errno) {
        super(call + " failed: errno " + errno + " (" + errnoName(errno) + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    private static String errnoName(int errno) {
        return switch (errno) {
            case 1 -> "EPERM";
            case 9 -> "EBADF";
            case 11 -> "EAGAIN";
            case 12 -> "ENOMEM";
            case 22 -> "EINVAL";
            default -> "see errno(3)";
        };
    }
}
