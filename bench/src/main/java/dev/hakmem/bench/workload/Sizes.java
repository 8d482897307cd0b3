package dev.hakmem.bench.workload;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.ToIntFunction;

/** The block sizes a workload asks for: one size, a uniform range, or fixed sizes drawn with weights. */
public final class Sizes {
    private final String label;
    private final ToIntFunction<SplittableRandom> draw;

    private Sizes(String label, ToIntFunction<SplittableRandom> draw) {
        this.label = label;
        this.draw = draw;
    }

    public static Sizes fixed(int size) {
        return new Sizes(Bytes.format(size), random -> size);
    }

    /** Uniform over {@code min..max}, both included. */
    public static Sizes uniform(int min, int max) {
        return new Sizes(Bytes.format(min) + ".." + Bytes.format(max), random -> random.nextInt(min, max + 1));
    }

    /** {@code sizes[i]} with probability {@code weights[i] / sum(weights)}. */
    public static Sizes weighted(int[] sizes, int[] weights) {
        if (sizes.length != weights.length || sizes.length == 0) {
            throw new IllegalArgumentException("one weight per size, at least one size");
        }
        int[] cumulative = weights.clone();
        Arrays.parallelPrefix(cumulative, Integer::sum);
        int total = cumulative[cumulative.length - 1];
        StringBuilder label = new StringBuilder();
        for (int i = 0; i < sizes.length; i++) {
            label.append(i == 0 ? "" : " + ").append(weights[i]).append(" x ").append(Bytes.format(sizes[i]));
        }
        return new Sizes(label.toString(), random -> {
            int ticket = random.nextInt(total);
            int i = 0;
            while (cumulative[i] <= ticket) {
                i++;
            }
            return sizes[i];
        });
    }

    int draw(SplittableRandom random) {
        return draw.applyAsInt(random);
    }

    @Override
    public String toString() {
        return label;
    }
}
