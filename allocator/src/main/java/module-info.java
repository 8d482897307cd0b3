/** hakmem-java: a fast, adaptive, verified off-heap memory allocator. Only {@code dev.hakmem} is API. */
module dev.hakmem {
    requires java.management;
    requires jdk.jfr;

    exports dev.hakmem;
}
