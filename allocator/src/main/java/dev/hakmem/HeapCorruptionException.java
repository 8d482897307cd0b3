package dev.hakmem;

/** The heap's memory was written where it must not be: a canary or a poisoned freed block changed. */
public class HeapCorruptionException extends HakMemException {
    private static final long serialVersionUID = 1L;

    /** The block in which the corruption was found, 0 when it is not one place. */
    private final long address;

    /**
     * A corruption found at {@code address}.
     *
     * @param address the block (or structure) in which it was found, 0 when it is not one place
     * @param message what was found
     */
    public HeapCorruptionException(long address, String message) {
        super(message);
        this.address = address;
    }

    /** {@return the block in which the corruption was found, 0 when it is not one place} */
    public long address() {
        return address;
    }
}
