package dev.hakmem.bench.runner;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * One PNG per workload: throughput bars per allocator grouped by thread count, and beside them the peak RSS growth
 * the same way. Allocators without a result there (skipped, failed) have no bar.
 */
final class ResultCharts {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 500;

    private ResultCharts() {
    }

    /** Writes {@code <workload>.png} for each workload into {@code directory}; returns the files. */
    static List<Path> write(Path directory, List<String> workloads, List<String> allocators, List<Integer> threadCounts,
                            List<TrialResult> results) throws IOException {
        // Charts are drawn off-screen: no display is needed, nor wanted in a terminal session.
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(directory);
        List<Path> files = new ArrayList<>();
        for (String workload : workloads) {
            List<TrialResult> rows = results.stream().filter(r -> r.trial().workload().equals(workload)).toList();
            CategoryChart throughput = chart(workload + ": throughput", "Mops/s (median)", allocators, threadCounts,
                    rows, TrialResult::medianMops);
            CategoryChart growth = chart(workload + ": peak RSS growth", "MiB", allocators, threadCounts, rows,
                    r -> r.peakGrowth() < 0 ? Double.NaN : r.peakGrowth() / (double) (1 << 20));
            Path file = directory.resolve(workload + ".png");
            BitmapEncoder.saveBitmap(List.of(throughput, growth), 1, 2, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            files.add(file);
        }
        return files;
    }

    private static CategoryChart chart(String title, String yTitle, List<String> allocators, List<Integer> threadCounts,
                                       List<TrialResult> rows, ToDoubleFunction<TrialResult> value) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("allocator").yAxisTitle(yTitle).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        for (int threads : threadCounts) {
            List<Double> values = new ArrayList<>();
            for (String allocator : allocators) {
                values.add(rows.stream().filter(r -> r.ok() && r.trial().threads() == threads
                                && r.trial().allocator().equals(allocator))
                        .mapToDouble(value).filter(v -> !Double.isNaN(v)).boxed().findFirst().orElse(null));
            }
            chart.addSeries("threads=" + threads, allocators, values);
        }
        return chart;
    }
}
