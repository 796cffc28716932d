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
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;

/**
 * Scenario "shipped" (issue 9): the product as a user runs it, measured from outside. For each N: a fresh
 * {@code redis-server} on a free loopback port; N data streams {@code session:<n>} with one entry each; the
 * sample-app jar started as shipped ({@code java -Xmx512m -jar sample-app/target/stream-lease-sample-app-*.jar
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
 * <li>disowned: {@code stream.lease.events{type=disowned}} at the end, and the streams still held.</li>
 * </ul>
 * <pre>
 * ./mvnw -B -o install -DskipTests &amp;&amp; ./mvnw -B -Pbenchmarks -pl benchmarks package -DskipTests
 * java -cp benchmarks/target/stream-lease-benchmarks.jar io.streamlease.benchmarks.ShippedProductBenchmark \
 *     --sizes=1000,10000,100000 --idle=60 --rate=1000 --rate-duration=30
 * </pre>
 * Results: {@code benchmarks/results/shipped.md} (the table for docs/PERFORMANCE.md) and {@code shipped.csv}.
 */
public final class ShippedProductBenchmark {

	private static final String SERVICE = "sessions";

	private static final String AUDIT = "sample:audit";

	private final Path root;

	private final Path jar;

	private final int idleSeconds;

	private final int rate;

	private final int rateSeconds;

	private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

	private ShippedProductBenchmark(Path root, Path jar, int idleSeconds, int rate, int rateSeconds) {
		this.root = root;
		this.jar = jar;
		this.idleSeconds = idleSeconds;
		this.rate = rate;
		this.rateSeconds = rateSeconds;
	}

	/** The figures of one N. */
	record Result(int streams, long held, double idleCommandsPerSecond, Map<String, Long> idleCommands,
			double idleCpuPercent, double heapPerStream, long heapBaseline, long heapHeld, double loadRate,
			double loadCpuPercent, double loadCommandsPerSecond, long written, long handled, long handledTwice,
			double p50, double p99, double max, double disowned, double heldAtEnd, double seconds, double loadAverage,
			String error) {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> options = new LinkedHashMap<>();
		for (String arg : args) {
			int eq = arg.indexOf('=');
			options.put(arg.substring(2, (eq < 0) ? arg.length() : eq), (eq < 0) ? "true" : arg.substring(eq + 1));
		}
		Path root = Path.of(options.getOrDefault("root", ".")).toAbsolutePath().normalize();
		Path jar = options.containsKey("jar") ? Path.of(options.get("jar")) : findJar(root);
		List<Integer> sizes = new ArrayList<>();
		for (String size : options.getOrDefault("sizes", "1000,10000").split(",")) {
			sizes.add(Integer.parseInt(size.trim()));
		}
		ShippedProductBenchmark benchmark = new ShippedProductBenchmark(root, jar,
				Integer.parseInt(options.getOrDefault("idle", "60")), Integer.parseInt(options.getOrDefault("rate", "1000")),
				Integer.parseInt(options.getOrDefault("rate-duration", "30")));
		List<Result> results = new ArrayList<>();
		for (int size : sizes) {
			results.add(benchmark.measure(size));
			benchmark.write(results, String.join(" ", args));
		}
		System.exit(0);
	}

	private static Path findJar(Path root) throws IOException {
		try (var files = Files.list(root.resolve("sample-app/target"))) {
			return files.filter((file) -> file.getFileName().toString().matches("stream-lease-sample-app-.*\\.jar"))
				.findFirst()
				.orElseThrow(() -> new IllegalStateException("No sample-app jar in sample-app/target: build it first"));
		}
	}

	private Result measure(int streams) {
		log("N=" + streams + ": starting Redis");
		long started = System.nanoTime();
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(60)))) {
			RedisProbe probe = new RedisProbe(redis);
			RedissonClient control = RedissonClients.create(redis.uri());
			Process app = null;
			try {
				fill(control, streams);
				int port = freePort();
				app = startApp(redis, port, streams);
				awaitHealthy(app, port);
				long heapBaseline = heapAfterGc(app, port);
				log("N=" + streams + ": heap before announcing " + heapBaseline / 1024 + " KiB; announcing");
				announce(control, streams);
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120 + streams / 500);
				while ((metric(port, "stream.lease.owned", null) < streams || auditLength(redis) < streams)
						&& System.nanoTime() - deadline < 0) {
					requireAlive(app);
					LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(500));
				}
				double held = metric(port, "stream.lease.owned", null);
				log("N=" + streams + ": " + held + " held, " + auditLength(redis) + " entries handled after "
						+ Math.round((System.nanoTime() - started) / 1e9) + " s; settling");
				// past the first safety poll of every stream (30 s after its first read)
				LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(35));

				RedisProbe.Snapshot before = probe.snapshot();
				LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(this.idleSeconds));
				RedisProbe.Delta idle = RedisProbe.delta(before, probe.snapshot());
				Map<String, Long> topLevel = monitor(redis, 20);
				long total = topLevel.values().stream().mapToLong(Long::longValue).sum();
				double commandsPerSecond = total / 20.0;
				log("N=" + streams + ": idle Redis CPU " + Spread.number(idle.cpuPercent(), 2) + " %, top-level commands/s "
						+ Spread.number(commandsPerSecond, 1) + " " + topLevel);
				long heapHeld = heapAfterGc(app, port);
				double heldNow = metric(port, "stream.lease.owned", null);
				double heapPerStream = (heapHeld - heapBaseline) / Math.max(1, heldNow);
				log("N=" + streams + ": heap " + heapHeld / 1024 + " KiB held, " + Spread.number(heapPerStream, 0)
						+ " B per held stream");

				double loadAverage = MachineInfo.loadAverage();
				Load load = load(control, redis, probe, streams);
				double disowned = metric(port, "stream.lease.events", "type:disowned");
				double heldAtEnd = metric(port, "stream.lease.owned", null);
				log("N=" + streams + ": load " + Spread.number(load.achieved, 0) + "/s, p99 " + Spread.number(load.p99, 1)
						+ " ms, handled " + load.handled + " of " + load.written + ", twice " + load.twice + "; disowned "
						+ disowned + ", held " + heldAtEnd);
				return new Result(streams, (long) held, commandsPerSecond, topLevel, idle.cpuPercent(), heapPerStream,
						heapBaseline, heapHeld, load.achieved, load.cpu, load.commands, load.written, load.handled, load.twice,
						load.p50, load.p99, load.max, disowned, heldAtEnd, (System.nanoTime() - started) / 1e9, loadAverage,
						null);
			}
			catch (Exception ex) {
				log("N=" + streams + " failed: " + ex);
				ex.printStackTrace();
				return new Result(streams, 0, Double.NaN, Map.of(), Double.NaN, Double.NaN, 0, 0, Double.NaN, Double.NaN,
						Double.NaN, 0, 0, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
						(System.nanoTime() - started) / 1e9, MachineInfo.loadAverage(), ex.toString());
			}
			finally {
				if (app != null) {
					app.destroy();
					try {
						app.waitFor(30, TimeUnit.SECONDS);
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
					app.destroyForcibly();
				}
				control.shutdown();
			}
		}
	}

	private Process startApp(RedisServer redis, int port, int streams) throws IOException {
		List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
				"-Xmx512m", "-jar", this.jar.toString(), "--spring.data.redis.host=" + redis.host(),
				"--spring.data.redis.port=" + redis.port(), "--stream-lease.hb-interval=10s",
				"--stream-lease.max-concurrent-streams=" + Math.max(1000, streams), "--sample.processing-delay=0",
				"--sample.producer.enabled=false", "--sample.audit.enabled=true", "--server.port=" + port,
				"--management.endpoints.web.exposure.include=health,metrics,streams",
				"--logging.level.io.streamlease=WARN", "--logging.level.io.streamlease.sample=WARN"));
		Path log = this.root.resolve("benchmarks/results/shipped-app-" + streams + ".log");
		Files.createDirectories(log.getParent());
		log("Starting " + String.join(" ", command.subList(1, command.size())));
		return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
	}

	private void awaitHealthy(Process app, int port) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
		while (System.nanoTime() - deadline < 0) {
			requireAlive(app);
			try {
				if (get(port, "/actuator/health").contains("\"UP\"")) {
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

	private static void requireAlive(Process app) {
		if (!app.isAlive()) {
			throw new IllegalStateException("The sample app ended with exit code " + app.exitValue());
		}
	}

	/** Used heap after two full collections, from the application's own metrics. */
	private long heapAfterGc(Process app, int port) throws Exception {
		for (int i = 0; i < 2; i++) {
			Process gc = new ProcessBuilder("jcmd", Long.toString(app.pid()), "GC.run").redirectErrorStream(true).start();
			gc.getInputStream().readAllBytes();
			gc.waitFor(60, TimeUnit.SECONDS);
			LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(300));
		}
		return (long) metric(port, "jvm.memory.used", "area:heap");
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
			RBatch batch = control.createBatch(BatchOptions.defaults().skipResult());
			for (int i = from; i < Math.min(streams, from + 1000); i++) {
				batch.getStream("session:" + i, StringCodec.INSTANCE).addAsync(StreamAddArgs.entries(Map.of("type", "event", "amount", "1")));
			}
			batch.execute();
		}
	}

	private static void announce(RedissonClient control, int streams) {
		for (int from = 0; from < streams; from += 1000) {
			RBatch batch = control.createBatch(BatchOptions.defaults().skipResult());
			var lbs = batch.<String, String>getStream(SERVICE + "-input", StringCodec.INSTANCE);
			for (int i = from; i < Math.min(streams, from + 1000); i++) {
				lbs.addAsync(StreamAddArgs.entry("lbs-input", "{\"DataStreamName\":\"session:" + i + "\",\"Info\":{}}"));
			}
			batch.execute();
		}
	}

	/** What the loaded window measured. */
	private record Load(double achieved, double cpu, double commands, long written, long handled, long twice, double p50,
			double p99, double max) {
	}

	private Load load(RedissonClient control, RedisServer redis, RedisProbe probe, int streams) throws Exception {
		AtomicBoolean producing = new AtomicBoolean(true);
		List<String> sent = java.util.Collections.synchronizedList(new ArrayList<>());
		AtomicBoolean measuring = new AtomicBoolean(false);
		Thread producer = new Thread(() -> {
			long interval = 1_000_000_000L / this.rate;
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
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(3));
		String auditFrom = lastAuditId(redis);
		measuring.set(true);
		RedisProbe.Snapshot before = probe.snapshot();
		LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(this.rateSeconds));
		RedisProbe.Snapshot after = probe.snapshot();
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
		return new Load(written.size() / (double) this.rateSeconds, window.cpuPercent(), window.commandsPerSecond(),
				written.size(), handled, twice, latencies.getValueAtPercentile(50), latencies.getValueAtPercentile(99),
				latencies.getMaxValue());
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

	private void write(List<Result> results, String args) throws IOException {
		Path directory = this.root.resolve("benchmarks/results");
		Files.createDirectories(directory);
		StringBuilder csv = new StringBuilder("streams,held,idle_commands_per_s,idle_cpu_percent,heap_per_stream_bytes,"
				+ "heap_baseline,heap_held,load_rate,load_cpu_percent,load_commands_per_s,written,handled,handled_twice,"
				+ "p50_ms,p99_ms,max_ms,disowned,held_at_end,seconds,idle_commands,error\n");
		StringBuilder md = new StringBuilder();
		md.append("Measured ").append(Instant.now()).append(" with `java -cp benchmarks/target/stream-lease-benchmarks.jar "
				+ "io.streamlease.benchmarks.ShippedProductBenchmark ").append(args).append("` (idle windows ")
			.append(this.idleSeconds).append(" s for CPU and 20 s of MONITOR; load ").append(this.rate).append(" entries/s for ")
			.append(this.rateSeconds).append(" s).\n\n");
		md.append("| N open sessions | held | top-level Redis commands/s, idle | Redis CPU % of a core, idle | heap per held stream "
				+ "| at ").append(this.rate).append(" entries/s: p50 / p99 / max XADD → handler | handled once / written "
				+ "| Redis CPU %, loaded | disowned | top-level commands in 20 s idle | 1-min load average of the machine |\n");
		md.append("|---:|---:|---:|---:|---:|---|---|---:|---:|---|---:|\n");
		for (Result r : results) {
			csv.append(r.streams()).append(',').append(r.held()).append(',').append(r.idleCommandsPerSecond()).append(',')
				.append(r.idleCpuPercent()).append(',').append(r.heapPerStream()).append(',').append(r.heapBaseline()).append(',')
				.append(r.heapHeld()).append(',').append(r.loadRate()).append(',').append(r.loadCpuPercent()).append(',')
				.append(r.loadCommandsPerSecond()).append(',').append(r.written()).append(',').append(r.handled()).append(',')
				.append(r.handledTwice()).append(',').append(r.p50()).append(',').append(r.p99()).append(',').append(r.max())
				.append(',').append(r.disowned()).append(',').append(r.heldAtEnd()).append(',').append(r.seconds()).append(',')
				.append('"').append(r.idleCommands()).append('"').append(',').append((r.error() != null) ? '"' + r.error() + '"' : "")
				.append('\n');
			md.append("| ").append(String.format("%,d", r.streams())).append(" | ").append(String.format("%,d", r.held()))
				.append(" | ").append(Spread.number(r.idleCommandsPerSecond(), 1)).append(" | ")
				.append(Spread.number(r.idleCpuPercent(), 2)).append(" | ").append(Spread.number(r.heapPerStream(), 0))
				.append(" B | ").append(Spread.number(r.p50(), 0)).append(" / ").append(Spread.number(r.p99(), 0)).append(" / ")
				.append(Spread.number(r.max(), 0)).append(" ms | ").append(r.handled()).append(" / ").append(r.written())
				.append((r.handledTwice() > 0) ? " (" + r.handledTwice() + " twice)" : "").append(" | ")
				.append(Spread.number(r.loadCpuPercent(), 1)).append(" | ").append(Spread.number(r.disowned(), 0)).append(" | ")
				.append(r.idleCommands()).append((r.error() != null) ? " (" + r.error() + ")" : "").append(" | ")
				.append(Spread.number(r.loadAverage(), 1)).append(" |\n");
		}
		Files.writeString(directory.resolve("shipped.csv"), csv);
		Files.writeString(directory.resolve("shipped.md"), md);
		System.out.println(md);
	}

	private static void log(String message) {
		System.out.println(Instant.now() + " " + message);
	}

}
