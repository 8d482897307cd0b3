package dev.hakmem;

/**
 * The address is the start of a block of this heap, but that block is not allocated: it was freed already.
 * Detected exactly, in every mode, through each slab's allocated-block bitmap.
 */
public class DoubleFreeException extends InvalidFreeException {
    private static final long serialVersionUID = 1L;

    /**
     * A double free of the block at {@code address}.
     *
     * @param address the address that was refused
     * @param reason  why it was refused, for the message and {@link #reason()}
     */
    public DoubleFreeException(long address, String reason) {
        super(address, reason);
    }
}
