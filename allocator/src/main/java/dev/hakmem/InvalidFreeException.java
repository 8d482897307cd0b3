package dev.hakmem;

/**
 * An address handed to {@code free}, {@code realloc} or {@code usableSize} is not the start of a live block of
 * this heap: a foreign address, an interior or misaligned pointer, a block of another heap. The allocator decided
 * this from its own metadata without dereferencing the address.
 */
public class InvalidFreeException extends HakMemException {
    private static final long serialVersionUID = 1L;

    /** The address that was refused. */
    private final long address;
    /** Why it was refused. */
    private final String reason;

    /**
     * A refusal of {@code address}; the message names the address in hexadecimal and the reason.
     *
     * @param address the address that was refused
     * @param reason  why it was refused, for the message and {@link #reason()}
     */
    public InvalidFreeException(long address, String reason) {
        super("invalid free of 0x" + Long.toHexString(address) + ": " + reason);
        this.address = address;
        this.reason = reason;
    }

    /** {@return the address that was passed in} */
    public long address() {
        return address;
    }

    /** {@return why the address was refused, e.g. "interior pointer (offset 24 into a 64-byte block)"} */
    public String reason() {
        return reason;
    }
}
