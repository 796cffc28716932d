package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.engine.EngineSettings;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario 2: failover latency. An owner in a process of its own ({@link OwnerProcess}) holds N streams; a peer
 * engine runs in this JVM; the owner is killed with SIGKILL, and the time from the kill to the peer's ADDED event
 * (recovered = true) is recorded for every stream. With and without unrelated keys carrying a TTL in the same
 * database (they slow Redis's active expiry, and so the keyspace {@code expired} events), for our detection (sweep
 * + keyspace events) and for keyspace-events-only detection, the Go library's mechanism, modelled by the same
 * engine with a sweep interval of one hour.
 */
final class FailoverBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(FailoverBenchmark.class);

	private static final String NOISE_SCRIPT = "for i = 1, tonumber(ARGV[1]) do redis.call('SET', 'unrelated:' .. i, 'x', "
			+ "'EX', 3600) end return 1";

	private final BenchmarkOptions options;

	private final RedisProbe probe;

	private final RedissonClient control;

	FailoverBenchmark(BenchmarkOptions options, RedisProbe probe, RedissonClient control) {
		this.options = options;
		this.probe = probe;
		this.control = control;
	}

	/**
	 * One kill. Latencies in seconds of the streams recovered before the timeout: from the kill, and from the moment
	 * each lease lapsed on the server (its deadline in the lease index), which isolates the detection.
	 */
	record Run(int repetition, List<Double> latencies, List<Double> afterLapse, int missing, double timeoutSeconds,
			RecordingEngine.Signals signals, String error) {
	}

	/** One combination of N, unrelated TTL keys and detection, over its repetitions. */
	record Case(int n, int noiseKeys, String detection, Duration hb, List<Run> runs) {

		List<Double> pooled() {
			List<Double> all = new ArrayList<>();
			this.runs.forEach((run) -> all.addAll(run.latencies()));
			return all;
		}

		List<Double> pooledAfterLapse() {
			List<Double> all = new ArrayList<>();
			this.runs.forEach((run) -> all.addAll(run.afterLapse()));
			return all;
		}

		long signal(java.util.function.ToLongFunction<RecordingEngine.Signals> signal) {
			return this.runs.stream().filter((run) -> run.signals() != null).mapToLong((run) -> signal.applyAsLong(run.signals())).sum();
		}

		int missing() {
			return this.runs.stream().mapToInt(Run::missing).sum();
		}

		int expected() {
			return this.n * this.runs.size();
		}

		Spread perRun(java.util.function.ToDoubleFunction<Summary> metric) {
			return Spread.of(this.runs.stream().filter((run) -> !run.latencies().isEmpty())
				.map((run) -> metric.applyAsDouble(Summary.of(run.latencies()))).toList());
		}

	}

	List<Case> run() {
		List<Case> cases = new ArrayList<>();
		int smallest = this.options.failoverSizes.stream().mapToInt(Integer::intValue).min().orElse(0);
		for (int n : this.options.failoverSizes) {
			int repetitions = (n == smallest) ? this.options.failoverRepetitions : this.options.failoverLargeRepetitions;
			for (int noise : (this.options.noiseKeys > 0) ? List.of(0, this.options.noiseKeys) : List.of(0)) {
				for (String detection : List.of(Approach.SWEEP_AND_EVENTS, Approach.EVENTS_ONLY)) {
					List<Run> runs = new ArrayList<>();
					for (int rep = 1; rep <= repetitions; rep++) {
						runs.add(kill(n, noise, detection, rep));
					}
					cases.add(new Case(n, noise, detection, this.options.failoverHb, runs));
				}
			}
		}
		return cases;
	}

	private Run kill(int n, int noise, String detection, int repetition) {
		Duration hb = this.options.failoverHb;
		boolean eventsOnly = detection.equals(Approach.EVENTS_ONLY);
		Duration timeout = eventsOnly ? this.options.eventsOnlyTimeout : hb.multipliedBy(3).plusSeconds(30);
		String service = "failover";
		logger.info("Failover: {} streams, {} unrelated TTL keys, {}, repetition {}", n, noise, detection, repetition);
		this.probe.flush();
		ChildProcess owner = null;
		RecordingEngine peer = null;
		try {
			owner = ChildProcess.start(OwnerProcess.class, "384m", this.probe.server().uri(), service, "owner",
					Long.toString(hb.toMillis()), Integer.toString(n));
			owner.await("STARTED", Duration.ofSeconds(60));
			new LbsLoad(this.control, service).submitAll(n);
			owner.await("HOLDING", Duration.ofSeconds(120));
			if (noise > 0) {
				this.probe.server().command("EVAL", NOISE_SCRIPT, "0", Integer.toString(noise));
			}
			EngineSettings.Builder settings = EngineSettings.builder(service, "peer")
				.hbInterval(hb)
				.maxConcurrentStreams(Math.max(n, 10_000))
				.outputChannelSize(Math.max(n, 500) + 100)
				.handoffOnClose(false);
			if (eventsOnly) {
				settings.sweepInterval(Duration.ofHours(1)).keyspaceChannelSize(Math.max(100, 2 * n));
			}
			peer = new RecordingEngine(this.probe.server().uri(), settings.build(), null).start();
			// let the peer register and learn the live consumers (its first renewal tick)
			JvmProbe.pause(hb.dividedBy(2).toMillis() + 500);
			long killedWallMillis = System.currentTimeMillis();
			long killed = System.nanoTime();
			owner.kill();
			// the deadline of the owner's session as its last renewal wrote it (server time, the same clock as ours here):
			// every stream it held lapses with it
			Double sessionDeadline = sessionDeadline(service, "owner");
			peer.awaitAdded(n, true, timeout);
			List<Double> latencies = new ArrayList<>();
			List<Double> afterLapse = new ArrayList<>();
			for (Map.Entry<String, RecordingEngine.Added> added : peer.added().entrySet()) {
				if (added.getValue().recovered()) {
					long at = added.getValue().nanos();
					latencies.add((at - killed) / 1e9);
					Double deadline = sessionDeadline;
					if (deadline != null) {
						double lapsedNanos = killed + (deadline - killedWallMillis) * 1e6;
						afterLapse.add((at - lapsedNanos) / 1e9);
					}
				}
			}
			int missing = n - latencies.size();
			Summary summary = Summary.of(latencies);
			Summary lapse = Summary.of(afterLapse);
			RecordingEngine.Signals signals = peer.signals();
			logger.info("Failover: recovered {} of {} streams; from kill p50 {} s, p99 {} s, max {} s; after lapse p50 {} s, "
					+ "p99 {} s; keyspace events {} (dropped {}), sweep found {}", latencies.size(), n,
					Spread.number(summary.p50(), 3), Spread.number(summary.p99(), 3), Spread.number(summary.max(), 3),
					Spread.number(lapse.p50(), 3), Spread.number(lapse.p99(), 3), signals.keyspaceNotifications(),
					signals.keyspaceDropped(), signals.sweepFound());
			return new Run(repetition, latencies, afterLapse, missing, timeout.toMillis() / 1000.0, signals, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Failover run failed: {}", ex.toString(), ex);
			return new Run(repetition, List.of(), List.of(), n, timeout.toMillis() / 1000.0, null, ex.toString());
		}
		finally {
			if (peer != null) {
				peer.close();
			}
			if (owner != null) {
				owner.close();
			}
		}
	}

	/** The deadline of a consumer's session (server milliseconds) from the consumer registry, or null. */
	private Double sessionDeadline(String service, String consumer) {
		Object score = this.probe.server().command("ZSCORE", "{" + service + "-input}:consumers", consumer);
		return (score != null) ? Double.valueOf(score.toString()) : null;
	}

	static Map<String, Object> row(Case c, Run run) {
		Summary summary = Summary.of(run.latencies());
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("n", c.n());
		row.put("unrelated_ttl_keys", c.noiseKeys());
		row.put("detection", c.detection());
		row.put("hb_s", c.hb().toMillis() / 1000.0);
		row.put("repetition", run.repetition());
		row.put("recovered", run.latencies().size());
		row.put("missing_at_timeout", run.missing());
		row.put("timeout_s", run.timeoutSeconds());
		row.put("p50_s", summary.p50());
		row.put("p90_s", summary.p90());
		row.put("p99_s", summary.p99());
		row.put("max_s", summary.max());
		row.put("min_s", summary.min());
		Summary afterLapse = Summary.of(run.afterLapse());
		row.put("after_lapse_p50_s", afterLapse.p50());
		row.put("after_lapse_p99_s", afterLapse.p99());
		row.put("after_lapse_max_s", afterLapse.max());
		row.put("keyspace_events", (run.signals() != null) ? run.signals().keyspaceNotifications() : null);
		row.put("keyspace_events_dropped", (run.signals() != null) ? run.signals().keyspaceDropped() : null);
		row.put("sweep_found", (run.signals() != null) ? run.signals().sweepFound() : null);
		row.put("claims_lost_races", (run.signals() != null) ? run.signals().claimsLost() : null);
		row.put("error", run.error());
		return row;
	}

}
