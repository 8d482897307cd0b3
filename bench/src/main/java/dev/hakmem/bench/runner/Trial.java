package dev.hakmem.bench.runner;

/** One child JVM's job: a workload on an allocator with a number of threads. */
record Trial(String workload, String allocator, int threads) {

    @Override
    public String toString() {
        return workload + " " + allocator + " t=" + threads;
    }
}
