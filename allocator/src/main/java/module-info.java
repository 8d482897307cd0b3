/** hakmem-java: a fast, adaptive, verified off-heap memory allocator. Only {@code dev.hakmem} is API. */
module dev.hakmem {
    exports dev.hakmem;
}
