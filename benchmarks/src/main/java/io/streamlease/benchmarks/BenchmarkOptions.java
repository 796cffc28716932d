package io.streamlease.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What to run and how big: the full run by default, {@code --quick} for a small fast one; every size can be
 * overridden with {@code --name=value} (lists comma-separated, durations in seconds).
 */
final class BenchmarkOptions {

	static final List<String> ORDER = List.of("renewal", "failover", "handoff", "dispatch", "entry", "reading", "shipped",
			"cluster");

	static final Set<String> SCENARIOS = Set.copyOf(ORDER);

	final boolean quick;

	/** Render the report and charts again from the raw results in benchmarks/results/, without measuring. */
	final boolean reportOnly;

	final Path root;

	final Set<String> scenarios;

	// scenario 1: renewal cost
	final List<Integer> renewalSizes;

	final List<Duration> renewalHbIntervals;

	final int renewalWindows;

	/** Length of one measured window, in renewal periods of the engine (hb / 2). */
	final double renewalWindowTicks;

	/** How long our engine holds the largest N at the longest hb-interval, counting disowned leases. */
	final Duration soak;

	// scenario 2: failover
	final List<Integer> failoverSizes;

	final Duration failoverHb;

	final int noiseKeys;

	final int failoverRepetitions;

	final int failoverLargeRepetitions;

	final Duration eventsOnlyTimeout;

	// scenario 3: handoff
	final List<Integer> handoffSizes;

	final Duration handoffHb;

	final int handoffRepetitions;

	// scenario 4: dispatch
	final int dispatchBacklog;

	final int dispatchRepetitions;

	final List<Integer> dispatchRates;

	final Duration rateDuration;

	final int handlerThreads;

	// scenario 5: entry-level throughput
	final int entryStreams;

	final int entriesPerStream;

	final List<Integer> entryCheckpointEvery;

	final int entryRepetitions;

	// scenario 6: entry-level reading options, the reading pattern alone
	final List<Integer> readingSizes;

	final List<String> readingOptions;

	/** The per-stream option is measured only up to this many streams (above, it alone floods the server). */
	final int readingPerStreamMax;

	final Duration readingWindow;

	final int readingRate;

	// scenario 7: the product as shipped (the sample-app jar)
	final List<Integer> shippedSizes;

	final Duration shippedIdle;

	final int shippedRate;

	final Duration shippedRateDuration;

	/** The rate is written this long before the measured window. */
	final Duration shippedWarmup;

	/** How long the largest N stays held in all, from the moment all are held, counting disowned streams. */
	final Duration shippedHold;

	final int shippedThroughputStreams;

	final int shippedThroughputEntries;

	final int shippedCheckpointEvery;

	/** The sample-app jar; null: app/ beside the benchmark jar, else sample-app/target/ of the root. */
	final Path shippedJar;

	/** More JVM options for the sample app (for diagnosis: none in a measured run). */
	final List<String> shippedJvmOptions;

	// cluster variants of scenarios 1 and 2
	final int clusterMasters;

	final List<Integer> clusterRenewalSizes;

	final List<Duration> clusterRenewalHbIntervals;

	final List<Integer> clusterFailoverSizes;

	final int clusterFailoverRepetitions;

	/**
	 * Keep the raw results in benchmarks/results/ of the scenarios not run now, and render the report from all of
	 * them (the scenarios run now replace theirs).
	 */
	final boolean merge;

	private BenchmarkOptions(boolean quick, boolean reportOnly, boolean merge, Map<String, String> values) {
		this.quick = quick;
		this.merge = merge;
		this.reportOnly = reportOnly;
		this.root = Path.of(values.getOrDefault("root", ".")).toAbsolutePath().normalize();
		this.scenarios = Set.copyOf(strings(values.getOrDefault("scenarios", String.join(",", SCENARIOS))));
		for (String scenario : this.scenarios) {
			if (!SCENARIOS.contains(scenario)) {
				throw new IllegalArgumentException("Unknown scenario '" + scenario + "'; known: " + SCENARIOS);
			}
		}
		this.renewalSizes = integers(values.getOrDefault("renewal-sizes", quick ? "1000,5000" : "1000,10000,100000"));
		this.renewalHbIntervals = durations(values.getOrDefault("renewal-hb", quick ? "2" : "10,2"));
		this.renewalWindows = Integer.parseInt(values.getOrDefault("renewal-windows", quick ? "2" : "3"));
		this.renewalWindowTicks = Double.parseDouble(values.getOrDefault("renewal-window-ticks", quick ? "1" : "2"));
		this.soak = seconds(values.getOrDefault("soak", quick ? "15" : "180"));
		this.failoverSizes = integers(values.getOrDefault("failover-sizes", quick ? "10,1000" : "10,10000"));
		this.failoverHb = seconds(values.getOrDefault("failover-hb", "2"));
		this.noiseKeys = Integer.parseInt(values.getOrDefault("noise-keys", "10000"));
		this.failoverRepetitions = Integer.parseInt(values.getOrDefault("failover-reps", quick ? "1" : "3"));
		this.failoverLargeRepetitions = Integer.parseInt(values.getOrDefault("failover-large-reps", quick ? "1" : "2"));
		this.eventsOnlyTimeout = seconds(values.getOrDefault("events-only-timeout", quick ? "30" : "45"));
		this.handoffSizes = integers(values.getOrDefault("handoff-sizes", quick ? "100,1000" : "100,1000,10000"));
		this.handoffHb = seconds(values.getOrDefault("handoff-hb", "10"));
		this.handoffRepetitions = Integer.parseInt(values.getOrDefault("handoff-reps", quick ? "1" : "2"));
		this.dispatchBacklog = Integer.parseInt(values.getOrDefault("dispatch-backlog", quick ? "5000" : "50000"));
		this.dispatchRepetitions = Integer.parseInt(values.getOrDefault("dispatch-reps", quick ? "1" : "3"));
		this.dispatchRates = integers(values.getOrDefault("rates", "100,1000,5000"));
		this.rateDuration = seconds(values.getOrDefault("rate-duration", quick ? "4" : "8"));
		this.handlerThreads = Integer.parseInt(values.getOrDefault("handler-threads", "4"));
		this.entryStreams = Integer.parseInt(values.getOrDefault("entry-streams", "1000"));
		this.entriesPerStream = Integer.parseInt(values.getOrDefault("entries-per-stream", quick ? "20" : "1000"));
		this.entryCheckpointEvery = integers(values.getOrDefault("checkpoint-every", "100,1"));
		this.entryRepetitions = Integer.parseInt(values.getOrDefault("entry-reps", quick ? "1" : "2"));
		this.readingSizes = integers(values.getOrDefault("reading-sizes", quick ? "10000" : "10000,100000"));
		this.readingOptions = strings(values.getOrDefault("reading-options", "none,per-stream,multi-key,blocking,notified"));
		for (String option : this.readingOptions) {
			if (!EntryReadingCost.OPTIONS.contains(option)) {
				throw new IllegalArgumentException("Unknown reading option '" + option + "' in --reading-options; known: "
						+ EntryReadingCost.OPTIONS);
			}
		}
		this.readingPerStreamMax = Integer.parseInt(values.getOrDefault("reading-per-stream-max", "10000"));
		this.readingWindow = seconds(values.getOrDefault("reading-window", quick ? "5" : "15"));
		this.readingRate = Integer.parseInt(values.getOrDefault("reading-rate", "1000"));
		this.shippedSizes = integers(values.getOrDefault("shipped-sizes", quick ? "1000" : "1000,10000,100000"));
		this.shippedIdle = seconds(values.getOrDefault("shipped-idle", quick ? "10" : "60"));
		this.shippedRate = Integer.parseInt(values.getOrDefault("shipped-rate", "1000"));
		this.shippedRateDuration = seconds(values.getOrDefault("shipped-rate-duration", quick ? "10" : "30"));
		this.shippedWarmup = seconds(values.getOrDefault("shipped-warmup", quick ? "3" : "15"));
		this.shippedHold = seconds(values.getOrDefault("shipped-hold", quick ? "0" : "600"));
		this.shippedThroughputStreams = Integer.parseInt(values.getOrDefault("shipped-throughput-streams", "1000"));
		this.shippedThroughputEntries = Integer.parseInt(values.getOrDefault("shipped-throughput-entries", quick ? "100" : "1000"));
		this.shippedCheckpointEvery = Integer.parseInt(values.getOrDefault("shipped-checkpoint-every", "100"));
		this.shippedJar = values.containsKey("shipped-jar") ? Path.of(values.get("shipped-jar")).toAbsolutePath() : null;
		this.shippedJvmOptions = List.of(values.getOrDefault("shipped-jvm-options", "").trim().split("\\s+")).stream()
			.filter((option) -> !option.isBlank())
			.toList();
		this.clusterMasters = Integer.parseInt(values.getOrDefault("cluster-masters", "3"));
		this.clusterRenewalSizes = integers(values.getOrDefault("cluster-renewal-sizes", quick ? "1000" : "1000,10000"));
		this.clusterRenewalHbIntervals = durations(values.getOrDefault("cluster-renewal-hb", quick ? "2" : "10"));
		this.clusterFailoverSizes = integers(values.getOrDefault("cluster-failover-sizes", quick ? "10" : "10,3000"));
		this.clusterFailoverRepetitions = Integer.parseInt(values.getOrDefault("cluster-failover-reps", quick ? "1" : "2"));
	}

	static BenchmarkOptions parse(String[] args) {
		boolean quick = false;
		boolean reportOnly = false;
		boolean merge = false;
		Map<String, String> values = new LinkedHashMap<>();
		for (String arg : args) {
			if (arg.equals("--quick")) {
				quick = true;
			}
			else if (arg.equals("--report-only")) {
				reportOnly = true;
			}
			else if (arg.equals("--merge")) {
				merge = true;
			}
			else if (arg.startsWith("--") && arg.contains("=")) {
				int eq = arg.indexOf('=');
				values.put(arg.substring(2, eq), arg.substring(eq + 1));
			}
			else {
				throw new IllegalArgumentException("Unknown argument '" + arg + "'. Use --quick, --report-only, --merge and --name=value, e.g. "
						+ "--scenarios=renewal,failover --renewal-sizes=1000,10000 --root=/path/to/repository");
			}
		}
		return new BenchmarkOptions(quick, reportOnly, merge, values);
	}

	boolean runs(String scenario) {
		return this.scenarios.contains(scenario);
	}

	Path resultsDirectory() {
		return this.root.resolve("benchmarks").resolve("results");
	}

	Path docsDirectory() {
		return this.root.resolve("docs");
	}

	/** The options as they were understood, for the report. */
	Map<String, Object> describe() {
		Map<String, Object> described = new LinkedHashMap<>();
		described.put("mode", this.quick ? "quick" : "full");
		described.put("scenarios", ORDER.stream().filter(this.scenarios::contains).toList());
		described.put("renewal sizes", this.renewalSizes);
		described.put("renewal hb-intervals", this.renewalHbIntervals.stream().map(BenchmarkOptions::format).toList());
		described.put("renewal windows per case", this.renewalWindows);
		described.put("renewal window length (engine renewal periods)", this.renewalWindowTicks);
		described.put("soak", format(this.soak));
		described.put("failover sizes", this.failoverSizes);
		described.put("failover hb-interval", format(this.failoverHb));
		described.put("unrelated TTL keys", this.noiseKeys);
		described.put("failover repetitions (small / large N)", this.failoverRepetitions + " / " + this.failoverLargeRepetitions);
		described.put("events-only timeout", format(this.eventsOnlyTimeout));
		described.put("handoff sizes", this.handoffSizes);
		described.put("handoff hb-interval", format(this.handoffHb));
		described.put("handoff repetitions", this.handoffRepetitions);
		described.put("dispatch backlog", this.dispatchBacklog);
		described.put("dispatch repetitions", this.dispatchRepetitions);
		described.put("dispatch rates", this.dispatchRates);
		described.put("dispatch duration per rate", format(this.rateDuration));
		described.put("handler threads", this.handlerThreads);
		described.put("entry-level streams", this.entryStreams);
		described.put("entries per stream", this.entriesPerStream);
		described.put("entry-level checkpoint-every", this.entryCheckpointEvery);
		described.put("entry-level repetitions", this.entryRepetitions);
		described.put("reading sizes", this.readingSizes);
		described.put("reading options", this.readingOptions);
		described.put("reading per-stream up to", this.readingPerStreamMax);
		described.put("reading window", format(this.readingWindow));
		described.put("reading rate", this.readingRate);
		described.put("shipped sizes", this.shippedSizes);
		described.put("shipped idle window", format(this.shippedIdle));
		described.put("shipped rate", this.shippedRate);
		described.put("shipped rate duration", format(this.shippedRateDuration));
		described.put("shipped warm-up before the loaded window", format(this.shippedWarmup));
		described.put("shipped hold (largest N)", format(this.shippedHold));
		described.put("shipped throughput streams", this.shippedThroughputStreams);
		described.put("shipped throughput entries per stream", this.shippedThroughputEntries);
		described.put("shipped checkpoint-every", this.shippedCheckpointEvery);
		if (!this.shippedJvmOptions.isEmpty()) {
			described.put("shipped extra JVM options", String.join(" ", this.shippedJvmOptions));
		}
		described.put("cluster masters", this.clusterMasters);
		described.put("cluster renewal sizes (per service)", this.clusterRenewalSizes);
		described.put("cluster renewal hb-intervals", this.clusterRenewalHbIntervals.stream().map(BenchmarkOptions::format).toList());
		described.put("cluster failover sizes (per service)", this.clusterFailoverSizes);
		described.put("cluster failover repetitions", this.clusterFailoverRepetitions);
		return described;
	}

	static String format(Duration duration) {
		return (duration.toMillis() % 1000 == 0) ? duration.toSeconds() + " s" : duration.toMillis() + " ms";
	}

	private static List<String> strings(String list) {
		List<String> result = new ArrayList<>();
		for (String part : list.split(",")) {
			if (!part.isBlank()) {
				result.add(part.trim());
			}
		}
		return result;
	}

	private static List<Integer> integers(String list) {
		return strings(list).stream().map(Integer::parseInt).toList();
	}

	private static List<Duration> durations(String list) {
		return strings(list).stream().map(BenchmarkOptions::seconds).toList();
	}

	private static Duration seconds(String value) {
		return Duration.ofMillis(Math.round(Double.parseDouble(value) * 1000));
	}

}
