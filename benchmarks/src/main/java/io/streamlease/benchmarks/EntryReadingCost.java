package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.redisson.Redisson;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamMultiReadArgs;
import org.redisson.api.stream.StreamReadArgs;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures what reading N held data streams costs Redis with each way of reading that issue 9 asks to compare,
 * with nothing else running (no engine, no checkpoints): the reading pattern alone, idle and under load.
 * <ul>
 * <li>{@code per-stream}: one non-blocking XREAD per stream, an idle stream polled again after a delay that doubles
 * from 50 ms to 1 s (the entry reader before issue 9);</li>
 * <li>{@code multi-key}: the same schedule, but the due streams read with one XREAD over up to 500 streams;</li>
 * <li>{@code blocking}: XREAD BLOCK 10 s over 1,000 streams per connection, issued again at once when it returns;</li>
 * <li>{@code none}: nothing reads (the cost of the writes alone);</li>
 * <li>{@code notified}: keyspace {@code xadd} events ({@code __keyevent@*__:xadd}, one pattern subscription) wake
 * the reader, which reads the notified streams with one multi-key XREAD; every stream is read again by a slow
 * safety poll (multi-key, every 10 s).</li>
 * </ul>
 * Each option: one idle window, then one window with {@code rate} entries/s written to random streams (each entry
 * carries its send time; the latency is from XADD to the reader seeing it). Redis commands (no scripts run here, so
 * every command is a top-level one) and CPU from {@code INFO} deltas.
 * Scenario "reading" of the harness ({@code --scenarios=reading}, sizes {@code --reading-sizes}); a fresh
 * {@code redis-server} per N.
 */
final class EntryReadingCost {

	static final List<String> OPTIONS = List.of("none", "per-stream", "multi-key", "blocking", "notified");

	/**
	 * One measured window.
	 * @param phase "idle" or the rate written
	 * @param loadAverage the one-minute load average when the window started
	 */
	record Row(String option, int n, String phase, double commandsPerSecond, double cpuPercent, double p50, double p99,
			double loadAverage) {
	}


	private static final Logger logger = LoggerFactory.getLogger(EntryReadingCost.class);

	private static final int MULTI_KEY = 500;

	private static final int BLOCKING_PER_CONNECTION = 1000;

	private static final long SAFETY_POLL_NANOS = TimeUnit.SECONDS.toNanos(10);

	private final RedisServer redis;

	private final RedissonClient client;

	private final int streams;

	private final String[] names;

	private final String[] positions;

	private EntryReadingCost(RedisServer redis, RedissonClient client, int streams) {
		this.redis = redis;
		this.client = client;
		this.streams = streams;
		this.names = new String[streams];
		this.positions = new String[streams];
		for (int i = 0; i < streams; i++) {
			this.names[i] = String.format("d-%06d", i);
		}
	}

	static List<Row> run(BenchmarkOptions options) {
		List<Row> rows = new ArrayList<>();
		for (int streams : options.readingSizes) {
			try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(30)))) {
				Config config = new Config();
				config.setThreads(4);
				config.setNettyThreads(8);
				config.useSingleServer()
					.setAddress(redis.uri())
					.setConnectionMinimumIdleSize(8)
					.setConnectionPoolSize(Math.max(32, streams / BLOCKING_PER_CONNECTION + 8))
					.setTimeout(10_000);
				RedissonClient client = Redisson.create(config);
				try {
					EntryReadingCost cost = new EntryReadingCost(redis, client, streams);
					cost.fill();
					for (String option : options.readingOptions) {
						if (option.equals("per-stream") && streams > options.readingPerStreamMax) {
							continue;
						}
						try {
							cost.measure(option, (int) options.readingWindow.toSeconds(), options.readingRate, rows);
						}
						catch (Exception ex) {
							logger.error("Reading option {} at N={} failed; the report leaves it out", option, streams, ex);
						}
					}
				}
				finally {
					client.shutdown();
				}
			}
		}
		return rows;
	}

	private void fill() {
		for (int from = 0; from < this.streams; from += 1000) {
			RBatch batch = this.client.createBatch(BatchOptions.defaults());
			for (int i = from; i < Math.min(this.streams, from + 1000); i++) {
				batch.getStream(this.names[i], StringCodec.INSTANCE).addAsync(StreamAddArgs.entry("t", "0"));
			}
			List<?> ids = batch.execute().getResponses();
			for (int i = from; i < Math.min(this.streams, from + 1000); i++) {
				this.positions[i] = ids.get(i - from).toString();
			}
		}
	}

	private void measure(String option, int seconds, int rate, List<Row> rows) throws Exception {
		String[] start = this.positions.clone();
		Reader reader = switch (option) {
			case "per-stream" -> new PolledReader(false);
			case "multi-key" -> new PolledReader(true);
			case "blocking" -> new BlockingReader();
			case "notified" -> new NotifiedReader();
			case "none" -> new IdleReader();
			default -> throw new IllegalArgumentException("unknown option " + option);
		};
		reader.start();
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(3));
		rows.add(window(option, "idle", seconds, 0, reader));
		rows.add(window(option, rate + "/s", seconds, rate, reader));
		reader.stop();
		System.arraycopy(start, 0, this.positions, 0, start.length);
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
	}

	private Row window(String option, String phase, int seconds, int rate, Reader reader) {
		AtomicBoolean producing = new AtomicBoolean(rate > 0);
		Thread producer = new Thread(() -> {
			long interval = (rate > 0) ? 1_000_000_000L / rate : 0;
			long next = System.nanoTime();
			while (producing.get()) {
				next += interval;
				int stream = ThreadLocalRandom.current().nextInt(this.streams);
				this.client.getStream(this.names[stream], StringCodec.INSTANCE)
					.addAsync(StreamAddArgs.entry("t", Long.toString(System.nanoTime())));
				long wait = next - System.nanoTime();
				if (wait > 0) {
					LockSupport.parkNanos(wait);
				}
			}
		});
		if (rate > 0) {
			producer.start();
			LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(2));
		}
		reader.latencies().reset();
		double loadAverage = MachineInfo.loadAverage();
		long[] before = info();
		long started = System.nanoTime();
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(seconds));
		long[] after = info();
		double elapsed = (System.nanoTime() - started) / 1e9;
		Histogram latencies = reader.latencies().getIntervalHistogram();
		producing.set(false);
		double commands = (after[0] - before[0]) / elapsed;
		double cpu = 100.0 * (after[1] - before[1]) / 1e6 / elapsed;
		boolean seen = rate > 0 && latencies.getTotalCount() > 0;
		Row row = new Row(option, this.streams, phase, commands, cpu,
				seen ? latencies.getValueAtPercentile(50) / 1e6 : Double.NaN,
				seen ? latencies.getValueAtPercentile(99) / 1e6 : Double.NaN, loadAverage);
		logger.info("Reading {} N={} {}: {} commands/s, Redis CPU {} %, p50 {} ms, p99 {} ms", option, this.streams, phase,
				Spread.number(commands, 0), Spread.number(cpu, 2), Spread.number(row.p50(), 1), Spread.number(row.p99(), 1));
		return row;
	}

	/** total_commands_processed, CPU microseconds. */
	private long[] info() {
		String info = (String) this.redis.command("INFO", "all");
		long commands = 0;
		double cpu = 0;
		for (String line : info.split("\r?\n")) {
			if (line.startsWith("total_commands_processed:")) {
				commands = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
			}
			else if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
				cpu += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
			}
		}
		return new long[] { commands, (long) (cpu * 1e6) };
	}

	private void seen(int stream, Map<StreamMessageId, Map<String, String>> entries, Recorder latencies) {
		if (entries == null || entries.isEmpty()) {
			return;
		}
		long now = System.nanoTime();
		StreamMessageId last = null;
		for (Map.Entry<StreamMessageId, Map<String, String>> entry : entries.entrySet()) {
			long sent = Long.parseLong(entry.getValue().get("t"));
			if (sent > 0) {
				latencies.recordValue(Math.max(0, Math.min(now - sent, TimeUnit.MINUTES.toNanos(1))));
			}
			last = entry.getKey();
		}
		this.positions[stream] = last.toString();
	}

	private static StreamMessageId id(String id) {
		int dash = id.indexOf('-');
		return new StreamMessageId(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
	}

	private Map<String, Integer> indexOf() {
		Map<String, Integer> index = new ConcurrentHashMap<>();
		for (int i = 0; i < this.streams; i++) {
			index.put(this.names[i], i);
		}
		return index;
	}

	private CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>> readMany(List<Integer> chunk,
			Duration block) {
		Map<String, StreamMessageId> others = new LinkedHashMap<>();
		for (int k = 1; k < chunk.size(); k++) {
			others.put(this.names[chunk.get(k)], id(this.positions[chunk.get(k)]));
		}
		StreamMultiReadArgs args = StreamMultiReadArgs.greaterThan(id(this.positions[chunk.get(0)]), others).count(100);
		if (block != null) {
			args = args.timeout(block);
		}
		return this.client.<String, String>getStream(this.names[chunk.get(0)], StringCodec.INSTANCE)
			.readAsync(args)
			.toCompletableFuture();
	}

	private abstract class Reader {

		final Recorder recorder = new Recorder(3);

		volatile boolean running = true;

		Thread thread;

		Recorder latencies() {
			return this.recorder;
		}

		void start() {
			this.thread = new Thread(this::run, "reader");
			this.thread.setDaemon(true);
			this.thread.start();
		}

		void stop() throws InterruptedException {
			this.running = false;
			LockSupport.unpark(this.thread);
			this.thread.join(15_000);
		}

		abstract void run();

	}

	/** Reads nothing: the cost of the writes alone and of an idle server. */
	private final class IdleReader extends Reader {

		@Override
		void run() {
			while (this.running) {
				LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(1));
			}
		}

	}

	/** Due-time polling with back-off, one XREAD per stream or one per 500 streams. */
	private final class PolledReader extends Reader {

		private final boolean multiKey;

		private final long[] due = new long[EntryReadingCost.this.streams];

		private final long[] delay = new long[EntryReadingCost.this.streams];

		PolledReader(boolean multiKey) {
			this.multiKey = multiKey;
		}

		@Override
		void run() {
			long min = TimeUnit.MILLISECONDS.toNanos(50);
			long max = TimeUnit.SECONDS.toNanos(1);
			while (this.running) {
				long now = System.nanoTime();
				List<Integer> dueNow = new ArrayList<>();
				for (int i = 0; i < EntryReadingCost.this.streams; i++) {
					if (this.due[i] - now <= 0) {
						dueNow.add(i);
					}
				}
				if (this.multiKey) {
					List<CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>>> reads = new ArrayList<>();
					List<List<Integer>> chunks = new ArrayList<>();
					for (int from = 0; from < dueNow.size(); from += MULTI_KEY) {
						List<Integer> chunk = dueNow.subList(from, Math.min(dueNow.size(), from + MULTI_KEY));
						chunks.add(chunk);
						reads.add(readMany(chunk, null));
					}
					for (int c = 0; c < chunks.size(); c++) {
						Map<String, Map<StreamMessageId, Map<String, String>>> result = reads.get(c).join();
						for (int i : chunks.get(c)) {
							Map<StreamMessageId, Map<String, String>> entries = (result != null)
									? result.get(EntryReadingCost.this.names[i]) : null;
							schedule(i, entries, min, max);
						}
					}
				}
				else {
					List<CompletableFuture<Map<StreamMessageId, Map<String, String>>>> reads = new ArrayList<>();
					for (int i : dueNow) {
						reads.add(EntryReadingCost.this.client
							.<String, String>getStream(EntryReadingCost.this.names[i], StringCodec.INSTANCE)
							.readAsync(StreamReadArgs.greaterThan(id(EntryReadingCost.this.positions[i])).count(100))
							.toCompletableFuture());
					}
					for (int k = 0; k < dueNow.size(); k++) {
						schedule(dueNow.get(k), reads.get(k).join(), min, max);
					}
				}
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
			}
		}

		private void schedule(int i, Map<StreamMessageId, Map<String, String>> entries, long min, long max) {
			if (entries != null && !entries.isEmpty()) {
				seen(i, entries, this.recorder);
				this.delay[i] = 0;
				this.due[i] = System.nanoTime();
			}
			else {
				this.delay[i] = (this.delay[i] == 0) ? min : Math.min(this.delay[i] * 2, max);
				this.due[i] = System.nanoTime() + this.delay[i];
			}
		}

	}

	/** XREAD BLOCK over 1,000 streams per connection, issued again as soon as it returns. */
	private final class BlockingReader extends Reader {

		@Override
		void run() {
			List<List<Integer>> groups = new ArrayList<>();
			for (int from = 0; from < EntryReadingCost.this.streams; from += BLOCKING_PER_CONNECTION) {
				List<Integer> group = new ArrayList<>();
				for (int i = from; i < Math.min(EntryReadingCost.this.streams, from + BLOCKING_PER_CONNECTION); i++) {
					group.add(i);
				}
				groups.add(group);
			}
			for (List<Integer> group : groups) {
				lane(group);
			}
			while (this.running) {
				LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
			}
			// the lanes end with their next reply (at most the block time)
			LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(11));
		}

		private void lane(List<Integer> group) {
			if (!this.running) {
				return;
			}
			readMany(group, Duration.ofSeconds(10)).whenComplete((result, failure) -> {
				if (result != null) {
					for (int i : group) {
						seen(i, result.get(EntryReadingCost.this.names[i]), this.recorder);
					}
				}
				lane(group);
			});
		}

	}

	/** Keyspace xadd events wake the reader; a safety poll every 10 s reads every stream. */
	private final class NotifiedReader extends Reader {

		private final Set<Integer> notified = ConcurrentHashMap.newKeySet();

		private RPatternTopic topic;

		private int listener;

		@Override
		void run() {
			String flags = (String) ((List<?>) EntryReadingCost.this.redis.command("CONFIG", "GET", "notify-keyspace-events")).get(1);
			String merged = flags + (flags.contains("E") ? "" : "E") + (flags.contains("t") || flags.contains("A") ? "" : "t");
			EntryReadingCost.this.redis.command("CONFIG", "SET", "notify-keyspace-events", merged);
			Map<String, Integer> index = indexOf();
			this.topic = EntryReadingCost.this.client.getPatternTopic("__keyevent@*__:xadd", StringCodec.INSTANCE);
			this.listener = this.topic.addListener(String.class, (pattern, channel, key) -> {
				Integer stream = index.get(key);
				if (stream != null && this.notified.add(stream)) {
					LockSupport.unpark(this.thread);
				}
			});
			long nextSafetyPoll = System.nanoTime() + SAFETY_POLL_NANOS;
			while (this.running) {
				List<Integer> due = new ArrayList<>();
				if (System.nanoTime() - nextSafetyPoll >= 0) {
					for (int i = 0; i < EntryReadingCost.this.streams; i++) {
						due.add(i);
					}
					this.notified.clear();
					nextSafetyPoll = System.nanoTime() + SAFETY_POLL_NANOS;
				}
				else {
					for (Integer i : this.notified) {
						if (this.notified.remove(i)) {
							due.add(i);
						}
					}
				}
				int chunkSize = (due.size() > MULTI_KEY) ? 1000 : MULTI_KEY;
				List<CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>>> reads = new ArrayList<>();
				List<List<Integer>> chunks = new ArrayList<>();
				for (int from = 0; from < due.size(); from += chunkSize) {
					List<Integer> chunk = due.subList(from, Math.min(due.size(), from + chunkSize));
					chunks.add(chunk);
					reads.add(readMany(chunk, null));
				}
				for (int c = 0; c < chunks.size(); c++) {
					Map<String, Map<StreamMessageId, Map<String, String>>> result = reads.get(c).join();
					if (result != null) {
						for (int i : chunks.get(c)) {
							seen(i, result.get(EntryReadingCost.this.names[i]), this.recorder);
						}
					}
				}
				if (this.notified.isEmpty()) {
					LockSupport.parkNanos(this, Math.max(0, nextSafetyPoll - System.nanoTime()));
				}
			}
			this.topic.removeListener(this.listener);
			EntryReadingCost.this.redis.command("CONFIG", "SET", "notify-keyspace-events", flags);
		}

	}

}
