package dev.hakmem;

/** The heap's memory was written where it must not be: a canary or a poisoned freed block changed. */
public class HeapCorruptionException extends HakMemException {
    private static final long serialVersionUID = 1L;

    private final long address;

    public HeapCorruptionException(long address, String message) {
        super(message);
        this.address = address;
    }

    /** The block in which the corruption was found. */
    public long address() {
        return address;
    }
}
