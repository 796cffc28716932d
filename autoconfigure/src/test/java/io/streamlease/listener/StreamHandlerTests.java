package io.streamlease.listener;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamLeaseEvent;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;
import org.springframework.messaging.handler.annotation.Header;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * @StreamHandler methods on a real Redis: both modes, the error policy, cancellation, several services.
 */
class StreamHandlerTests {

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=2s",
					"stream-lease.handler.initial-backoff=50ms", "stream-lease.handler.max-backoff=200ms",
					"stream-lease.shutdown.grace-period=1s");
	}

	private static String newService(String name) {
		return RedisServerExtension.uniqueName(name);
	}

	@Test
	void aStreamLevelHandlerGetsTheStreamAndItsInfoAndFinishingIsDoneOnReturn() {
		String service = newService("stream-level");
		runner(service).withBean(StreamLevel.class).run((context) -> {
			assertThat(context).hasNotFailed();
			context.getBean(StreamLeaseTemplate.class).submit("s1", Map.of("tenant", "acme"));
			StreamLevel handler = context.getBean(StreamLevel.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.seen.containsKey("s1"));
			assertThat(handler.seen.get("s1").info()).containsEntry("tenant", "acme");
			await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(redis.command("XPENDING", service + "-input", service + "-group").toString()).startsWith("[0");
		});
	}

	@Test
	void aCompletableFutureFinishesTheStreamWhenItCompletes() {
		String service = newService("async");
		runner(service).withBean(Async.class).run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("later", null);
			Async handler = context.getBean(Async.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.pending.containsKey("later"));
			assertThat(lbsLength(service)).isEqualTo(1);
			handler.pending.get("later").complete(null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
		});
	}

	@Test
	void anEntryLevelHandlerGetsEveryEntryInOrderAndCompletesTheStream() {
		String service = newService("entries");
		runner(service).withBean(Counting.class).withPropertyValues("stream-lease.entry.checkpoint-every=3").run((context) -> {
			for (int i = 1; i <= 10; i++) {
				redis.command("XADD", "data-" + service, "*", "n", Integer.toString(i));
			}
			redis.command("XADD", "data-" + service, "*", "end", "1");
			context.getBean(StreamLeaseTemplate.class).submit("data-" + service, null);
			Counting handler = context.getBean(Counting.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.results.containsKey("data-" + service));
			assertThat(handler.results.get("data-" + service)).isEqualTo("1,2,3,4,5,6,7,8,9,10");
			await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			String checkpoint = "{" + service + "-input}:checkpoint:data-" + service;
			assertThat(redis.command("HGET", checkpoint, "state:seen")).isEqualTo("1,2,3,4,5,6,7,8,9,10");
		});
	}

	@Test
	void aFailingHandlerIsRetriedThenItsStreamIsDeadLettered() {
		String service = newService("failing");
		runner(service).withBean(Failing.class).withPropertyValues("stream-lease.handler.max-attempts=3").run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("bad", Map.of("k", "v"));
			Failing handler = context.getBean(Failing.class);
			await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(handler.calls.get()).isEqualTo(3);
			List<?> letters = (List<?>) redis.command("XRANGE", "{" + service + "-input}:dead-letters", "-", "+");
			assertThat(letters).hasSize(1);
			String dump = letters.get(0).toString();
			assertThat(dump).contains("handler-failed").contains("Failing.handle()").contains("attempt 3 of 3")
				.contains("boom").contains("DataStreamName");
		});
	}

	@Test
	void aHandlerThatSucceedsOnRetryFinishesNormally() {
		String service = newService("flaky");
		runner(service).withBean(Flaky.class).run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("flaky", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(context.getBean(Flaky.class).calls.get()).isEqualTo(2);
			assertThat(redis.command("EXISTS", "{" + service + "-input}:dead-letters")).isEqualTo(0L);
		});
	}

	@Test
	void anArgumentThatCannotBeResolvedIsNeverRetried() {
		String service = newService("args");
		runner(service).withBean(BadArgument.class).run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("x", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(context.getBean(BadArgument.class).calls.get()).isZero();
			assertThat(redis.command("XRANGE", "{" + service + "-input}:dead-letters", "-", "+").toString())
				.contains("not retried");
		});
	}

	@Test
	void aHandlerIsCancelledWhenItsLeaseIsLostAndAnEventIsPublished() {
		String service = newService("cancel");
		runner(service).withBean(Blocking.class).run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("held", null);
			Blocking handler = context.getBean(Blocking.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.started.contains("held"));
			// the owner's session lapses behind its back (as after a partition): its next renewal finds it lapsed
			redis.command("ZADD", "{" + service + "-input}:consumers", "0", context.getBean(
					io.streamlease.listener.StreamHandlerEndpointRegistry.class).getContainers().iterator().next().getEngine().id());
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.interrupted.contains("held"));
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.events.stream()
				.anyMatch((event) -> event.type() == StreamLeaseEvent.Type.DISOWNED && "held".equals(event.stream())));
		});
	}

	@Test
	void handlersOfSeveralServicesRunSideBySide() {
		String first = newService("first");
		String second = newService("second");
		runner(first).withBean(TwoServices.class).withPropertyValues("other.service=" + second).run((context) -> {
			StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
			template.submit("a", null);
			template.submit(second, "b", null);
			TwoServices handler = context.getBean(TwoServices.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.seen.size() == 2);
			assertThat(handler.seen).containsEntry("a", "first").containsEntry("b", "second");
		});
	}

	@Test
	void aClosedContextHandsOffAndAKilledOneIsReplacedAfterTheTtlWithExactResults() {
		String service = newService("two");
		int streams = 6;
		int entries = 40;
		for (int s = 0; s < streams; s++) {
			for (int i = 1; i <= entries; i++) {
				redis.command("XADD", service + "-data-" + s, "*", "n", Integer.toString(i));
			}
			redis.command("XADD", service + "-data-" + s, "*", "end", "1");
		}
		Map<String, String> results = SlowCounting.results(service);
		ConfigurableApplicationContext first = start(service, "stream-lease.consumer-id=first", "slow.delay=25",
				"stream-lease.entry.checkpoint-every=5");
		ConfigurableApplicationContext second = null;
		try {
			StreamLeaseTemplate template = first.getBean(StreamLeaseTemplate.class);
			for (int s = 0; s < streams; s++) {
				template.submit(service + "-data-" + s, null);
			}
			await().atMost(5, TimeUnit.SECONDS).until(() -> first.getBean(SlowCounting.class).entries.get() > 20);
			second = start(service, "stream-lease.consumer-id=second", "slow.delay=25", "stream-lease.entry.checkpoint-every=5");
			long closing = System.nanoTime();
			first.close();
			assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(Duration.ofSeconds(3));
			await().atMost(20, TimeUnit.SECONDS).until(() -> results.size() == streams);
			for (int s = 0; s < streams; s++) {
				assertThat(results.get(service + "-data-" + s)).as("stream %d", s).isEqualTo(expected(entries));
			}
		}
		finally {
			first.close();
			if (second != null) {
				second.close();
			}
		}
		assertThat(lbsLength(service)).isZero();
	}

	@Test
	void anInstanceStoppedWithoutHandoffIsReplacedAfterTheTtlWithExactResults() {
		String service = newService("lapse");
		for (int i = 1; i <= 30; i++) {
			redis.command("XADD", service + "-data", "*", "n", Integer.toString(i));
		}
		redis.command("XADD", service + "-data", "*", "end", "1");
		Map<String, String> results = SlowCounting.results(service);
		ConfigurableApplicationContext first = start(service, "stream-lease.consumer-id=first", "slow.delay=40",
				"stream-lease.entry.checkpoint-every=4", "stream-lease.shutdown.handoff=false");
		ConfigurableApplicationContext second = start(service, "stream-lease.consumer-id=second", "slow.delay=40",
				"stream-lease.entry.checkpoint-every=4");
		try {
			first.getBean(StreamLeaseTemplate.class).submit(service + "-data", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> first.getBean(SlowCounting.class).entries.get()
					+ second.getBean(SlowCounting.class).entries.get() > 8);
			ConfigurableApplicationContext owner = (first.getBean(SlowCounting.class).entries.get() > 0) ? first : second;
			owner.close();
			await().atMost(15, TimeUnit.SECONDS).until(() -> results.containsKey(service + "-data"));
			assertThat(results.get(service + "-data")).isEqualTo(expected(30));
		}
		finally {
			first.close();
			second.close();
		}
	}

	private static String expected(int entries) {
		StringBuilder expected = new StringBuilder();
		for (int i = 1; i <= entries; i++) {
			expected.append((i > 1) ? "," : "").append(i);
		}
		return expected.toString();
	}

	/**
	 * An application that stays up until closed (the runner closes its contexts at the end of run).
	 */
	private static ConfigurableApplicationContext start(String service, String... properties) {
		String[] all = new String[properties.length + 6];
		all[0] = "spring.application.name=" + service;
		all[1] = "spring.data.redis.host=127.0.0.1";
		all[2] = "spring.data.redis.port=" + redis.port();
		all[3] = "stream-lease.hb-interval=2s";
		all[4] = "stream-lease.shutdown.grace-period=1s";
		all[5] = "spring.main.banner-mode=off";
		System.arraycopy(properties, 0, all, 6, properties.length);
		return new SpringApplicationBuilder(SlowCountingApplication.class).web(WebApplicationType.NONE)
			.properties(all)
			.run();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration(StreamLeaseAutoConfiguration.class)
	static class SlowCountingApplication {

		@Bean
		SlowCounting slowCounting(@Value("${slow.delay}") long delay, @Value("${spring.application.name}") String service) {
			return new SlowCounting(SlowCounting.results(service), delay);
		}

	}

	static class SlowCounting extends Counting {

		private static final Map<String, Map<String, String>> RESULTS = new ConcurrentHashMap<>();

		SlowCounting(Map<String, String> results, long delay) {
			super(results, delay);
		}

		static Map<String, String> results(String service) {
			return RESULTS.computeIfAbsent(service, (name) -> new ConcurrentHashMap<>());
		}

	}

	private static long lbsLength(String service) {
		return (Long) redis.command("XLEN", service + "-input");
	}

	static class StreamLevel {

		final Map<String, LeasedStream> seen = new ConcurrentHashMap<>();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.seen.put(stream.name(), stream);
		}

	}

	static class Async {

		final Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

		@StreamHandler
		CompletableFuture<Void> handle(LeasedStream stream) {
			return this.pending.computeIfAbsent(stream.name(), (name) -> new CompletableFuture<>());
		}

	}

	static class Counting {

		final Map<String, String> results;

		final AtomicInteger entries = new AtomicInteger();

		private final long delay;

		Counting() {
			this(new ConcurrentHashMap<>(), 0);
		}

		Counting(Map<String, String> results, long delay) {
			this.results = results;
			this.delay = delay;
		}

		@StreamHandler
		void handle(StreamEntry entry, StreamState state) throws InterruptedException {
			if (entry.field("end") != null) {
				this.results.put(entry.stream(), state.get("seen"));
				state.complete();
				return;
			}
			Thread.sleep(this.delay);
			String seen = state.get("seen");
			state.put("seen", (seen == null) ? entry.field("n") : seen + "," + entry.field("n"));
			this.entries.incrementAndGet();
		}

	}

	static class Failing {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.calls.incrementAndGet();
			throw new IllegalStateException("boom");
		}

	}

	static class Flaky {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler
		void handle(LeasedStream stream) {
			if (this.calls.incrementAndGet() == 1) {
				throw new IllegalStateException("first time");
			}
		}

	}

	static class BadArgument {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler
		void handle(LeasedStream stream, @Header("no-such-header") String missing) {
			this.calls.incrementAndGet();
		}

	}

	static class Blocking {

		final List<String> started = new CopyOnWriteArrayList<>();

		final List<String> interrupted = new CopyOnWriteArrayList<>();

		final List<StreamLeaseEvent> events = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.started.add(stream.name());
			try {
				Thread.sleep(60_000);
			}
			catch (InterruptedException ex) {
				this.interrupted.add(stream.name());
			}
		}

		@EventListener
		void on(StreamLeaseEvent event) {
			this.events.add(event);
		}

	}

	static class TwoServices {

		final Map<String, String> seen = new ConcurrentHashMap<>();

		@StreamHandler
		void first(LeasedStream stream) {
			this.seen.put(stream.name(), "first");
		}

		@StreamHandler(service = "${other.service}")
		void second(LeasedStream stream) {
			this.seen.put(stream.name(), "second");
		}

	}

}
