package dev.hakmem.bench.workload;

/** A worker thread of a workload failed; the cause is the worker's exception. */
public final class WorkloadFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WorkloadFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
