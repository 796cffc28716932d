package io.streamlease.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

/**
 * The long configuration of the chaos harness: sessions submitted without pause while faults of every kind hit the
 * fleet at random intervals, drawn from a seed; at the end everything is drained and verified, and a markdown report
 * is written. With {@code --topology all} (the default) it runs three fleets one after the other, each on a fresh
 * Redis: a standalone Redis with keyspace notifications on ({@code auto}), the same with them off, and a Sentinel
 * group (keyspace notifications {@code auto}), each for a third of the duration. The standalone fleets draw from
 * every instance fault, the malformed burst and the standalone Redis faults (SIGSTOP of 3 x hb and of 30 s, a restart
 * from the append-only file, a kill without persistence); the Sentinel fleet from the instance faults, the burst and
 * Sentinel failovers.
 *
 * <pre>
 * ./mvnw -B -pl chaos -am package -DskipTests
 * java -jar chaos/target/stream-lease-chaos.jar --duration 30m --seed 42
 * </pre>
 *
 * Options: {@code --duration} (30m), {@code --seed} (42), {@code --instances} (3), {@code --rate} sessions per
 * second (6), {@code --topology all|standalone|sentinel} (all), {@code --keyspace both|auto|off} (both: for the
 * standalone fleets), {@code --report} (chaos/target/chaos-soak/report.md), {@code --work-dir}
 * (chaos/target/chaos-soak), {@code --jar} (sample-app/target/stream-lease-sample-app-*.jar). Exits with 1 when a
 * violation was found.
 */
public final class Soak {

	private static final Duration MIN_ROUND = Duration.ofSeconds(20);

	private static final Duration MAX_ROUND = Duration.ofSeconds(45);

	private Soak() {
	}

	public static void main(String[] args) throws IOException {
		Duration duration = Duration.ofMinutes(30);
		long seed = 42;
		int instances = 3;
		Double rate = null;
		String keyspace = "both";
		String topology = "all";
		Path report = Path.of("chaos/target/chaos-soak/report.md");
		Path workDir = Path.of("chaos/target/chaos-soak");
		Path jar = null;
		for (int i = 0; i < args.length; i++) {
			String value = (i + 1 < args.length) ? args[i + 1] : null;
			switch (args[i]) {
				case "--duration" -> duration = parseDuration(value);
				case "--seed" -> seed = Long.parseLong(value);
				case "--instances" -> instances = Integer.parseInt(value);
				case "--rate" -> rate = Double.parseDouble(value);
				case "--keyspace" -> keyspace = value;
				case "--topology" -> topology = value;
				case "--report" -> report = Path.of(value);
				case "--work-dir" -> workDir = Path.of(value);
				case "--jar" -> jar = Path.of(value);
				default -> throw new IllegalArgumentException("Unknown option " + args[i] + "; options: --duration 30m "
						+ "--seed 42 --instances 3 --rate 6 --topology all|standalone|sentinel --keyspace both|auto|off "
						+ "--report <file> --work-dir <dir> "
						+ "--jar <sample jar>");
			}
			i++;
		}
		if (!List.of("both", "auto", "off").contains(keyspace)) {
			throw new IllegalArgumentException("--keyspace must be both, auto or off, not " + keyspace);
		}
		if (!List.of("all", "standalone", "sentinel").contains(topology)) {
			throw new IllegalArgumentException("--topology must be all, standalone or sentinel, not " + topology);
		}
		ChaosSettings settings = ChaosSettings.defaults((jar != null) ? jar : findSampleJar(), workDir)
			.withSeed(seed)
			.withInstances(instances);
		if (rate != null) {
			settings = settings.withSessionsPerSecond(rate);
		}
		String command = "java -jar chaos/target/stream-lease-chaos.jar " + String.join(" ", args);
		Instant started = Instant.now();
		List<Phase> phases = new ArrayList<>();
		if (!topology.equals("sentinel")) {
			if (!keyspace.equals("off")) {
				phases.add(new Phase("soak, keyspace notifications auto", settings, seed, ""));
			}
			if (!keyspace.equals("auto")) {
				phases.add(new Phase("soak, keyspace notifications off", settings.withKeyspaceNotifications("off")
					.withSeed(seed + 1000), seed + 1000, " [keyspace off]"));
			}
		}
		if (!topology.equals("standalone")) {
			phases.add(new Phase("soak, Sentinel group, keyspace notifications auto",
					settings.withTopology(ChaosSettings.Topology.SENTINEL).withSeed(seed + 2000), seed + 2000,
					" [Sentinel]"));
		}
		List<RunReport> reports = new ArrayList<>();
		Duration left = duration;
		for (int i = 0; i < phases.size(); i++) {
			Phase phase = phases.get(i);
			Duration share = left.dividedBy(phases.size() - i);
			left = left.minus(share);
			reports.add(soak(phase.name(), phase.settings(), share, new Random(phase.seed()), phase.suffix()));
			write(report, markdown(command, started, reports));
		}
		String markdown = markdown(command, started, reports);
		write(report, markdown);
		System.out.println(markdown);
		System.out.println("Report written to " + report.toAbsolutePath());
		System.exit(reports.stream().allMatch(RunReport::passed) ? 0 : 1);
	}

	/**
	 * One fleet of the soak: its name, its settings, the seed of its random choices and the suffix of its labels.
	 */
	private record Phase(String name, ChaosSettings settings, long seed, String suffix) {
	}

	/**
	 * One fleet for the given time: back-to-back rounds of random length, each with one random fault (sometimes
	 * two at once) at a random moment, sessions submitted throughout; then drained and verified.
	 */
	static RunReport soak(String name, ChaosSettings settings, Duration duration, Random random, String suffix) {
		List<FaultKind> kinds = FaultKind.mixFor(settings.topology());
		try (ChaosRun run = ChaosRun.start(name, settings)) {
			long end = System.nanoTime() + duration.toNanos();
			while (end - System.nanoTime() > MIN_ROUND.toNanos() && !run.feederFailed()) {
				long remaining = Math.min(end - System.nanoTime(), MAX_ROUND.toNanos());
				long length = MIN_ROUND.toNanos() + (long) (random.nextDouble() * (remaining - MIN_ROUND.toNanos()));
				long faultAt = Duration.ofSeconds(4).toNanos()
						+ (long) (random.nextDouble() * (length - Duration.ofSeconds(12).toNanos()));
				List<FaultKind> faults = new ArrayList<>();
				faults.add(kinds.get(random.nextInt(kinds.size())));
				if (random.nextDouble() < 0.25) {
					FaultKind second = kinds.get(random.nextInt(kinds.size()));
					if (second != faults.get(0) && !(second.redisFault() && faults.get(0).redisFault())) {
						faults.add(second);
					}
				}
				faults.sort(null);
				String label = String.join(" + ", faults.stream().map(FaultKind::description).toList()) + suffix;
				run.round(label, faults, Duration.ofNanos(length), Duration.ofNanos(faultAt), false);
			}
			return run.finish();
		}
	}

	private static void write(Path report, String markdown) throws IOException {
		if (report.getParent() != null) {
			Files.createDirectories(report.getParent());
		}
		Files.writeString(report, markdown);
	}

	static String markdown(String command, Instant started, List<RunReport> reports) {
		StringBuilder out = new StringBuilder();
		out.append("## Soak run of ").append(started).append("\n\n");
		out.append("```bash\n./mvnw -B -pl chaos -am package -DskipTests\n").append(command).append("\n```\n\n");
		out.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
			.append(System.getProperty("java.version")).append(", ").append(System.getProperty("os.name")).append(' ')
			.append(System.getProperty("os.arch")).append(". Verdict: **")
			.append(reports.stream().allMatch(RunReport::passed) ? "passed" : "FAILED").append("**.\n\n");
		for (RunReport report : reports) {
			out.append(report.markdown()).append('\n');
		}
		return out.toString();
	}

	static Duration parseDuration(String value) {
		String text = value.trim().toLowerCase(Locale.ROOT);
		if (text.startsWith("p")) {
			return Duration.parse(text.toUpperCase(Locale.ROOT));
		}
		long amount = Long.parseLong(text.replaceAll("[a-z]+$", ""));
		String unit = text.replaceAll("^[0-9]+", "");
		return switch (unit) {
			case "s", "" -> Duration.ofSeconds(amount);
			case "m", "min" -> Duration.ofMinutes(amount);
			case "h" -> Duration.ofHours(amount);
			default -> throw new IllegalArgumentException("Unknown duration " + value + "; use e.g. 600s, 30m or 1h");
		};
	}

	private static Path findSampleJar() throws IOException {
		Path target = Path.of("sample-app/target");
		if (Files.isDirectory(target)) {
			try (Stream<Path> files = Files.list(target)) {
				List<Path> jars = files.filter((path) -> path.getFileName().toString().matches("stream-lease-sample-app-.*\\.jar"))
					.toList();
				if (jars.size() == 1) {
					return jars.get(0);
				}
			}
		}
		throw new IllegalStateException("No sample-app/target/stream-lease-sample-app-*.jar under "
				+ Path.of("").toAbsolutePath() + "; run from the repository root after ./mvnw -B -pl chaos -am package -DskipTests, or pass --jar");
	}

}
