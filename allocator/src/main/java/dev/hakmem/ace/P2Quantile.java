package dev.hakmem.ace;

import java.util.Arrays;

/**
 * One quantile of a stream in constant space: the P² algorithm (Raj Jain and Imrich Chlamtac, "The P² Algorithm for
 * Dynamic Calculation of Quantiles and Histograms Without Storing Observations", CACM 28(10), 1985). The learner
 * watches the p99 of its windows' cost with it: to decide that learning has converged, and in CANARY to see the
 * cost drift.
 *
 * <p>Five markers keep the minimum, the p/2, p and (1+p)/2 quantiles and the maximum. Each marker has a height (its
 * estimate) and a position (how many observations are at or below it). Every observation moves the positions of the
 * markers above it by one, and the desired positions by {@code 0, p/2, p, (1+p)/2, 1}; a middle marker at least
 * one off its desired position (as in the paper: {@code d >= 1} or {@code d <= -1}), with a position free beside it
 * on that side, moves by one, its height by a piecewise-parabolic (P²) interpolation through its neighbours, or
 * linearly when the parabola would leave them:
 *
 * <pre>
 *   height  q0 &lt;=  q1   &lt;=  q2  &lt;=   q3     &lt;= q4
 *   pos     1  &lt;   n1   &lt;   n2  &lt;   n3     &lt;  n = count
 *   desired 1    1+(n-1)p/2 1+(n-1)p 1+(n-1)(1+p)/2  n
 * </pre>
 *
 * Until five observations have arrived they are kept and the quantile is exact (nearest rank).
 *
 * <p>Invariants (checked by {@link #check}): the positions are strictly increasing from 1 to the count, the heights
 * non-decreasing.
 */
public final class P2Quantile {
    private static final int MARKERS = 5;

    private final double p;
    /** The desired positions' increments per observation. */
    private final double[] increment;
    /** Marker heights: the first observations, sorted, until there are five. */
    private final double[] height = new double[MARKERS];
    /** Marker positions, 1-based; valid once count >= 5. */
    private final long[] position = new long[MARKERS];
    private final double[] desired = new double[MARKERS];
    private long count;

    /** @param p the quantile, in (0, 1) */
    public P2Quantile(double p) {
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("quantile must be in (0, 1): " + p);
        }
        this.p = p;
        this.increment = new double[] {0, p / 2, p, (1 + p) / 2, 1};
    }

    public long count() {
        return count;
    }

    /** Adds an observation; NaN and infinities are refused, as one would poison every later estimate. */
    public void add(double x) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("P2Quantile: an observation must be finite: " + x);
        }
        if (count < MARKERS) {
            height[(int) count++] = x;
            Arrays.sort(height, 0, (int) count);
            if (count == MARKERS) {
                for (int i = 0; i < MARKERS; i++) {
                    position[i] = i + 1;
                    desired[i] = 1 + 4 * increment[i];
                }
            }
            return;
        }
        int k;
        if (x < height[0]) {
            height[0] = x;
            k = 0;
        } else if (x >= height[4]) {
            height[4] = x;
            k = 3;
        } else {
            k = 0;
            while (x >= height[k + 1]) {
                k++;
            }
        }
        for (int i = k + 1; i < MARKERS; i++) {
            position[i]++;
        }
        for (int i = 0; i < MARKERS; i++) {
            desired[i] += increment[i];
        }
        count++;
        for (int i = 1; i <= 3; i++) {
            double d = desired[i] - position[i];
            if ((d >= 1 && position[i + 1] - position[i] > 1) || (d <= -1 && position[i - 1] - position[i] < -1)) {
                int step = d > 0 ? 1 : -1;
                double q = parabolic(i, step);
                height[i] = height[i - 1] < q && q < height[i + 1] ? q : linear(i, step);
                position[i] += step;
            }
        }
    }

    /** Whether the five markers are set: from then on the estimate is P²'s, before it is the few observations'. */
    public boolean warm() {
        return count >= MARKERS;
    }

    /** The estimate; NaN before the first observation. */
    public double estimate() {
        if (count == 0) {
            return Double.NaN;
        }
        if (count < MARKERS) {
            return height[(int) Math.max(0, Math.ceil(p * count) - 1)];
        }
        return height[2];
    }

    private double parabolic(int i, int d) {
        double below = position[i] - position[i - 1];
        double above = position[i + 1] - position[i];
        return height[i] + d / (double) (position[i + 1] - position[i - 1])
                * ((below + d) * (height[i + 1] - height[i]) / above
                + (above - d) * (height[i] - height[i - 1]) / below);
    }

    private double linear(int i, int d) {
        return height[i] + d * (height[i + d] - height[i]) / (position[i + d] - position[i]);
    }

    /** The invariants of the class javadoc; null or the problem. */
    public String check() {
        int n = (int) Math.min(count, MARKERS);
        for (int i = 1; i < n; i++) {
            if (height[i] < height[i - 1]) {
                return "P2Quantile: height " + i + " (" + height[i] + ") below height " + (i - 1) + " ("
                        + height[i - 1] + ")";
            }
        }
        if (count < MARKERS) {
            return null;
        }
        if (position[0] != 1 || position[4] != count) {
            return "P2Quantile: the end markers are at " + position[0] + " and " + position[4] + ", not 1 and "
                    + count;
        }
        for (int i = 1; i < MARKERS; i++) {
            if (position[i] <= position[i - 1]) {
                return "P2Quantile: position " + i + " (" + position[i] + ") not above position " + (i - 1) + " ("
                        + position[i - 1] + ")";
            }
        }
        return null;
    }
}
