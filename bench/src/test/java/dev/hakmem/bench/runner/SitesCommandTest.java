package dev.hakmem.bench.runner;

import dev.hakmem.Policy;
import dev.hakmem.SiteProfile;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SitesCommandTest {

    private static int sites(StringWriter text, String... args) {
        CommandLine cli = new CommandLine(new SitesCommand());
        cli.setOut(new PrintWriter(text));
        cli.setErr(new PrintWriter(text));
        return cli.execute(args);
    }

    @Test
    void theLifetimeMixShowsItsTwoSitesWithTheirProfilesAndRules() {
        StringWriter text = new StringWriter();

        int exit = sites(text, "--seconds", "1");

        String output = text.toString();
        assertEquals(0, exit, output);
        assertTrue(output.contains("hakmem sites: lifetime_mix"), output);
        assertTrue(output.lines().anyMatch(l -> l.startsWith("  parse ")), output);
        assertTrue(output.lines().anyMatch(l -> l.startsWith("  cache ")), output);
        assertTrue(output.contains("policy in force: "), output);
    }

    @Test
    void aRowShowsTheEstimatesTheLifetimesTheLiveSamplesTheRemoteShareAndTheRule() {
        SiteProfile cache = new SiteProfile("cache", 10, 1000, 3 << 20, 0, new long[0], 4, 2_000_000,
                new long[] {1_000, 2_000_000, 3_000_000_000L, 40_000}, 6, new long[] {5}, 1);
        SiteProfile idle = new SiteProfile("idle", 0, 0, 0, 0, new long[0], 0, 0, new long[0], 0, new long[0], 0);
        Policy policy = Policy.builder().site(new Policy.SiteRule("cache", true, false)).build();

        String[] lines = SitesCommand.table(List.of(cache, idle), policy).split("\n");

        assertEquals("  cache                                1000         3.0    40.0 us     3.00 s       6   25.0%"
                + "  long-lived", lines[1]);
        assertEquals("  idle                                    0         0.0          -          -       0    0.0%  -",
                lines[2]);
    }

    @Test
    void lifetimesReadAsPeopleWriteThem() {
        assertEquals("850 ns", SitesCommand.lifetime(1, 850));
        assertEquals("12.3 us", SitesCommand.lifetime(1, 12_345));
        assertEquals("4.5 ms", SitesCommand.lifetime(1, 4_500_000));
        assertEquals("1.23 s", SitesCommand.lifetime(1, 1_234_000_000));
        assertEquals("-", SitesCommand.lifetime(0, 0));
    }

    @Test
    void modesAreTakenInAnyCaseAndUnknownOnesRefused() {
        StringWriter text = new StringWriter();
        assertEquals(2, sites(text, "--mode", "turbo"));
        assertTrue(text.toString().contains("not a mode: 'turbo' (minimal, fast, balanced, learning or research)"),
                text.toString());
        assertEquals(2, sites(text, "--workload", "nope"));
        assertTrue(text.toString().contains("unknown workload 'nope'"), text.toString());
        assertEquals(new SitesCommand.ModeConverter().convert("Balanced"), dev.hakmem.HakMemConfig.Mode.BALANCED);
    }
}
