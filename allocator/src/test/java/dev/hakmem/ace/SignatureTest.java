package dev.hakmem.ace;

import dev.hakmem.stats.SizeGrid;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SignatureTest {

    @Test
    void sharesArePerPowerOfTwoAndTheDistanceIsL1() {
        double[] a = new double[SizeGrid.BUCKETS];
        a[SizeGrid.bucketOf(40_000)] = 30;
        a[SizeGrid.bucketOf(60_000)] = 30;
        a[SizeGrid.bucketOf(20)] = 40;
        Signature s = Signature.of(a);
        assertEquals(100, s.samples());
        assertEquals(0.6, s.share(Signature.coarse(SizeGrid.bucketOf(32 << 10))), 1e-12,
                "40 000 and 60 000: one power of two");
        assertEquals(0.4, s.share(0), 1e-12);

        double[] b = new double[SizeGrid.BUCKETS];
        b[SizeGrid.bucketOf(33_000)] = 600;
        b[SizeGrid.bucketOf(1 << 20)] = 400;
        Signature t = Signature.of(b);
        assertEquals(0.8, s.distance(t), 1e-12, "0.4 moved from below 32 B to 1 MiB");
        assertEquals(s.distance(t), t.distance(s), 0);
        assertEquals(0, s.distance(s));
        assertEquals(1, Signature.of(new double[SizeGrid.BUCKETS]).distance(s), 1e-12, "no samples: all zeros");
    }

    @Test
    void disjointDistributionsAreTwoApartAndEveryBucketHasACoarseBucket() {
        double[] small = new double[SizeGrid.BUCKETS];
        double[] large = new double[SizeGrid.BUCKETS];
        small[0] = 1;
        large[SizeGrid.BUCKETS - 1] = 1;
        assertEquals(2, Signature.of(small).distance(Signature.of(large)), 1e-12);
        assertEquals(Signature.BUCKETS - 1, Signature.coarse(SizeGrid.BUCKETS - 1));
        assertEquals(0, Signature.of(new double[SizeGrid.BUCKETS]).samples());
        assertThrows(IllegalArgumentException.class, () -> Signature.of(new double[3]));
    }
}
