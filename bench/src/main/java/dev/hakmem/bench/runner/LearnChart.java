package dev.hakmem.bench.runner;

import dev.hakmem.LearningState;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * {@code learn.png}: the learning run over its windows, one panel above the other, all on the same window axis: the
 * cost (on a log scale; unscored windows, FROZEN's among them, left out), the learner's state, then each knob in force (W_MAX, big
 * threshold, retain budget, purge delay, and the counts of bridge classes and site rules). A vertical line marks
 * each phase change, named in the cost panel.
 */
final class LearnChart {
    private static final int WIDTH = 1100;
    private static final int PANEL_HEIGHT = 230;
    private static final double KiB = 1 << 10;
    private static final double MiB = 1 << 20;
    private static final LearningState[] STATES = LearningState.values();

    private LearnChart() {
    }

    static void write(Path file, List<LearnedWindow> windows) throws IOException {
        // Drawn off-screen: no display is needed, nor wanted in a terminal session.
        System.setProperty("java.awt.headless", "true");
        List<XYChart> panels = new ArrayList<>();
        // A log axis refuses a value <= 0: such a window is left out like an unscored one, not allowed to lose the run.
        XYChart cost = panel("cost per window (lower is better)", "cost", windows, "cost",
                w -> w.window().cost() > 0 ? w.window().cost() : Double.NaN);
        cost.getStyler().setYAxisLogarithmic(true);
        panels.add(cost);
        XYChart state = panel("learner's state", "", windows, "state", w -> w.window().state().ordinal());
        // The axis ends on states (XChart sizes it by the labels at its ends); ticks close enough for one per state.
        state.getStyler().setYAxisMin(0.0).setYAxisMax(STATES.length - 1.0).setYAxisTickMarkSpacingHint(30);
        state.getStyler().setyAxisTickLabelsFormattingFunction(LearnChart::stateName);
        panels.add(state);
        panels.add(panel("W_MAX", "wMax", windows, "wMax", w -> w.window().policy().wMax()));
        panels.add(panel("big threshold", "KiB", windows, "bigThreshold",
                w -> w.window().policy().bigThreshold() / KiB));
        panels.add(panel("retain budget", "MiB", windows, "retain", w -> w.window().policy().retainBytes() / MiB));
        panels.add(panel("purge delay", "ms", windows, "purge delay", w -> w.window().policy().purgeDelayMillis()));
        XYChart rules = panel("bridge classes and site rules", "count", windows, "bridge classes",
                w -> w.window().policy().bridgeClasses().length);
        addSeries(rules, "site rules", windows, w -> w.window().policy().sites().size());
        rules.getStyler().setLegendVisible(true);
        panels.add(rules);
        markPhases(panels, cost, windows);
        BitmapEncoder.saveBitmap(new ArrayList<>(panels), panels.size(), 1, file.toString(),
                BitmapEncoder.BitmapFormat.PNG);
    }

    private static XYChart panel(String title, String yTitle, List<LearnedWindow> windows, String series,
                                 ToDoubleFunction<LearnedWindow> value) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(PANEL_HEIGHT).title(title).xAxisTitle("window")
                .yAxisTitle(yTitle).build();
        // The title names a panel's one series; the one panel with two shows a legend inside.
        chart.getStyler().setLegendVisible(false).setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Step);
        addSeries(chart, series, windows, value);
        return chart;
    }

    /** A series over the windows; a NaN value (an unscored window's cost) is a gap. */
    private static void addSeries(XYChart chart, String name, List<LearnedWindow> windows,
                                  ToDoubleFunction<LearnedWindow> value) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (LearnedWindow w : windows) {
            double v = value.applyAsDouble(w);
            x.add((double) w.window().index());
            y.add(Double.isNaN(v) ? null : v);
        }
        if (x.isEmpty()) {
            // XChart refuses an empty series: a run without windows gets empty panels.
            return;
        }
        chart.addSeries(name, x, y).setMarker(SeriesMarkers.NONE);
    }

    /** A line where the phase a window ended in is not the previous window's, on every panel; its name on the first. */
    private static void markPhases(List<XYChart> panels, XYChart named, List<LearnedWindow> windows) {
        double top = windows.stream().mapToDouble(w -> w.window().cost()).filter(c -> !Double.isNaN(c)).max()
                .orElse(1);
        String previous = null;
        for (LearnedWindow w : windows) {
            String phase = last(w.phase());
            if (!phase.equals(previous)) {
                double x = w.window().index() - 0.5;
                panels.forEach(p -> p.addAnnotation(new AnnotationLine(x, true, false)));
                named.addAnnotation(new AnnotationText(phase, x + 1, top, false));
                previous = phase;
            }
        }
    }

    /** A state's name at its ordinal's tick, nothing between. */
    private static String stateName(double tick) {
        int ordinal = (int) Math.round(tick);
        return Math.abs(tick - ordinal) < 1e-9 && ordinal >= 0 && ordinal < STATES.length ? STATES[ordinal].name() : "";
    }

    /** The phase a window ended in: the last of "json>mir". */
    private static String last(String phases) {
        return phases.substring(phases.lastIndexOf('>') + 1);
    }
}
