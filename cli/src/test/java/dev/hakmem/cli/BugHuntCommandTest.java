package dev.hakmem.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code hakmem bughunt}'s bounds are refused with a message before any run, rather than ending every run at once. */
class BugHuntCommandTest {

    private static String refused(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new HakMemCli());
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        String[] all = new String[args.length + 1];
        all[0] = "bughunt";
        System.arraycopy(args, 0, all, 1, args.length);
        assertEquals(CommandLine.ExitCode.USAGE, cl.execute(all));
        return err.toString();
    }

    @Test
    void aRunBoundOfNoAllocationsIsRefused() {
        assertTrue(refused("--max-millions", "0").contains("--max-millions must be positive"));
    }

    @Test
    void aRunBoundWhoseAllocationsOverflowALongIsRefused() {
        String err = refused("--max-millions", "10000000000000");
        assertTrue(err.contains("--max-millions must be at most " + Long.MAX_VALUE / 1_000_000), err);
    }
}
