package io.streamlease.engine;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.Version;
import io.netty.util.internal.PlatformDependent;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.api.options.OptionalOptions;
import org.redisson.client.codec.StringCodec;
import org.redisson.client.protocol.Encoder;
import org.redisson.config.Config;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A measurement, not a test (surefire's default includes skip it; every method is skipped unless its property is
 * set): script calls against a Redis that refuses connections, is frozen (SIGSTOP), was never reachable, or is
 * SIGKILLed and restarted, counting the argument buffers Redisson leaves unreleased, Netty's leak reports and the
 * direct memory in use. Run it alone, in its own JVM, with every buffer tracked:
 *
 * <pre>
 * ./mvnw -B -o -q -pl autoconfigure -am test -Dtest='ScriptBufferLeakProbe#probe' -Dsurefire.failIfNoSpecifiedTests=false \
 *     -DargLine="-Dprobe=true -Dprobe.seconds=60 -Dio.netty.leakDetection.level=paranoid"
 * </pre>
 *
 * Other methods: {@code stressAcrossKillAndRestart} ({@code -Dprobe.stress=true}, 200 calls in flight),
 * {@code engineAcrossKillAndRestart} ({@code -Dprobe.engine=true}, two engines holding 2,000 streams) and
 * {@code shutdownWithCallsInFlight} ({@code -Dprobe.shutdown=true}). Results go to the surefire output file of the
 * class; docs/OPERATIONS.md (section 9) has the figures.
 */
class ScriptBufferLeakProbe {

	static final AtomicInteger leakReports = new AtomicInteger();

	static {
		ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
			@Override
			@SuppressWarnings("deprecation")
			public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
					long maxActive) {
				return new ResourceLeakDetector<>(resource, samplingInterval) {
					@Override
					protected void reportTracedLeak(String resourceType, String records) {
						leakReports.incrementAndGet();
						if (leakReports.get() <= 2) {
							System.out.println("LEAK REPORT: " + records.substring(0, Math.min(3000, records.length())));
						}
					}

					@Override
					protected void reportUntracedLeak(String resourceType) {
						leakReports.incrementAndGet();
					}
				};
			}
		});
	}

	/** StringCodec whose encoder remembers every buffer it creates. */
	static final class RecordingCodec extends StringCodec {

		final Queue<ByteBuf> created = new ConcurrentLinkedQueue<>();

		private final Encoder encoder = (in) -> {
			ByteBuf buf = StringCodec.INSTANCE.getValueEncoder().encode(in);
			this.created.add(buf);
			return buf;
		};

		@Override
		public Encoder getValueEncoder() {
			return this.encoder;
		}

		long unreleased() {
			return this.created.stream().filter((b) -> b.refCnt() > 0).count();
		}

	}

	static RedissonClient client(RedisServer server) {
		// as RedisConnection.toRedissonConfig builds the lease client (hb 2 s -> timeout 3 s)
		Config config = new Config();
		config.setLazyInitialization(true);
		config.useSingleServer()
			.setAddress(server.uri())
			.setConnectionMinimumIdleSize(8)
			.setConnectionPoolSize(64)
			.setTimeout(Integer.getInteger("probe.timeout", 3000))
			.setRetryAttempts(0);
		return Redisson.create(config);
	}

	static String memory() {
		long platform = PlatformDependent.usedDirectMemory();
		long allocator = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric().usedDirectMemory();
		long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
			.stream()
			.filter((p) -> p.getName().equals("direct"))
			.findFirst()
			.get()
			.getMemoryUsed();
		return "PlatformDependent.usedDirectMemory=" + platform + " allocator.usedDirectMemory=" + allocator
				+ " jdk.direct=" + jdk + " leakReports=" + leakReports.get();
	}

	static void gc() throws InterruptedException {
		for (int i = 0; i < 3; i++) {
			System.gc();
			Thread.sleep(200);
		}
		// allocations trigger the detector's report of collected, unreleased buffers
		for (int i = 0; i < 100; i++) {
			ByteBufAllocator.DEFAULT.directBuffer(16).release();
		}
	}

	/** Calls per second during the outage, as a renewal + a few scripts would. */
	static final int RATE = Integer.getInteger("probe.rate", 20);

	static final List<Object> KEYS = List.of("{svc}:consumers", "{svc}:sessions", "{svc}:session-consumers",
			"{svc}:session-seq", "{svc}:session:c1", "{svc}:instances");

	static final List<String> ARGS = List.of("register", "c1", "10000", "nonce-0123456789", "");

	static long[] run(RedissonClient redisson, RecordingCodec codec, Duration length) throws Exception {
		RScript script = redisson.getScript(OptionalOptions.defaults().codec(codec).retryAttempts(0));
		long deadline = System.nanoTime() + length.toNanos();
		List<CompletableFuture<Object>> futures = new java.util.ArrayList<>();
		long calls = 0;
		AtomicInteger failures = new AtomicInteger();
		java.util.Map<String, Integer> causes = new java.util.concurrent.ConcurrentHashMap<>();
		while (System.nanoTime() < deadline) {
			CompletableFuture<Object> f = script
				.evalShaAsync("{svc}:consumers", RScript.Mode.READ_WRITE, "0123456789012345678901234567890123456789",
						RScript.ReturnType.LIST, KEYS, ARGS.toArray())
				.toCompletableFuture();
			f.whenComplete((r, e) -> {
				if (e != null) {
					failures.incrementAndGet();
					Throwable c = LeaseScript.unwrap(e);
					String m = c.getClass().getSimpleName() + ": " + String.valueOf(c.getMessage());
					causes.merge(m.substring(0, Math.min(60, m.length())), 1, Integer::sum);
				}
			});
			futures.add(f);
			calls++;
			Thread.sleep(1000 / RATE);
			if (calls % (RATE * 10) == 0) {
				gc();
				System.out.println("    t=" + calls / RATE + "s " + memory() + " unreleased so far="
						+ codec.unreleased());
			}
		}
		for (CompletableFuture<Object> f : futures) {
			try {
				f.get(20, TimeUnit.SECONDS);
			}
			catch (Exception ex) {
				// counted
			}
		}
		Thread.sleep(500);
		ByteBuf first = codec.created.peek();
		System.out.println("  first buffer capacity=" + ((first != null) ? first.capacity() : -1) + " " + first);
		System.out.println("  calls=" + calls + " failures=" + failures + " buffers=" + codec.created.size()
				+ " unreleased=" + codec.unreleased() + " causes=" + causes);
		return new long[] { calls, codec.unreleased() };
	}

	/** Up to {@code inFlight} concurrent calls for {@code length}; half through LeaseScript.run, half recorded. */
	static void stress(RedissonClient redisson, RecordingCodec codec, Duration length, int inFlight) throws Exception {
		RScript script = redisson.getScript(OptionalOptions.defaults().codec(codec).retryAttempts(0));
		java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(inFlight);
		long deadline = System.nanoTime() + length.toNanos();
		java.util.Map<String, Integer> causes = new java.util.concurrent.ConcurrentHashMap<>();
		AtomicInteger calls = new AtomicInteger();
		while (System.nanoTime() < deadline) {
			if (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
				continue;
			}
			CompletableFuture<Object> f;
			if (calls.incrementAndGet() % 2 == 0) {
				f = LeaseScript.REGISTRY.run(redisson, KEYS, ARGS);
			}
			else {
				f = script.evalShaAsync("{svc}:consumers", RScript.Mode.READ_WRITE,
						"0123456789012345678901234567890123456789", RScript.ReturnType.LIST, KEYS, ARGS.toArray())
					.toCompletableFuture();
			}
			f.whenComplete((r, e) -> {
				permits.release();
				String m = (e == null) ? "ok" : LeaseScript.unwrap(e).getClass().getSimpleName();
				causes.merge(m, 1, Integer::sum);
			});
		}
		if (!permits.tryAcquire(inFlight, 30, TimeUnit.SECONDS)) {
			System.out.println("  STUCK calls: " + (inFlight - permits.availablePermits()));
		}
		else {
			permits.release(inFlight);
		}
		System.out.println("  calls=" + calls + " recorded buffers=" + codec.created.size() + " unreleased="
				+ codec.unreleased() + " outcomes=" + causes);
	}

	@Test
	void stressAcrossKillAndRestart() throws Exception {
		assumeTrue(Boolean.getBoolean("probe.stress"), "a measurement: run with -Dprobe.stress=true");
		int inFlight = Integer.getInteger("probe.inflight", 200);
		Duration down = Duration.ofSeconds(Integer.getInteger("probe.seconds", 20));
		try (RedisServer server = RedisServers.start(RedisServerSpec.defaults())) {
			RedissonClient redisson = client(server);
			try {
				for (int cycle = 0; cycle < Integer.getInteger("probe.cycles", 2); cycle++) {
					RecordingCodec codec = new RecordingCodec();
					System.out.println("cycle " + cycle + " up");
					stress(redisson, codec, Duration.ofSeconds(3), inFlight);
					gc();
					System.out.println("  " + memory());
					boolean pause = Boolean.getBoolean("probe.pause");
					Thread killer = new Thread(() -> {
						if (pause) {
							server.pause();
						}
						else {
							server.kill();
						}
						try {
							Thread.sleep(down.toMillis());
						}
						catch (InterruptedException ex) {
							Thread.currentThread().interrupt();
						}
						if (pause) {
							server.resume();
						}
						else {
							server.start();
						}
					});
					killer.start();
					System.out.println("cycle " + cycle + (pause ? " paused " : " killed ") + down + " then up");
					stress(redisson, codec, down.plusSeconds(10), inFlight);
					killer.join();
					gc();
					System.out.println("  " + memory());
				}
			}
			finally {
				redisson.shutdown();
			}
			gc();
			System.out.println("after shutdown: " + memory());
		}
	}

	static void controlLeak() throws InterruptedException {
		int before = leakReports.get();
		for (int i = 0; i < 10; i++) {
			ByteBufAllocator.DEFAULT.directBuffer(256).writeByte(1);
		}
		gc();
		System.out.println("control: 10 buffers dropped unreleased -> leak reports +" + (leakReports.get() - before));
	}

	@Test
	void engineAcrossKillAndRestart() throws Exception {
		assumeTrue(Boolean.getBoolean("probe.engine"), "a measurement: run with -Dprobe.engine=true");
		Duration down = Duration.ofSeconds(Integer.getInteger("probe.seconds", 20));
		int streams = Integer.getInteger("probe.streams", 2000);
		String service = "probe" + System.nanoTime();
		try (RedisServer server = RedisServers.start(RedisServerSpec.defaults())) {
			List<RedissonClient> clients = new java.util.ArrayList<>();
			List<StreamLeaseEngine> engines = new java.util.ArrayList<>();
			for (String consumer : List.of("a", "b")) {
				RedissonClient c = client(server);
				clients.add(c);
				StreamLeaseEngine engine = StreamLeaseEngine.create(c, EngineSettings.builder(service, consumer)
					.hbInterval(Duration.ofSeconds(2))
					.retry(RetrySettings.DEFAULT)
					.build());
				StreamEvents events = engine.start();
				Thread drain = new Thread(() -> {
					try {
						while (events.take().type() != StreamEvent.Type.TERMINATED) {
							// drop
						}
					}
					catch (InterruptedException ex) {
						Thread.currentThread().interrupt();
					}
				});
				drain.setDaemon(true);
				drain.start();
				engines.add(engine);
			}
			RedissonClient producerClient = client(server);
			LbsProducer producer = new LbsProducer(producerClient, service);
			for (int i = 0; i < streams; i++) {
				producer.submit("s-" + i, java.util.Map.of());
			}
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			while (engines.get(0).ownedCount() + engines.get(1).ownedCount() < streams && System.nanoTime() < deadline) {
				Thread.sleep(200);
			}
			System.out.println("held " + (engines.get(0).ownedCount() + engines.get(1).ownedCount()));
			gc();
			System.out.println("before: " + memory());
			server.kill();
			System.out.println("killed for " + down);
			Thread.sleep(down.toMillis());
			gc();
			System.out.println("during: " + memory());
			server.start();
			deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
			while (engines.get(0).ownedCount() + engines.get(1).ownedCount() < streams && System.nanoTime() < deadline) {
				Thread.sleep(200);
			}
			System.out.println("held again " + (engines.get(0).ownedCount() + engines.get(1).ownedCount()));
			gc();
			System.out.println("after: " + memory());
			for (StreamLeaseEngine engine : engines) {
				engine.close();
			}
			for (RedissonClient c : clients) {
				c.shutdown();
			}
			producerClient.shutdown();
			gc();
			System.out.println("after shutdown: " + memory());
			controlLeak();
		}
	}

	@Test
	void shutdownWithCallsInFlight() throws Exception {
		assumeTrue(Boolean.getBoolean("probe.shutdown"), "a measurement: run with -Dprobe.shutdown=true");
		try (RedisServer server = RedisServers.start(RedisServerSpec.defaults())) {
			RedissonClient redisson = client(server);
			RecordingCodec codec = new RecordingCodec();
			RScript script = redisson.getScript(OptionalOptions.defaults().codec(codec).retryAttempts(0));
			// connect the pool
			script.evalShaAsync("{svc}:consumers", RScript.Mode.READ_WRITE, "0123456789012345678901234567890123456789",
					RScript.ReturnType.LIST, KEYS, ARGS.toArray()).toCompletableFuture().handle((r, e) -> null).get();
			server.pause();
			List<CompletableFuture<Object>> futures = new java.util.ArrayList<>();
			for (int i = 0; i < 100; i++) {
				futures.add(script.evalShaAsync("{svc}:consumers", RScript.Mode.READ_WRITE,
						"0123456789012345678901234567890123456789", RScript.ReturnType.LIST, KEYS, ARGS.toArray())
					.toCompletableFuture());
			}
			Thread.sleep(500);
			redisson.shutdown();
			server.resume();
			Thread.sleep(5000);
			long done = futures.stream().filter(CompletableFuture::isDone).count();
			gc();
			System.out.println("shutdown in flight: futures done " + done + "/100, buffers " + codec.created.size()
					+ " unreleased " + codec.unreleased() + " " + memory());
			controlLeak();
		}
	}

	@Test
	void probe() throws Exception {
		assumeTrue(Boolean.getBoolean("probe"), "a measurement: run with -Dprobe=true");
		System.out.println("Netty " + Version.identify().get("netty-buffer") + " allocator "
				+ ByteBufAllocator.DEFAULT.getClass().getSimpleName() + " leak level " + ResourceLeakDetector.getLevel());
		Duration length = Duration.ofSeconds(Integer.getInteger("probe.seconds", 20));
		String scenario = System.getProperty("probe.scenario", "all");
		try (RedisServer server = RedisServers.start(RedisServerSpec.defaults())) {
			RedissonClient redisson = client(server);
			try {
				gc();
				System.out.println("before: " + memory());
				if (scenario.equals("all") || scenario.equals("up")) {
					System.out.println("UP (NOSCRIPT errors, control)");
					run(redisson, new RecordingCodec(), Duration.ofSeconds(2));
				}
				if (scenario.equals("all") || scenario.equals("stopped")) {
					server.stop();
					System.out.println("STOPPED " + length);
					run(redisson, new RecordingCodec(), length);
					gc();
					System.out.println("during: " + memory());
					server.start();
					run(redisson, new RecordingCodec(), Duration.ofSeconds(3));
				}
				if (scenario.equals("all") || scenario.equals("paused")) {
					server.pause();
					System.out.println("PAUSED " + length);
					run(redisson, new RecordingCodec(), length);
					gc();
					System.out.println("during: " + memory());
					server.resume();
					Thread.sleep(3000);
					run(redisson, new RecordingCodec(), Duration.ofSeconds(3));
				}
				gc();
				System.out.println("after: " + memory());
			}
			finally {
				redisson.shutdown();
			}
			gc();
			System.out.println("after shutdown: " + memory());
		}
		if (scenario.equals("all") || scenario.equals("never")) {
			RedisServer down = RedisServers.start(RedisServerSpec.defaults());
			down.stop();
			RedissonClient redisson = client(down);
			try {
				System.out.println("NEVER CONNECTED " + length);
				run(redisson, new RecordingCodec(), length);
				gc();
				System.out.println("during: " + memory());
			}
			finally {
				redisson.shutdown();
				down.close();
			}
		}
	}

}
