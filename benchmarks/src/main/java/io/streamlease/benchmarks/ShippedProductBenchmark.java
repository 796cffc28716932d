package io.streamlease.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.HdrHistogram.Histogram;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario "shipped" (issue 9): the product as a user runs it, measured from outside. For each N: a fresh
 * {@code redis-server} on a free loopback port; N data streams {@code session:<n>} with one entry each; the
 * sample-app jar started as shipped ({@code java -Xmx512m -jar stream-lease-sample-app.jar
 * --stream-lease.hb-interval=10s}, its own Redisson clients and defaults, max-concurrent-streams raised to N,
 * processing delay 0, the processing audit on so that the time each entry reached the handler can be read from
 * Redis); the N sessions announced in the wire format ({@code XADD sessions-input * lbs-input
 * '{"DataStreamName":"session:<n>","Info":{}}'}). Once every session is held and its entry handled:
 * <ul>
 * <li>idle: Redis CPU ({@code used_cpu_sys + used_cpu_user} delta) and top-level commands/s (MONITOR, lines from
 * {@code lua} excluded, in a window of its own, since MONITOR costs Redis CPU);</li>
 * <li>heap: used heap after two {@code jcmd GC.run}, from {@code /actuator/metrics/jvm.memory.used} (area heap),
 * minus the same before the sessions were announced, divided by the streams held;</li>
 * <li>load: {@code rate} entries/s written to random sessions; the latency from XADD to the handler is the audit
 * record's id time minus the entry's id time (both the server's clock, 1 ms resolution); each entry must be
 * handled once;</li>
 * <li>hold: at the largest N the streams stay held until {@code shipped-hold} has passed since all were held;</li>
 * <li>disowned: {@code stream.lease.events{type=disowned}} at the end, and the streams still held.</li>
 * </ul>
 * Then the throughput case: {@code throughputStreams} streams pre-filled with {@code throughputEntries} entries
 * each, the jar started with {@code entry.checkpoint-every} as given and the audit off, the streams announced at
 * once; entries/s from the handler's own meter ({@code stream.lease.handler.duration} count, polled), exact counts
 * from the checkpoints (position and the sample's {@code events} state of every stream).
 * The application writes a GC log ({@code -Xlog:gc}) beside its output, so that pauses can be set against the
 * latencies.
 */
final class ShippedProductBenchmark {

	private static final String SERVICE = "sessions";

	private static final String AUDIT = "sample:audit";

	private static final Logger logger = LoggerFactory.getLogger(ShippedProductBenchmark.class);

	private final BenchmarkOptions options;

	private final Path jar;

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	ShippedProductBenchmark(BenchmarkOptions options) {
		this.options = options;
		this.jar = findJar(options);
	}

	/**
	 * The figures of one N.
	 * @param heldSeconds how long all N were held, from the moment the last was held to the end
	 * @param loadAverage the one-minute load average when the loaded window started
	 * @param idleLoadAverage the one-minute load average when the idle window started
	 * @param gcPauses GC pauses of the application during the loaded window: count
	 * @param gcPauseMaxMillis the longest of them
	 * @param gcPauseTotalMillis their sum
	 */
	record Result(int streams, long held, double idleCommandsPerSecond, Map<String, Long> idleCommands,
			double idleCpuPercent, double heapPerStream, long heapBaseline, long heapHeld, double loadRate,
			double loadCpuPercent, double loadCommandsPerSecond, long written, long handled, long handledTwice,
			double p50, double p90, double p99, double max, double disowned, double heldAtEnd, double heldSeconds,
			double seconds, double idleLoadAverage, double loadAverage, long gcPauses, double gcPauseMaxMillis,
			double gcPauseTotalMillis, double checkpointsInFlightMean, double checkpointsInFlightMax, double readsInFlightMean,
			double readsInFlightMax, long handlerFailures, long renewalRetries, String error) {
	}

	/**
	 * The throughput case.
	 * @param expected entries written
	 * @param handled entries handled (the handler meter's count at the end)
	 * @param entriesPerSecond handled from the first to the last, by the meter
	 * @param checkpointedAtEnd streams whose checkpoint holds their last entry as position and the number of entries
	 * as the sample's {@code events} state
	 */
	record Throughput(int streams, int perStream, int checkpointEvery, long expected, long handled,
			double entriesPerSecond, double seconds, long checkpoints, double redisCpuPercent, double redisCommandsPerSecond,
			int checkpointedAtEnd, double loadAverage, String error) {
	}

	/** Everything the scenario measured. */
	record Results(String jar, List<Result> cases, Throughput throughput) {
	}

	Results run() {
		List<Result> cases = new ArrayList<>();
		int largest = this.options.shippedSizes.stream().mapToInt(Integer::intValue).max().orElse(0);
		for (int size : this.options.shippedSizes) {
			cases.add(measure(size, (size == largest) ? this.options.shippedHold : Duration.ZERO));
		}
		Throughput throughput = (this.options.shippedThroughputStreams > 0) ? throughput() : null;
		return new Results(this.jar.getFileName().toString(), cases, throughput);
	}

	/**
	 * The sample-app jar: {@code --shipped-jar}, else {@code app/} beside the benchmark jar (where the build copies
	 * it), else {@code sample-app/target/} of the repository.
	 */
	private static Path findJar(BenchmarkOptions options) {
		if (options.shippedJar != null) {
			return options.shippedJar;
		}
		try {
			Path here = Path.of(ShippedProductBenchmark.class.getProtectionDomain().getCodeSource().getLocation().toURI());
			Path copied = here.resolveSibling("app").resolve("stream-lease-sample-app.jar");
			if (Files.isRegularFile(copied)) {
				return copied;
			}
		}
		catch (Exception ex) {
			// not run from a jar
		}
		Path target = options.root.resolve("sample-app/target");
		if (Files.isDirectory(target)) {
			try (var files = Files.list(target)) {
				Optional<Path> found = files.filter((file) -> file.getFileName().toString().matches("stream-lease-sample-app-.*\\.jar"))
					.findFirst();
				if (found.isPresent()) {
					return found.get();
				}
			}
			catch (IOException ex) {
				// fall through
			}
		}
		throw new IllegalStateException("No sample-app jar: none in app/ beside the benchmark jar nor in " + target
				+ "; build with ./mvnw -B -Pbenchmarks -pl benchmarks -am package -DskipTests, or pass --shipped-jar=<path>");
	}

	private Result measure(int streams, Duration hold) {
		log("N=" + streams + ": starting Redis");
		long started = System.nanoTime();
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(60)))) {
			RedisProbe probe = new RedisProbe(redis);
			RedissonClient control = RedissonClients.create(redis.uri());
			App app = null;
			try {
				fill(control, streams);
				app = startApp(redis, "shipped-" + streams, List.of("--stream-lease.max-concurrent-streams=" + Math.max(1000, streams),
						"--sample.audit.enabled=true"));
				long heapBaseline = heapAfterGc(app);
				log("N=" + streams + ": heap before announcing " + heapBaseline / 1024 + " KiB; announcing");
				announce(control, streams);
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120 + streams / 500);
				while ((metric(app.port, "stream.lease.owned", null) < streams || auditLength(redis) < streams)
						&& System.nanoTime() - deadline < 0) {
					app.requireAlive();
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
				}
				long allHeld = System.nanoTime();
				double held = metric(app.port, "stream.lease.owned", null);
				log("N=" + streams + ": " + held + " held, " + auditLength(redis) + " entries handled after "
						+ Math.round((allHeld - started) / 1e9) + " s; settling");
				// past the first safety poll of every stream (30 s after its first read)
				LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(35));

				double idleLoadAverage = MachineInfo.loadAverage();
				RedisProbe.Snapshot before = probe.snapshot();
				LockSupport.parkNanos(this.options.shippedIdle.toNanos());
				RedisProbe.Delta idle = RedisProbe.delta(before, probe.snapshot());
				Map<String, Long> topLevel = monitor(redis, 20);
				long total = topLevel.values().stream().mapToLong(Long::longValue).sum();
				double commandsPerSecond = total / 20.0;
				log("N=" + streams + ": idle Redis CPU " + Spread.number(idle.cpuPercent(), 2) + " %, top-level commands/s "
						+ Spread.number(commandsPerSecond, 1) + " " + topLevel);
				long heapHeld = heapAfterGc(app);
				double heldNow = metric(app.port, "stream.lease.owned", null);
				double heapPerStream = (heapHeld - heapBaseline) / Math.max(1, heldNow);
				log("N=" + streams + ": heap " + heapHeld / 1024 + " KiB held, " + Spread.number(heapPerStream, 0)
						+ " B per held stream");

				double loadAverage = MachineInfo.loadAverage();
				Load load = load(control, redis, probe, app, streams);
				long holdUntil = allHeld + hold.toNanos();
				if (System.nanoTime() - holdUntil < 0) {
					log("N=" + streams + ": holding until " + Math.round(hold.toSeconds()) + " s after all were held");
				}
				while (System.nanoTime() - holdUntil < 0) {
					app.requireAlive();
					LockSupport.parkNanos(Math.min(TimeUnit.SECONDS.toNanos(10), holdUntil - System.nanoTime()));
				}
				double heldSeconds = (System.nanoTime() - allHeld) / 1e9;
				double disowned = metric(app.port, "stream.lease.events", "type:disowned");
				double heldAtEnd = metric(app.port, "stream.lease.owned", null);
				log("N=" + streams + ": load " + Spread.number(load.achieved, 0) + "/s, p99 " + Spread.number(load.p99, 1)
						+ " ms, handled " + load.handled + " of " + load.written + ", twice " + load.twice + ", GC pauses "
						+ load.gc[0] + " (max " + Spread.number(load.gc[1], 1) + " ms); disowned " + disowned + ", held "
						+ heldAtEnd + " after " + Math.round(heldSeconds) + " s");
				return new Result(streams, (long) held, commandsPerSecond, topLevel, idle.cpuPercent(), heapPerStream,
						heapBaseline, heapHeld, load.achieved, load.cpu, load.commands, load.written, load.handled, load.twice,
						load.p50, load.p90, load.p99, load.max, disowned, heldAtEnd, heldSeconds,
						(System.nanoTime() - started) / 1e9, idleLoadAverage, loadAverage, (long) load.gc[0], load.gc[1],
						load.gc[2], load.gauges[0], load.gauges[1], load.gauges[2], load.gauges[3],
						app.logLines("@StreamHandler method", "failed on stream"),
						app.logLines("Redis call failed while renewing"), null);
			}
			catch (Exception ex) {
				log("N=" + streams + " failed: " + ex);
				ex.printStackTrace();
				return new Result(streams, 0, Double.NaN, Map.of(), Double.NaN, Double.NaN, 0, 0, Double.NaN, Double.NaN,
						Double.NaN, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
						(System.nanoTime() - started) / 1e9, Double.NaN, MachineInfo.loadAverage(), 0, Double.NaN, Double.NaN,
						Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0, ex.toString());
			}
			finally {
				if (app != null) {
					app.stop();
				}
				control.shutdown();
			}
		}
	}

	private Throughput throughput() {
		int streams = this.options.shippedThroughputStreams;
		int perStream = this.options.shippedThroughputEntries;
		int every = this.options.shippedCheckpointEvery;
		long expected = (long) streams * perStream;
		log("Throughput: " + streams + " streams of " + perStream + " entries, checkpoint-every " + every);
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(60)))) {
			RedisProbe probe = new RedisProbe(redis);
			RedissonClient control = RedissonClients.create(redis.uri());
			App app = null;
			try {
				List<String> lastIds = new ArrayList<>();
				for (int i = 0; i < streams; i++) {
					lastIds.add(null);
				}
				// about 10,000 XADDs per pipelined batch (one of 100,000 timed out on the loaded machine)
				int perBatch = Math.max(1, 10_000 / Math.max(1, streams));
				for (int written = 0; written < perStream; written += perBatch) {
					RBatch batch = control.createBatch(BatchOptions.defaults().responseTimeout(60, TimeUnit.SECONDS));
					int rounds = Math.min(perBatch, perStream - written);
					List<RFuture<StreamMessageId>> ids = new ArrayList<>();
					for (int r = 0; r < rounds; r++) {
						for (int i = 0; i < streams; i++) {
							ids.add(batch.<String, String>getStream("session:" + i, StringCodec.INSTANCE)
								.addAsync(StreamAddArgs.entries(Map.of("type", "event", "amount", "1"))));
						}
					}
					batch.execute();
					for (int i = 0; i < streams; i++) {
						lastIds.set(i, ids.get((rounds - 1) * streams + i).toCompletableFuture().join().toString());
					}
				}
				app = startApp(redis, "shipped-throughput", List.of("--stream-lease.max-concurrent-streams=" + Math.max(1000, streams),
						"--stream-lease.entry.checkpoint-every=" + every, "--sample.audit.enabled=false"));
				double loadAverage = MachineInfo.loadAverage();
				RedisProbe.Snapshot before = probe.snapshot();
				announce(control, streams);
				long announced = System.nanoTime();
				long first = 0;
				long last = 0;
				double count = 0;
				RedisProbe.Snapshot atFirst = null;
				RedisProbe.Snapshot atLast = null;
				long deadline = announced + TimeUnit.SECONDS.toNanos(60 + expected / 5000);
				while (System.nanoTime() - deadline < 0) {
					app.requireAlive();
					count = handled(app.port);
					long now = System.nanoTime();
					if (first == 0 && count > 0) {
						first = now;
						atFirst = probe.snapshot();
					}
					if (count >= expected) {
						last = now;
						atLast = probe.snapshot();
						break;
					}
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
				}
				if (atFirst == null) {
					atFirst = before;
				}
				if (atLast == null) {
					atLast = probe.snapshot();
					last = System.nanoTime();
				}
				// a caught-up checkpoint that found every permit taken is written on the stream's next read, a
				// checkpoint-interval (1 s) later; read the checkpoints back until all are exact, for at most 10 s
				int checkpointed = 0;
				long readBack = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
				do {
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
					checkpointed = 0;
					for (int i = 0; i < streams; i++) {
						List<?> fields = (List<?>) redis.command("HMGET", "{" + SERVICE + "-input}:checkpoint:session:" + i,
								"position", "state:events");
						if (lastIds.get(i).equals(fields.get(0)) && Integer.toString(perStream).equals(fields.get(1))) {
							checkpointed++;
						}
					}
				}
				while (checkpointed < streams && System.nanoTime() - readBack < 0);
				RedisProbe.Delta window = RedisProbe.delta(atFirst, atLast);
				double seconds = (last - first) / 1e9;
				// the meter's count is polled every 50 ms: the first entry was handled up to one poll before it was seen
				double entriesPerSecond = (first > 0) ? count / Math.max(seconds, 0.05) : Double.NaN;
				long checkpoints = atLast.calls("evalsha") - atFirst.calls("evalsha");
				log("Throughput: " + (long) count + " of " + expected + " handled in " + Spread.number(seconds, 2) + " s, "
						+ Spread.number(entriesPerSecond, 0) + " entries/s; " + checkpointed + " of " + streams
						+ " streams checkpointed exactly; Redis CPU " + Spread.number(window.cpuPercent(), 1) + " %");
				return new Throughput(streams, perStream, every, expected, (long) count, entriesPerSecond, seconds, checkpoints,
						window.cpuPercent(), window.commandsPerSecond(), checkpointed, loadAverage, null);
			}
			catch (Exception ex) {
				log("Throughput failed: " + ex);
				ex.printStackTrace();
				return new Throughput(streams, perStream, every, expected, 0, Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, 0,
						MachineInfo.loadAverage(), ex.toString());
			}
			finally {
				if (app != null) {
					app.stop();
				}
				control.shutdown();
			}
		}
	}

	private double handled(int port) throws Exception {
		double count = metric(port, "stream.lease.handler.duration", "outcome:success");
		return Double.isNaN(count) ? 0 : count;
	}

	/** The application started from its jar: the process, its port, its GC log. */
	private final class App {

		final Process process;

		final int port;

		final Path gcLog;

		final Instant startedAt;

		final Path log;

		App(Process process, int port, Path gcLog, Path log, Instant startedAt) {
			this.log = log;
			this.process = process;
			this.port = port;
			this.gcLog = gcLog;
			this.startedAt = startedAt;
		}

		void requireAlive() {
			if (!this.process.isAlive()) {
				throw new IllegalStateException("The sample app ended with exit code " + this.process.exitValue());
			}
		}

		void stop() {
			this.process.destroy();
			try {
				this.process.waitFor(30, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			this.process.destroyForcibly();
		}

		/** Lines of the application's output, so far, that contain every one of {@code parts}. */
		long logLines(String... parts) {
			try (var lines = Files.lines(this.log)) {
				return lines.filter((line) -> java.util.Arrays.stream(parts).allMatch(line::contains)).count();
			}
			catch (IOException | java.io.UncheckedIOException ex) {
				return -1;
			}
		}

		/** GC pauses between two instants: count, longest and total milliseconds (from the -Xlog:gc file). */
		double[] pauses(Instant from, Instant to) {
			double fromSeconds = Duration.between(this.startedAt, from).toMillis() / 1000.0;
			double toSeconds = Duration.between(this.startedAt, to).toMillis() / 1000.0;
			double[] result = new double[3];
			Pattern line = Pattern.compile("^\\[([0-9.]+)s\\].*Pause.* ([0-9.]+)ms$");
			try {
				for (String text : Files.readAllLines(this.gcLog)) {
					Matcher m = line.matcher(text);
					if (m.find()) {
						double at = Double.parseDouble(m.group(1));
						if (at >= fromSeconds && at <= toSeconds) {
							double ms = Double.parseDouble(m.group(2));
							result[0]++;
							result[1] = Math.max(result[1], ms);
							result[2] += ms;
						}
					}
				}
			}
			catch (IOException | RuntimeException ex) {
				return new double[] { 0, Double.NaN, Double.NaN };
			}
			return result;
		}

	}

	private App startApp(RedisServer redis, String name, List<String> extra) throws Exception {
		int port = freePort();
		Path directory = this.options.resultsDirectory();
		Files.createDirectories(directory);
		Path gcLog = directory.resolve(name + "-gc.log");
		List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
				"-Xmx512m", "-Xlog:gc:file=" + gcLog));
		command.addAll(this.options.shippedJvmOptions);
		command.addAll(List.of("-jar", this.jar.toString(), "--spring.data.redis.host=" + redis.host(),
				"--spring.data.redis.port=" + redis.port(), "--stream-lease.hb-interval=10s", "--sample.processing-delay=0",
				"--sample.producer.enabled=false", "--server.port=" + port,
				"--management.endpoints.web.exposure.include=health,metrics,streams",
				"--logging.level.io.streamlease=WARN", "--logging.level.io.streamlease.sample=WARN"));
		command.addAll(extra);
		Path log = directory.resolve(name + "-app.log");
		log("Starting " + String.join(" ", command.subList(1, command.size())));
		Instant startedAt = Instant.now();
		Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
		App app = new App(process, port, gcLog, log, startedAt);
		// the application must not outlive a harness that is stopped (SIGTERM, Ctrl-C) while it runs
		Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "stop-" + name));
		try {
			awaitHealthy(app);
		}
		catch (Exception ex) {
			app.stop();
			throw ex;
		}
		return app;
	}

	private void awaitHealthy(App app) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
		while (System.nanoTime() - deadline < 0) {
			app.requireAlive();
			try {
				if (get(app.port, "/actuator/health").contains("\"UP\"")) {
					return;
				}
			}
			catch (IOException ex) {
				// not listening yet
			}
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
		}
		throw new IllegalStateException("The sample app did not become healthy within 120 s");
	}

	/** Used heap after two full collections, from the application's own metrics. */
	private long heapAfterGc(App app) throws Exception {
		for (int i = 0; i < 2; i++) {
			Process gc = new ProcessBuilder("jcmd", Long.toString(app.process.pid()), "GC.run").redirectErrorStream(true).start();
			gc.getInputStream().readAllBytes();
			gc.waitFor(60, TimeUnit.SECONDS);
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
		}
		return (long) metric(app.port, "jvm.memory.used", "area:heap");
	}

	private double metric(int port, String name, String tag) throws Exception {
		String body = get(port, "/actuator/metrics/" + name + ((tag != null) ? "?tag=" + tag : ""));
		Matcher value = Pattern.compile("\"statistic\":\"VALUE\",\"value\":([-0-9.E+NaN]+)").matcher(body);
		if (value.find()) {
			return Double.parseDouble(value.group(1));
		}
		Matcher count = Pattern.compile("\"statistic\":\"COUNT\",\"value\":([-0-9.E+NaN]+)").matcher(body);
		return count.find() ? Double.parseDouble(count.group(1)) : Double.NaN;
	}

	private String get(int port, String path) throws IOException, InterruptedException {
		HttpResponse<String> response = this.http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(30))
			.build(), HttpResponse.BodyHandlers.ofString());
		return response.body();
	}

	private static long auditLength(RedisServer redis) {
		return (Long) redis.command("XLEN", AUDIT);
	}

	private static void fill(RedissonClient control, int streams) {
		for (int from = 0; from < streams; from += 1000) {
			RBatch batch = control.createBatch(BatchOptions.defaults().responseTimeout(60, TimeUnit.SECONDS));
			for (int i = from; i < Math.min(streams, from + 1000); i++) {
				batch.getStream("session:" + i, StringCodec.INSTANCE).addAsync(StreamAddArgs.entries(Map.of("type", "event", "amount", "1")));
			}
			batch.execute();
		}
	}

	private static void announce(RedissonClient control, int streams) {
		for (int from = 0; from < streams; from += 1000) {
			RBatch batch = control.createBatch(BatchOptions.defaults().responseTimeout(60, TimeUnit.SECONDS));
			var lbs = batch.<String, String>getStream(SERVICE + "-input", StringCodec.INSTANCE);
			for (int i = from; i < Math.min(streams, from + 1000); i++) {
				lbs.addAsync(StreamAddArgs.entry("lbs-input", "{\"DataStreamName\":\"session:" + i + "\",\"Info\":{}}"));
			}
			batch.execute();
		}
	}

	/** What the loaded window measured. */
	private record Load(double achieved, double cpu, double commands, long written, long handled, long twice, double p50,
			double p90, double p99, double max, double[] gc, double[] gauges) {
	}

	private Load load(RedissonClient control, RedisServer redis, RedisProbe probe, App app, int streams) throws Exception {
		int rate = this.options.shippedRate;
		int rateSeconds = (int) this.options.shippedRateDuration.toSeconds();
		AtomicBoolean producing = new AtomicBoolean(true);
		List<String> sent = java.util.Collections.synchronizedList(new ArrayList<>());
		AtomicBoolean measuring = new AtomicBoolean(false);
		Thread producer = new Thread(() -> {
			long interval = 1_000_000_000L / rate;
			long next = System.nanoTime();
			while (producing.get()) {
				next += interval;
				String stream = "session:" + ThreadLocalRandom.current().nextInt(streams);
				boolean recorded = measuring.get();
				control.getStream(stream, StringCodec.INSTANCE)
					.addAsync(StreamAddArgs.entries(Map.of("type", "event", "amount", "1")))
					.whenComplete((id, failure) -> {
						if (id != null && recorded) {
							sent.add(stream + " " + id);
						}
					});
				long wait = next - System.nanoTime();
				if (wait > 0) {
					LockSupport.parkNanos(wait);
				}
			}
		}, "shipped-producer");
		producer.start();
		// the same rate before the measured window, so that the code on the entry path is compiled (the pod has
		// handled only N entries so far: at N = 1,000 the first seconds of load run in the interpreter)
		LockSupport.parkNanos(this.options.shippedWarmup.toNanos());
		String auditFrom = lastAuditId(redis);
		measuring.set(true);
		Instant windowStart = Instant.now();
		RedisProbe.Snapshot before = probe.snapshot();
		// the entry reader's in-flight reads and checkpoints (bounded by entry.max-in-flight-*), sampled from outside
		double[] gauges = new double[4];
		int samples = 0;
		long windowEnds = System.nanoTime() + TimeUnit.SECONDS.toNanos(rateSeconds);
		while (System.nanoTime() - windowEnds < 0) {
			try {
				double checkpoints = metric(app.port, "stream.lease.entry.checkpoints.active", null);
				double reads = metric(app.port, "stream.lease.entry.reads.active", null);
				gauges[0] += checkpoints;
				gauges[1] = Math.max(gauges[1], checkpoints);
				gauges[2] += reads;
				gauges[3] = Math.max(gauges[3], reads);
				samples++;
			}
			catch (IOException ex) {
				// a sample missed
			}
			LockSupport.parkNanos(Math.max(0, Math.min(TimeUnit.MILLISECONDS.toNanos(200), windowEnds - System.nanoTime())));
		}
		gauges[0] /= Math.max(1, samples);
		gauges[2] /= Math.max(1, samples);
		RedisProbe.Snapshot after = probe.snapshot();
		Instant windowEnd = Instant.now();
		measuring.set(false);
		producing.set(false);
		producer.join();
		RedisProbe.Delta window = RedisProbe.delta(before, after);
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(5));
		Set<String> written = new HashSet<>(sent);
		Histogram latencies = new Histogram(60_000, 3);
		Set<String> seen = new HashSet<>();
		long handled = 0;
		long twice = 0;
		String from = auditFrom;
		while (true) {
			List<?> page = (List<?>) redis.command("XRANGE", AUDIT, "(" + from, "+", "COUNT", "10000");
			if (page == null || page.isEmpty()) {
				break;
			}
			for (Object item : page) {
				List<?> record = (List<?>) item;
				String auditId = (String) record.get(0);
				from = auditId;
				Map<String, String> fields = new LinkedHashMap<>();
				List<?> values = (List<?>) record.get(1);
				for (int i = 0; i + 1 < values.size(); i += 2) {
					fields.put((String) values.get(i), (String) values.get(i + 1));
				}
				String key = fields.get("stream") + " " + fields.get("entry");
				if (!"entry".equals(fields.get("kind")) || !written.contains(key)) {
					continue;
				}
				if (!seen.add(key)) {
					twice++;
					continue;
				}
				handled++;
				long latency = millis(auditId) - millis(fields.get("entry"));
				latencies.recordValue(Math.max(0, Math.min(latency, 60_000)));
			}
		}
		return new Load(written.size() / (double) rateSeconds, window.cpuPercent(), window.commandsPerSecond(),
				written.size(), handled, twice, latencies.getValueAtPercentile(50), latencies.getValueAtPercentile(90),
				latencies.getValueAtPercentile(99), latencies.getMaxValue(), app.pauses(windowStart, windowEnd.plusSeconds(5)),
				gauges);
	}

	private static String lastAuditId(RedisServer redis) {
		List<?> last = (List<?>) redis.command("XREVRANGE", AUDIT, "+", "-", "COUNT", "1");
		return (last == null || last.isEmpty()) ? "0-0" : (String) ((List<?>) last.get(0)).get(0);
	}

	private static long millis(String id) {
		return Long.parseLong(id.substring(0, id.indexOf('-')));
	}

	/** Top-level commands by name over {@code seconds}, from MONITOR, without the lines of scripts. */
	private static Map<String, Long> monitor(RedisServer redis, int seconds) throws IOException {
		Map<String, Long> commands = new TreeMap<>();
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(redis.host(), redis.port()), 5000);
			socket.setSoTimeout(1000);
			OutputStream out = socket.getOutputStream();
			out.write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8),
					1 << 20);
			long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
			boolean started = false;
			while (System.nanoTime() - end < 0) {
				String line;
				try {
					line = in.readLine();
				}
				catch (java.net.SocketTimeoutException ex) {
					continue;
				}
				if (line == null) {
					break;
				}
				if (!started) {
					started = line.startsWith("+OK");
					continue;
				}
				int open = line.indexOf('[');
				int close = line.indexOf(']', open);
				if (open < 0 || close < 0 || line.substring(open, close).contains("lua")) {
					continue;
				}
				int quote = line.indexOf('"', close);
				int endQuote = line.indexOf('"', quote + 1);
				if (quote > 0 && endQuote > quote) {
					commands.merge(line.substring(quote + 1, endQuote).toLowerCase(), 1L, Long::sum);
				}
			}
		}
		return commands;
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

	private static void log(String message) {
		logger.info(message);
	}

}
