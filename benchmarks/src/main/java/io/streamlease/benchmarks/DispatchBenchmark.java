package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.StreamEvent;
import org.HdrHistogram.Histogram;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario 4: dispatch. How many assignments per second one engine sustains from a backlog (held, or finished by
 * a handler pool calling {@code done()}), and the latency from XADD to the ADDED event being taken by the handler
 * thread at fixed submission rates. Each entry carries its send time in its Info ({@code {"t": System.nanoTime()}},
 * same JVM); entries of the first second (warm-up) are not recorded.
 */
final class DispatchBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(DispatchBenchmark.class);

	private static final Duration WARM_UP = Duration.ofSeconds(1);

	private final BenchmarkOptions options;

	private final RedisProbe probe;

	private final RedissonClient control;

	DispatchBenchmark(BenchmarkOptions options, RedisProbe probe, RedissonClient control) {
		this.options = options;
		this.probe = probe;
		this.control = control;
	}

	/** Draining a backlog: assignments per second, and completions per second when a handler pool finishes them. */
	record Throughput(String mode, int repetition, int entries, double assignmentsPerSecond, double secondsToDrain,
			String error) {
	}

	/** A fixed submission rate: latencies (ms) from XADD to the handler taking the ADDED event. */
	record RateRun(int rate, int repetition, double achievedRate, long recorded, long missing, Summary latencyMillis,
			double redisCpuPercent, double maxProducerLagMillis, String error) {
	}

	record Results(List<Throughput> throughput, List<RateRun> rates) {
	}

	Results run() {
		List<Throughput> throughput = new ArrayList<>();
		for (int rep = 1; rep <= this.options.dispatchRepetitions; rep++) {
			throughput.add(drain("hold", rep));
			throughput.add(drain("done", rep));
		}
		List<RateRun> rates = new ArrayList<>();
		for (int rate : this.options.dispatchRates) {
			for (int rep = 1; rep <= this.options.dispatchRepetitions; rep++) {
				rates.add(paced(rate, rep));
			}
		}
		return new Results(throughput, rates);
	}

	/** Mode "hold": the engine keeps every stream; "done": a handler pool finishes each one. */
	private Throughput drain(String mode, int repetition) {
		int entries = this.options.dispatchBacklog;
		String service = "dispatch";
		logger.info("Dispatch: draining a backlog of {} entries ({}), repetition {}", entries, mode, repetition);
		this.probe.flush();
		boolean finish = mode.equals("done");
		ExecutorService handlers = Executors.newFixedThreadPool(this.options.handlerThreads);
		LongAdder finished = new LongAdder();
		AtomicLong lastFinished = new AtomicLong();
		Consumer<StreamEvent> handler = finish ? (event) -> {
			if (event.type() == StreamEvent.Type.ADDED) {
				handlers.execute(() -> {
					event.lease().done();
					lastFinished.set(System.nanoTime());
					finished.increment();
				});
			}
		} : null;
		LbsLoad load = new LbsLoad(this.control, service);
		load.createGroup(service + "-group");
		load.submitAll(entries);
		EngineSettings.Builder settings = EngineSettings.builder(service, "dispatcher").outputChannelSize(10_000);
		if (!finish) {
			settings.maxConcurrentStreams(Math.max(entries, 10_000));
		}
		try (RecordingEngine engine = new RecordingEngine(this.probe.server().uri(), settings.build(), handler)) {
			long started = System.nanoTime();
			engine.start();
			boolean complete = engine.awaitAdded(entries, false, Duration.ofSeconds(180));
			if (finish) {
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
				while (finished.sum() < entries && System.nanoTime() - deadline < 0) {
					Thread.sleep(5);
				}
				complete = complete && finished.sum() == entries;
			}
			long first = Long.MAX_VALUE;
			long last = Long.MIN_VALUE;
			for (RecordingEngine.Added added : engine.added().values()) {
				first = Math.min(first, added.nanos());
				last = Math.max(last, added.nanos());
			}
			if (finish) {
				last = Math.max(last, lastFinished.get());
			}
			double seconds = (last - first) / 1e9;
			double rate = (entries - 1) / seconds;
			logger.info("Dispatch ({}): {} entries in {} s from the first ADDED: {} /s (start to first ADDED {} ms)", mode, entries,
					Spread.number(seconds, 2), Spread.number(rate, 0), (first - started) / 1_000_000);
			return new Throughput(mode, repetition, entries, rate, seconds,
					complete ? null : "incomplete: " + engine.addedCount() + " added, " + finished.sum() + " finished");
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Dispatch drain failed: {}", ex.toString(), ex);
			return new Throughput(mode, repetition, entries, Double.NaN, Double.NaN, ex.toString());
		}
		finally {
			handlers.shutdownNow();
		}
	}

	private RateRun paced(int rate, int repetition) {
		String service = "paced";
		logger.info("Dispatch: {} submissions/s for {} s, repetition {}", rate, this.options.rateDuration.toSeconds(), repetition);
		this.probe.flush();
		ExecutorService handlers = Executors.newFixedThreadPool(this.options.handlerThreads);
		Histogram latencies = new Histogram(TimeUnit.MINUTES.toMicros(5), 3);
		long[] recordFrom = new long[1];
		LongAdder recorded = new LongAdder();
		Consumer<StreamEvent> handler = (event) -> {
			if (event.type() != StreamEvent.Type.ADDED) {
				return;
			}
			long now = System.nanoTime();
			Object sent = event.lease().info().get("t");
			if (sent instanceof Number number && number.longValue() - recordFrom[0] >= 0) {
				latencies.recordValue(Math.max(1, (now - number.longValue()) / 1000));
				recorded.increment();
			}
			handlers.execute(() -> {
				try {
					event.lease().done();
				}
				catch (RuntimeException ex) {
					logger.debug("done() failed", ex);
				}
			});
		};
		EngineSettings settings = EngineSettings.builder(service, "dispatcher").build();
		LbsLoad load = new LbsLoad(this.control, service);
		try (RecordingEngine engine = new RecordingEngine(this.probe.server().uri(), settings, handler)) {
			engine.start();
			JvmProbe.pause(300);
			long total = Math.round(rate * (WARM_UP.toNanos() + this.options.rateDuration.toNanos()) / 1e9);
			long start = System.nanoTime();
			recordFrom[0] = start + WARM_UP.toNanos();
			RedisProbe.Snapshot before = null;
			long sent = 0;
			long maxLag = 0;
			while (sent < total) {
				long now = System.nanoTime();
				if (before == null && now - recordFrom[0] >= 0) {
					before = this.probe.snapshot();
				}
				long due = Math.min(total, (now - start) * rate / 1_000_000_000L);
				if (due - sent > 1) {
					long scheduled = start + sent * 1_000_000_000L / rate;
					maxLag = Math.max(maxLag, now - scheduled);
				}
				while (sent < due) {
					load.submitAsync("r-" + sent, "{\"t\":" + System.nanoTime() + "}");
					sent++;
				}
				LockSupport.parkNanos(200_000);
			}
			long producedIn = System.nanoTime() - start;
			RedisProbe.Snapshot after = this.probe.snapshot();
			engine.awaitAdded((int) total, false, Duration.ofSeconds(30));
			long expectedRecorded = total - Math.round(rate * WARM_UP.toNanos() / 1e9);
			Summary summary = Summary.ofMicros(latencies);
			double cpu = (before != null) ? RedisProbe.delta(before, after).cpuPercent() : Double.NaN;
			logger.info("Dispatch at {}/s: {} recorded, p50 {} ms, p99 {} ms, max {} ms", rate, summary.count(),
					Spread.number(summary.p50(), 2), Spread.number(summary.p99(), 2), Spread.number(summary.max(), 2));
			return new RateRun(rate, repetition, total / (producedIn / 1e9), recorded.sum(),
					Math.max(0, expectedRecorded - recorded.sum()), summary, cpu, maxLag / 1e6, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Dispatch at {}/s failed: {}", rate, ex.toString(), ex);
			return new RateRun(rate, repetition, Double.NaN, 0, 0, Summary.EMPTY, Double.NaN, Double.NaN, ex.toString());
		}
		finally {
			handlers.shutdownNow();
		}
	}

	static Map<String, Object> row(Throughput t) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("mode", t.mode());
		row.put("repetition", t.repetition());
		row.put("entries", t.entries());
		row.put("assignments_per_s", t.assignmentsPerSecond());
		row.put("seconds_to_drain", t.secondsToDrain());
		row.put("error", t.error());
		return row;
	}

	static Map<String, Object> row(RateRun r) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("rate", r.rate());
		row.put("repetition", r.repetition());
		row.put("achieved_rate", r.achievedRate());
		row.put("recorded", r.recorded());
		row.put("missing", r.missing());
		row.put("p50_ms", r.latencyMillis().p50());
		row.put("p90_ms", r.latencyMillis().p90());
		row.put("p99_ms", r.latencyMillis().p99());
		row.put("max_ms", r.latencyMillis().max());
		row.put("redis_cpu_percent", r.redisCpuPercent());
		row.put("max_producer_lag_ms", r.maxProducerLagMillis());
		row.put("error", r.error());
		return row;
	}

}
