package dev.hakmem.os;

import dev.hakmem.PageSource;

/** A page source that forwards every call to another: tests extend it and override the call they watch or break. */
public class ForwardingPageSource implements PageSource {
    private final PageSource delegate;

    public ForwardingPageSource(PageSource delegate) {
        this.delegate = delegate;
    }

    @Override
    public long reserve(long size, long alignment) {
        return delegate.reserve(size, alignment);
    }

    @Override
    public void commit(long address, long size) {
        delegate.commit(address, size);
    }

    @Override
    public void decommit(long address, long size) {
        delegate.decommit(address, size);
    }

    @Override
    public void release(long address, long size) {
        delegate.release(address, size);
    }

    @Override
    public boolean trackResidency(long address, long size) {
        return delegate.trackResidency(address, size);
    }

    @Override
    public void residency(long address, long size, byte[] resident) {
        delegate.residency(address, size, resident);
    }

    @Override
    public boolean canProtect() {
        return delegate.canProtect();
    }

    @Override
    public void protect(long address, long size, boolean accessible) {
        delegate.protect(address, size, accessible);
    }

    @Override
    public long pageSize() {
        return delegate.pageSize();
    }
}
