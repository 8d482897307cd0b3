package dev.hakmem.bench.runner;

import jdk.jfr.Configuration;
import jdk.jfr.Recording;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.text.ParseException;

/**
 * The JFR recording of a trial's measured windows ({@code hakmem profile}): {@link TrialMain} starts it after the
 * warm-up and the baseline, when {@code -Dhakmem.profile.recording=FILE} names where it goes, and dumps it there after
 * the last window; without the property it does nothing. Started after the warm-up, not with
 * {@code -XX:StartFlightRecording}, so that the interpreter and the JIT's first tiers, which the warm-up exists to get
 * past, are not in the profile. JFR's own "profile" settings: an execution sample every 10 ms per running thread.
 */
final class MeasuredRecording implements AutoCloseable {
    static final String PROPERTY = "hakmem.profile.recording";
    private static final String SETTINGS = "profile";

    /** Null when no recording was asked for. */
    private final Recording recording;
    private final Path file;

    private MeasuredRecording(Recording recording, Path file) {
        this.recording = recording;
        this.file = file;
    }

    /**
     * Starts the recording that {@link #PROPERTY} asks for, or nothing.
     *
     * @throws IllegalStateException if the JDK has no "profile" settings
     */
    static MeasuredRecording start() {
        String target = System.getProperty(PROPERTY);
        if (target == null) {
            return new MeasuredRecording(null, null);
        }
        Configuration settings;
        try {
            settings = Configuration.getConfiguration(SETTINGS);
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("cannot read JFR's '" + SETTINGS + "' settings: " + e, e);
        }
        Recording recording = new Recording(settings);
        recording.setName("hakmem-profile");
        recording.start();
        return new MeasuredRecording(recording, Path.of(target));
    }

    /** Stops the recording and writes it to its file. */
    @Override
    public void close() {
        if (recording == null) {
            return;
        }
        try (recording) {
            recording.stop();
            recording.dump(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the recording to " + file, e);
        }
    }
}
