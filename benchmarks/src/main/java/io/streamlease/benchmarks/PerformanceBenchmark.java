package io.streamlease.benchmarks;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark harness: starts its own redis-server on a free loopback port, runs the scenarios (renewal cost,
 * failover, handoff, dispatch, entry-level throughput, entry-level reading options, the sample-app jar as shipped,
 * renewal and failover on a Redis Cluster) for our engine and the baselines, writes the raw results to
 * {@code benchmarks/results/} and the report to {@code docs/PERFORMANCE.md} with its charts in {@code docs/img/}.
 * <pre>
 * ./mvnw -B -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/stream-lease-benchmarks.jar [--quick] [--name=value ...]
 * java -jar benchmarks/target/stream-lease-benchmarks.jar --report-only   # render docs/ again from benchmarks/results/
 * java -jar benchmarks/target/stream-lease-benchmarks.jar --scenarios=entry,cluster --merge   # add to the results there
 * </pre>
 */
public final class PerformanceBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(PerformanceBenchmark.class);

	private PerformanceBenchmark() {
	}

	public static void main(String[] args) {
		System.setProperty("java.awt.headless", "true");
		// scenario 5 starts Spring contexts: they must not reconfigure the harness's logging
		System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
		BenchmarkOptions options = BenchmarkOptions.parse(args);
		if (options.reportOnly) {
			BenchmarkRun run = new ResultsReader(options.resultsDirectory()).read(options.root);
			Map<String, String> charts = new ChartRenderer(options.docsDirectory().resolve("img")).render(run);
			new PerformanceReport(run, charts, true).write(options.docsDirectory().resolve("PERFORMANCE.md"));
			logger.info("Rendered {} again from {}", options.docsDirectory().resolve("PERFORMANCE.md"), options.resultsDirectory());
			System.exit(0);
		}
		String command = "java -jar benchmarks/target/stream-lease-benchmarks.jar" + ((args.length > 0) ? " " + String.join(" ", args) : "");
		Instant startedAt = Instant.now();
		long started = System.nanoTime();
		Map<String, Double> load = new LinkedHashMap<>();
		logger.info("Benchmark ({}) writing to {}", options.quick ? "quick" : "full", options.root);
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(30)))) {
			RedisProbe probe = new RedisProbe(redis);
			RedissonClient control = RedissonClients.create(redis.uri());
			try {
				RenewalBenchmark.Results renewal = null;
				List<FailoverBenchmark.Case> failover = null;
				List<HandoffBenchmark.Case> handoff = null;
				DispatchBenchmark.Results dispatch = null;
				if (options.runs("renewal")) {
					load.put("before renewal", MachineInfo.loadAverage());
					try {
						renewal = new RenewalBenchmark(options, probe, control).run();
					}
					catch (RuntimeException ex) {
						logger.error("The renewal scenario failed; the report leaves it out", ex);
					}
				}
				if (options.runs("failover")) {
					load.put("before failover", MachineInfo.loadAverage());
					try {
						failover = new FailoverBenchmark(options, probe, control).run();
					}
					catch (RuntimeException ex) {
						logger.error("The failover scenario failed; the report leaves it out", ex);
					}
				}
				if (options.runs("handoff")) {
					load.put("before handoff", MachineInfo.loadAverage());
					try {
						handoff = new HandoffBenchmark(options, probe, control).run();
					}
					catch (RuntimeException ex) {
						logger.error("The handoff scenario failed; the report leaves it out", ex);
					}
				}
				if (options.runs("dispatch")) {
					load.put("before dispatch", MachineInfo.loadAverage());
					try {
						dispatch = new DispatchBenchmark(options, probe, control).run();
					}
					catch (RuntimeException ex) {
						logger.error("The dispatch scenario failed; the report leaves it out", ex);
					}
				}
				List<EntryLevelBenchmark.Run> entryLevel = null;
				if (options.runs("entry")) {
					load.put("before entry-level", MachineInfo.loadAverage());
					try {
						entryLevel = new EntryLevelBenchmark(options, probe, control).run();
					}
					catch (RuntimeException ex) {
						logger.error("The entry-level scenario failed; the report leaves it out", ex);
					}
				}
				List<EntryReadingCost.Row> reading = null;
				if (options.runs("reading")) {
					load.put("before reading options", MachineInfo.loadAverage());
					try {
						reading = EntryReadingCost.run(options);
					}
					catch (RuntimeException ex) {
						logger.error("The reading-options scenario failed; the report leaves it out", ex);
					}
				}
				ShippedProductBenchmark.Results shipped = null;
				if (options.runs("shipped")) {
					load.put("before shipped", MachineInfo.loadAverage());
					try {
						shipped = new ShippedProductBenchmark(options).run();
					}
					catch (RuntimeException ex) {
						logger.error("The shipped-product scenario failed; the report leaves it out", ex);
					}
				}
				ClusterBenchmark.Results cluster = null;
				if (options.runs("cluster")) {
					load.put("before cluster", MachineInfo.loadAverage());
					try {
						cluster = new ClusterBenchmark(options).run();
					}
					catch (RuntimeException ex) {
						logger.error("The cluster scenarios failed; the report leaves them out", ex);
					}
				}
				load.put("at the end", MachineInfo.loadAverage());
				BenchmarkRun run = new BenchmarkRun(options, command, MachineInfo.commit(options.root), MachineInfo.describe(),
						probe.describe(), startedAt, (System.nanoTime() - started) / 1e9, load, renewal, failover, handoff,
						dispatch, entryLevel, cluster, reading, shipped, List.of());
				new ResultsWriter(options.resultsDirectory()).write(run);
				double seconds = run.seconds();
				boolean merged = options.merge;
				if (merged) {
					// the report shows everything in benchmarks/results/: the earlier run's scenarios and this run's
					run = new ResultsReader(options.resultsDirectory()).read(options.root);
				}
				Map<String, String> charts = new ChartRenderer(options.docsDirectory().resolve("img")).render(run);
				new PerformanceReport(run, charts, false).write(options.docsDirectory().resolve("PERFORMANCE.md"));
				logger.info("Done in {} s: {} and {}", Math.round(seconds), options.docsDirectory().resolve("PERFORMANCE.md"),
						options.resultsDirectory());
			}
			finally {
				control.shutdown();
			}
		}
		System.exit(0);
	}

}
