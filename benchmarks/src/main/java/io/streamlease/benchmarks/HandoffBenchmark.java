package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import io.streamlease.engine.EngineSettings;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario 3: graceful handoff latency. An owner engine in a process of its own ({@link OwnerProcess}, as a pod
 * that shuts down) holds N streams, a peer runs in this JVM, the owner is closed, and the time from the start of
 * {@code close()} to the peer's ADDED event is recorded for every stream (the owner prints when it calls
 * {@code close()} on the wall clock, which both processes share). The harness also listens on the handoff channel, to tell how
 * much of the latency passes before the first handoff message is published. Settings are the defaults except
 * the hb-interval and the capacities that N needs (max concurrent streams, output channel).
 */
final class HandoffBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(HandoffBenchmark.class);

	private final BenchmarkOptions options;

	private final RedisProbe probe;

	private final RedissonClient control;

	HandoffBenchmark(BenchmarkOptions options, RedisProbe probe, RedissonClient control) {
		this.options = options;
		this.probe = probe;
		this.control = control;
	}

	/**
	 * One close: latencies in seconds from the start of close() to each ADDED; how long close() took; when the first
	 * handoff message arrived (seconds after the start of close(), NaN if none).
	 */
	record Run(int repetition, List<Double> latencies, int missing, double closeSeconds, double firstMessageSeconds,
			String error) {
	}

	/**
	 * N streams handed off by one of the two ways to shut down: {@code close()} directly, or {@code stopReading()}
	 * first (as the Spring layer does, to give handlers a grace period) and then {@code close()}, timed from close().
	 */
	record Case(int n, String mode, Duration hb, List<Run> runs) {

		List<Double> pooled() {
			List<Double> all = new ArrayList<>();
			this.runs.forEach((run) -> all.addAll(run.latencies()));
			return all;
		}

		int missing() {
			return this.runs.stream().mapToInt(Run::missing).sum();
		}

	}

	static final String CLOSE = "close()";

	static final String STOP_READING_FIRST = "stopReading(), then close()";

	List<Case> run() {
		// not recorded: the first takeover in this JVM runs interpreted code (240 ms for 100 streams when measured),
		// where a peer that has been running for a while has it compiled
		Run warmUp = handoff(1000, CLOSE, 0);
		logger.info("Handoff warm-up (not recorded): {} of 1000 streams taken over", warmUp.latencies().size());
		List<Case> cases = new ArrayList<>();
		for (int n : this.options.handoffSizes) {
			for (String mode : List.of(CLOSE, STOP_READING_FIRST)) {
				List<Run> runs = new ArrayList<>();
				for (int rep = 1; rep <= this.options.handoffRepetitions; rep++) {
					runs.add(handoff(n, mode, rep));
				}
				cases.add(new Case(n, mode, this.options.handoffHb, runs));
			}
		}
		return cases;
	}

	private Run handoff(int n, String mode, int repetition) {
		Duration hb = this.options.handoffHb;
		String service = "handoff";
		Duration timeout = hb.multipliedBy(3).plusSeconds(Math.max(10, n / 100));
		logger.info("Handoff: {} streams, {}, repetition {}", n, mode, repetition);
		this.probe.flush();
		ChildProcess owner = null;
		RecordingEngine peer = null;
		RTopic topic = this.control.getTopic("{" + service + "-input}:handoff", StringCodec.INSTANCE);
		AtomicLong firstMessage = new AtomicLong();
		int listener = topic.addListener(String.class, (channel, message) -> firstMessage.compareAndSet(0, System.nanoTime()));
		try {
			owner = ChildProcess.start(OwnerProcess.class, "384m", this.probe.server().uri(), service, "owner",
					Long.toString(hb.toMillis()), Integer.toString(n), "handoff");
			owner.await("STARTED", Duration.ofSeconds(60));
			new LbsLoad(this.control, service).submitAll(n);
			owner.await("HOLDING", Duration.ofSeconds(120));
			peer = new RecordingEngine(this.probe.server().uri(), settings(service, "peer", hb, n), null).start();
			JvmProbe.pause(hb.dividedBy(2).toMillis() + 500);
			owner.send(mode.equals(STOP_READING_FIRST) ? "STOP_READING" : "CLOSE");
			owner.await("CLOSED", timeout);
			// the owner's wall-clock instants on this JVM's nanoTime line
			long nanosThen = System.nanoTime();
			long microsThen = OwnerProcess.epochMicros();
			long closing = nanosThen - (microsThen - Long.parseLong(owner.valueOf("CLOSING"))) * 1000;
			long closed = nanosThen - (microsThen - Long.parseLong(owner.valueOf("CLOSED"))) * 1000;
			peer.awaitAdded(n, true, timeout);
			List<Double> latencies = new ArrayList<>();
			for (RecordingEngine.Added added : peer.added().values()) {
				if (added.recovered()) {
					latencies.add((added.nanos() - closing) / 1e9);
				}
			}
			long message = firstMessage.get();
			Summary summary = Summary.of(latencies);
			logger.info("Handoff: {} of {} streams taken over; close() {} ms; p50 {} ms, p99 {} ms, max {} ms", latencies.size(),
					n, (closed - closing) / 1_000_000, Spread.number(summary.p50() * 1000, 1),
					Spread.number(summary.p99() * 1000, 1), Spread.number(summary.max() * 1000, 1));
			return new Run(repetition, latencies, n - latencies.size(), (closed - closing) / 1e9,
					(message != 0) ? (message - closing) / 1e9 : Double.NaN, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Handoff run failed: {}", ex.toString(), ex);
			return new Run(repetition, List.of(), n, Double.NaN, Double.NaN, ex.toString());
		}
		finally {
			topic.removeListener(listener);
			if (owner != null) {
				owner.close();
			}
			if (peer != null) {
				peer.close();
			}
		}
	}

	private static EngineSettings settings(String service, String consumer, Duration hb, int n) {
		return EngineSettings.builder(service, consumer)
			.hbInterval(hb)
			.maxConcurrentStreams(Math.max(n, 10_000))
			.outputChannelSize(Math.max(n, 500) + 100)
			.build();
	}

	static Map<String, Object> row(Case c, Run run) {
		Summary summary = Summary.of(run.latencies());
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("n", c.n());
		row.put("mode", c.mode());
		row.put("hb_s", c.hb().toMillis() / 1000.0);
		row.put("repetition", run.repetition());
		row.put("taken_over", run.latencies().size());
		row.put("missing_at_timeout", run.missing());
		row.put("close_s", run.closeSeconds());
		row.put("first_handoff_message_s", run.firstMessageSeconds());
		row.put("p50_s", summary.p50());
		row.put("p90_s", summary.p90());
		row.put("p99_s", summary.p99());
		row.put("max_s", summary.max());
		row.put("error", run.error());
		return row;
	}

}
