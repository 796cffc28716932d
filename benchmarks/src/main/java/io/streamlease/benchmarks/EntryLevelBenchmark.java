package io.streamlease.benchmarks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Scenario 5: entry-level throughput. 1,000 data streams are pre-filled with K entries each (pipelined); a Spring
 * context with the starter's auto-configuration and one entry-level {@code @StreamHandler} (it counts and keeps a
 * one-field state, so every checkpoint carries a state) is started against the harness's Redis; the 1,000 streams
 * are announced on the LBS; entries per second are counted from the first entry handled to the last, at each
 * checkpoint-every. Checkpoint writes are counted on the server: {@code checkpoint.lua} is the only script that
 * calls {@code DEL} while no stream finishes or is handed off, so the {@code cmdstat_del} delta is the number of
 * checkpoints written. At the end the checkpoint hash of every stream is read back: its position must be the
 * stream's last entry.
 */
final class EntryLevelBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(EntryLevelBenchmark.class);

	static final String SERVICE = "entry-bench";

	private static final String PAYLOAD = "x".repeat(64);

	private final BenchmarkOptions options;

	private final RedisProbe probe;

	private final RedissonClient control;

	EntryLevelBenchmark(BenchmarkOptions options, RedisProbe probe, RedissonClient control) {
		this.options = options;
		this.probe = probe;
		this.control = control;
	}

	/**
	 * One run: {@code streams} x {@code perStream} entries at one checkpoint-every.
	 *
	 * @param checkpointEvery the stream-lease.entry.checkpoint-every setting
	 * @param repetition the repetition
	 * @param streams data streams
	 * @param perStream entries per stream
	 * @param handled entries the handler was called for (each counted once per call)
	 * @param seconds from the first entry handled to the last
	 * @param entriesPerSecond handled / seconds
	 * @param checkpoints checkpoint writes up to the last entry handled (none are written before the first)
	 * @param checkpointsPerSecond checkpoints / seconds
	 * @param checkpointsAfter checkpoint writes after the last entry (the caught-up checkpoints)
	 * @param checkpointedAtEnd streams whose checkpoint position was their last entry at the end
	 * @param redisCpuPercent Redis CPU between the first entry handled and the last, % of one core
	 * @param redisCommandsPerSecond Redis commands (incl. inside scripts) in the same window
	 * @param secondsToFirstEntry from announcing the streams to the first entry handled
	 * @param error what went wrong, or null
	 */
	record Run(int checkpointEvery, int repetition, int streams, int perStream, long handled, double seconds,
			double entriesPerSecond, long checkpoints, double checkpointsPerSecond, long checkpointsAfter,
			int checkpointedAtEnd, double redisCpuPercent, double redisCommandsPerSecond, double secondsToFirstEntry,
			String error) {

		long expected() {
			return (long) this.streams * this.perStream;
		}

	}

	List<Run> run() {
		List<Run> runs = new ArrayList<>();
		for (int every : this.options.entryCheckpointEvery) {
			for (int rep = 1; rep <= this.options.entryRepetitions; rep++) {
				runs.add(measure(every, rep));
			}
		}
		return runs;
	}

	private Run measure(int every, int repetition) {
		int streams = this.options.entryStreams;
		int perStream = this.options.entriesPerStream;
		long total = (long) streams * perStream;
		logger.info("Entry-level: {} streams x {} entries, checkpoint-every {}, repetition {}", streams, perStream, every, repetition);
		this.probe.flush();
		List<String> lastIds = prefill(streams, perStream);
		Counter counter = Counter.reset();
		ConfigurableApplicationContext context = null;
		try {
			// the group exists before the engine starts, as in DispatchBenchmark (the engine creates it from the newest entry)
			new LbsLoad(this.control, SERVICE).createGroup(SERVICE + "-group");
			context = new SpringApplicationBuilder(EntryLevelApplication.class).web(WebApplicationType.NONE)
				.registerShutdownHook(false)
				.properties("spring.application.name=" + SERVICE, "spring.main.banner-mode=off",
						"spring.main.log-startup-info=false", "spring.data.redis.host=" + this.probe.server().host(),
						"spring.data.redis.port=" + this.probe.server().port(), "stream-lease.hb-interval=10s",
						"stream-lease.max-concurrent-streams=" + Math.max(1000, streams),
						"stream-lease.entry.checkpoint-every=" + every, "stream-lease.shutdown.grace-period=1s")
				.run();
			RedisProbe.Snapshot start = this.probe.snapshot();
			long announced = System.nanoTime();
			new LbsLoad(this.control, SERVICE).submitAll(streams);
			long deadline = announced + Math.max(120, total / 1000) * 1_000_000_000L;
			while (counter.handled.sum() == 0 && System.nanoTime() - deadline < 0) {
				Thread.sleep(1);
			}
			RedisProbe.Snapshot first = this.probe.snapshot();
			long lastSeen = counter.handled.sum();
			long progressAt = System.nanoTime();
			while (counter.handled.sum() < total && System.nanoTime() - deadline < 0) {
				Thread.sleep(2);
				long now = counter.handled.sum();
				if (now != lastSeen) {
					lastSeen = now;
					progressAt = System.nanoTime();
				}
				else if (System.nanoTime() - progressAt > 60_000_000_000L) {
					break;
				}
			}
			RedisProbe.Snapshot last = this.probe.snapshot();
			long handled = counter.handled.sum();
			double seconds = (counter.lastNanos.get() - counter.firstNanos.get()) / 1e9;
			// the caught-up checkpoints follow within a poll interval or two
			JvmProbe.pause(3000);
			RedisProbe.Snapshot after = this.probe.snapshot();
			int checkpointed = checkpointed(lastIds);
			// no checkpoint is written before the first entry is handled: counted from the announcement, all are included
			long checkpoints = last.calls("del") - start.calls("del");
			RedisProbe.Delta window = RedisProbe.delta(first, last);
			Run run = new Run(every, repetition, streams, perStream, handled, seconds, handled / seconds, checkpoints,
					checkpoints / seconds, after.calls("del") - last.calls("del"), checkpointed, window.cpuPercent(),
					window.commandsPerSecond(), (counter.firstNanos.get() - announced) / 1e9,
					(handled < total) ? "only " + handled + " of " + total + " entries handled" : null);
			logger.info("Entry-level: checkpoint-every {}: {} entries in {} s = {} /s; {} checkpoints ({} /s), {} after; "
					+ "{} of {} streams checkpointed at their last entry; Redis CPU {} %", every, handled,
					Spread.number(seconds, 2), Spread.number(run.entriesPerSecond(), 0), checkpoints,
					Spread.number(run.checkpointsPerSecond(), 0), run.checkpointsAfter(), checkpointed, streams,
					Spread.number(run.redisCpuPercent(), 1));
			return run;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Entry-level run failed: {}", ex.toString(), ex);
			return new Run(every, repetition, streams, perStream, counter.handled.sum(), Double.NaN, Double.NaN, 0, Double.NaN, 0,
					0, Double.NaN, Double.NaN, Double.NaN, ex.toString());
		}
		finally {
			if (context != null) {
				context.close();
			}
		}
	}

	/** Writes {@code perStream} entries to each data stream, pipelined; returns each stream's last entry id. */
	private List<String> prefill(int streams, int perStream) {
		long started = System.nanoTime();
		int perBatch = Math.max(1, 10_000 / perStream);
		for (int from = 0; from < streams; from += perBatch) {
			RBatch batch = this.control.createBatch(BatchOptions.defaults());
			for (int s = from; s < Math.min(streams, from + perBatch); s++) {
				var stream = batch.getStream(LbsLoad.streamName(s), StringCodec.INSTANCE);
				for (int i = 1; i <= perStream; i++) {
					stream.addAsync(StreamAddArgs.entries(Map.of("n", Integer.toString(i), "payload", PAYLOAD)));
				}
			}
			batch.execute();
		}
		List<String> lastIds = new ArrayList<>(streams);
		for (int s = 0; s < streams; s++) {
			List<?> reply = (List<?>) this.probe.server().command("XREVRANGE", LbsLoad.streamName(s), "+", "-", "COUNT", "1");
			lastIds.add((String) ((List<?>) reply.get(0)).get(0));
		}
		logger.info("Entry-level: wrote {} x {} entries in {} s", streams, perStream,
				Spread.number((System.nanoTime() - started) / 1e9, 1));
		return lastIds;
	}

	/** Streams whose checkpoint position is their last entry. */
	private int checkpointed(List<String> lastIds) {
		int count = 0;
		for (int s = 0; s < lastIds.size(); s++) {
			Object position = this.probe.server().command("HGET", "{" + SERVICE + "-input}:checkpoint:" + LbsLoad.streamName(s),
					"position");
			if (lastIds.get(s).equals(position)) {
				count++;
			}
		}
		return count;
	}

	static Map<String, Object> row(Run run) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("checkpoint_every", run.checkpointEvery());
		row.put("repetition", run.repetition());
		row.put("streams", run.streams());
		row.put("entries_per_stream", run.perStream());
		row.put("handled", run.handled());
		row.put("seconds", run.seconds());
		row.put("entries_per_s", run.entriesPerSecond());
		row.put("checkpoints", run.checkpoints());
		row.put("checkpoints_per_s", run.checkpointsPerSecond());
		row.put("checkpoints_after_last_entry", run.checkpointsAfter());
		row.put("checkpointed_at_end", run.checkpointedAtEnd());
		row.put("redis_cpu_percent", run.redisCpuPercent());
		row.put("redis_commands_per_s", run.redisCommandsPerSecond());
		row.put("seconds_to_first_entry", run.secondsToFirstEntry());
		row.put("error", run.error());
		return row;
	}

	/** What the handler saw, shared with the handler bean of the current context. */
	static final class Counter {

		private static volatile Counter current = new Counter();

		final LongAdder handled = new LongAdder();

		final AtomicLong firstNanos = new AtomicLong();

		final AtomicLong lastNanos = new AtomicLong();

		static Counter reset() {
			current = new Counter();
			return current;
		}

		void record() {
			long now = System.nanoTime();
			this.firstNanos.compareAndSet(0, now);
			this.handled.increment();
			this.lastNanos.accumulateAndGet(now, Math::max);
		}

	}

	/** The application: the starter's auto-configuration and one entry-level handler. */
	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration(StreamLeaseAutoConfiguration.class)
	static class EntryLevelApplication {

		@Bean
		CountingHandler countingHandler() {
			return new CountingHandler();
		}

	}

	/** Counts entries and keeps the last entry's number as the stream's state (so each checkpoint carries a state). */
	static class CountingHandler {

		@StreamHandler
		void on(StreamEntry entry, StreamState state) {
			state.put("n", entry.field("n"));
			Counter.current.record();
		}

	}

}
