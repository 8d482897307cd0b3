package dev.hakmem.cli;

import dev.hakmem.bench.runner.BenchCommand;
import dev.hakmem.bench.runner.LearnCommand;
import dev.hakmem.bench.runner.ProfileCommand;
import dev.hakmem.bench.runner.SitesCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code hakmem} command. Each job is a subcommand: a module contributes one by adding its command class to
 * {@code subcommands} below (and itself as a dependency of this module).
 */
@Command(name = "hakmem",
        description = "hakmem-java: an off-heap memory allocator for Java on the FFM API.",
        mixinStandardHelpOptions = true,
        versionProvider = HakMemCli.Version.class,
        subcommands = {
                CommandLine.HelpCommand.class,
                StressCommand.class,
                BenchCommand.class,
                ProfileCommand.class,
                LearnCommand.class,
                SitesCommand.class,
                TopCommand.class,
                BugHuntCommand.class,
        })
public final class HakMemCli implements Runnable {

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new HakMemCli()).execute(args));
    }

    /** Without a subcommand there is nothing to do: say so with the list of commands (exit code 2). */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing command");
    }

    /** The version Maven wrote into the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = HakMemCli.class.getPackage().getImplementationVersion();
            return new String[] {"hakmem " + (version != null ? version : "(development build)")};
        }
    }
}
