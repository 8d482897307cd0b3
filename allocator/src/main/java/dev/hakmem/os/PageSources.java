package dev.hakmem.os;

import dev.hakmem.PageSource;

import java.util.Locale;

/** Chooses the page source for this platform once. */
public final class PageSources {
    private static final PageSource SYSTEM = choose();

    private PageSources() {
    }

    public static PageSource system() {
        return SYSTEM;
    }

    private static PageSource choose() {
        // The mmap flag values are Linux's; other systems take the portable source.
        if (System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return MmapPageSource.load().orElseGet(ArenaPageSource::new);
        }
        return new ArenaPageSource();
    }
}
