package io.streamlease.listener;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.autoconfigure.StreamLeaseHealthIndicator;
import io.streamlease.autoconfigure.StreamsEndpoint;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * Lifecycle control through the {@link StreamHandlerEndpointRegistry} on a real Redis: pause and resume (with and
 * without handoff), stopping and starting one container, and {@code autoStartup = "false"}.
 */
class LifecycleControlTests {

	private static final Duration HB = Duration.ofSeconds(1);

	@SharedRedisServer
	static RedisServer redis;

	@Test
	void aPausedConsumerTakesNoNewStreamsKeepsItsHeldOnesAliveAndTakesWorkAgainWhenResumed() {
		String service = RedisServerExtension.uniqueName("pause");
		ConfigurableApplicationContext first = start(service, "first");
		ConfigurableApplicationContext second = null;
		try {
			Recording firstHandler = first.getBean(Recording.class);
			StreamLeaseTemplate template = first.getBean(StreamLeaseTemplate.class);
			template.submit("hold-1", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> firstHandler.started.contains("hold-1"));
			second = start(service, "second");
			Recording secondHandler = second.getBean(Recording.class);
			StreamHandlerEndpointRegistry registry = first.getBean(StreamHandlerEndpointRegistry.class);
			StreamLeaseContainer container = registry.getContainer(Recording.ID);
			StreamLeaseEngine engine = container.getEngine();
			LeasedStream held = engine.ownedStreams().iterator().next();

			registry.pause(Recording.ID, false);
			assertThat(container.isPaused()).isTrue();
			assertThat(engine.isPaused()).isTrue();
			Health health = new StreamLeaseHealthIndicator(registry, null).health();
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails().get("services").toString()).contains("paused=true");
			assertThat(new StreamsEndpoint(registry, null).streams().services().get(service).paused()).isTrue();

			for (int i = 0; i < 6; i++) {
				template.submit("new-" + i, null);
			}
			await().atMost(10, TimeUnit.SECONDS).until(() -> secondHandler.finished.size() == 6);
			assertThat(firstHandler.started).containsExactly("hold-1");
			// the held stream stays this consumer's for several hb-intervals: its session and lease are renewed
			await().during(HB.multipliedBy(3)).atMost(HB.multipliedBy(5))
				.until(() -> held.isOwned() && engine.ownedCount() == 1 && !secondHandler.started.contains("hold-1"));
			firstHandler.release("hold-1");
			await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(firstHandler.finished).contains("hold-1");

			registry.resume(Recording.ID);
			assertThat(container.isPaused()).isFalse();
			second.close();
			template.submit("after-resume", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> firstHandler.finished.contains("after-resume"));
		}
		finally {
			first.close();
			if (second != null) {
				second.close();
			}
		}
	}

	@Test
	void pausingWithHandoffMovesTheHeldStreamsToAPeerAtOnce() {
		String service = RedisServerExtension.uniqueName("pause-handoff");
		ConfigurableApplicationContext first = start(service, "first", "stream-lease.hb-interval=20s");
		ConfigurableApplicationContext second = start(service, "second", "stream-lease.hb-interval=20s");
		try {
			first.getBean(StreamHandlerEndpointRegistry.class).pause(Recording.ID, false);
			// only the second consumer reads now: it takes both, then it pauses too
			StreamLeaseTemplate template = first.getBean(StreamLeaseTemplate.class);
			Recording secondHandler = second.getBean(Recording.class);
			template.submit("hold-a", null);
			template.submit("hold-b", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> secondHandler.started.size() == 2);
			first.getBean(StreamHandlerEndpointRegistry.class).resume(Recording.ID);
			Recording firstHandler = first.getBean(Recording.class);
			StreamHandlerEndpointRegistry registry = second.getBean(StreamHandlerEndpointRegistry.class);
			registry.pause(Recording.ID, true);
			// well before the 20 s lease would lapse
			await().atMost(5, TimeUnit.SECONDS).until(() -> firstHandler.recovered.containsAll(Set.of("hold-a", "hold-b")));
			assertThat(registry.getContainer(Recording.ID).getEngine().ownedCount()).isZero();
			assertThat(secondHandler.interrupted).containsExactlyInAnyOrder("hold-a", "hold-b");
			firstHandler.releaseAll();
			await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
		}
		finally {
			first.close();
			second.close();
		}
	}

	@Test
	void aStoppedContainerHandsItsStreamsToAPeerAndStartsAgain() {
		String service = RedisServerExtension.uniqueName("stop");
		ConfigurableApplicationContext first = start(service, "first", "stream-lease.hb-interval=20s");
		ConfigurableApplicationContext second = null;
		try {
			Recording firstHandler = first.getBean(Recording.class);
			StreamLeaseTemplate template = first.getBean(StreamLeaseTemplate.class);
			template.submit("hold-x", null);
			template.submit("hold-y", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> firstHandler.started.size() == 2);
			second = start(service, "second", "stream-lease.hb-interval=20s");
			Recording secondHandler = second.getBean(Recording.class);
			StreamHandlerEndpointRegistry registry = first.getBean(StreamHandlerEndpointRegistry.class);
			registry.stop(Recording.ID);
			StreamLeaseContainer container = registry.getContainer(Recording.ID);
			assertThat(container.isRunning()).isFalse();
			await().atMost(5, TimeUnit.SECONDS).until(() -> secondHandler.recovered.containsAll(Set.of("hold-x", "hold-y")));
			Health health = new StreamLeaseHealthIndicator(registry, null).health();
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails().get("services").toString()).contains("state=STOPPED");

			registry.start(Recording.ID);
			assertThat(container.isRunning()).isTrue();
			second.getBean(StreamHandlerEndpointRegistry.class).pause(Recording.ID, false);
			template.submit("after-restart", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> firstHandler.finished.contains("after-restart"));
			secondHandler.releaseAll();
		}
		finally {
			first.close();
			if (second != null) {
				second.close();
			}
		}
	}

	@Test
	void aHandlerThatDoesNotStartAutomaticallyTakesNothingUntilStartedThroughTheRegistry() {
		String service = RedisServerExtension.uniqueName("manual");
		ConfigurableApplicationContext context = start(service, "only", "recording.auto-startup=false");
		try {
			Recording handler = context.getBean(Recording.class);
			StreamHandlerEndpointRegistry registry = context.getBean(StreamHandlerEndpointRegistry.class);
			assertThat(registry.isRunning()).isTrue();
			StreamLeaseContainer container = registry.getContainer(Recording.ID);
			context.getBean(StreamLeaseTemplate.class).submit("waiting", null);
			await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
				.until(() -> handler.started.isEmpty() && container.getEngine() == null && !container.isRunning());
			assertThat(redis.command("XINFO", "GROUPS", service + "-input").toString()).isEqualTo("[]");
			assertThat(new StreamLeaseHealthIndicator(registry, null).health().getStatus()).isEqualTo(Status.UP);

			registry.start(Recording.ID);
			await().atMost(10, TimeUnit.SECONDS).until(() -> handler.finished.contains("waiting"));
		}
		finally {
			context.close();
		}
	}

	@Test
	void anUnknownHandlerIdIsReportedWithTheKnownIds() {
		String service = RedisServerExtension.uniqueName("unknown-id");
		ConfigurableApplicationContext context = start(service, "only", "recording.auto-startup=false");
		try {
			assertThatIllegalArgumentException()
				.isThrownBy(() -> context.getBean(StreamHandlerEndpointRegistry.class).pause("nope", false))
				.withMessageContaining("'nope'")
				.withMessageContaining(Recording.ID);
		}
		finally {
			context.close();
		}
	}

	private static ConfigurableApplicationContext start(String service, String consumer, String... properties) {
		return new SpringApplicationBuilder(RecordingApplication.class).web(WebApplicationType.NONE)
			.properties("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=" + HB.toMillis() + "ms",
					"stream-lease.shutdown.grace-period=200ms", "spring.main.banner-mode=off",
					"stream-lease.consumer-id=" + consumer)
			.properties(properties)
			.run();
	}

	private static long lbsLength(String service) {
		return (Long) redis.command("XLEN", service + "-input");
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration(StreamLeaseAutoConfiguration.class)
	static class RecordingApplication {

		@Bean
		Recording recording() {
			return new Recording();
		}

	}

	/**
	 * Records what it processes; a stream whose name starts with {@code hold} is held until released.
	 */
	static class Recording {

		static final String ID = "recording";

		final Set<String> started = ConcurrentHashMap.newKeySet();

		final Set<String> recovered = ConcurrentHashMap.newKeySet();

		final Set<String> finished = ConcurrentHashMap.newKeySet();

		final Set<String> interrupted = ConcurrentHashMap.newKeySet();

		private final Map<String, CountDownLatch> releases = new ConcurrentHashMap<>();

		private volatile boolean releasedAll;

		@StreamHandler(id = ID, autoStartup = "${recording.auto-startup:true}")
		void handle(LeasedStream stream) throws InterruptedException {
			this.started.add(stream.name());
			if (stream.recovered()) {
				this.recovered.add(stream.name());
			}
			if (stream.name().startsWith("hold")) {
				try {
					latch(stream.name()).await(30, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					this.interrupted.add(stream.name());
					throw ex;
				}
			}
			this.finished.add(stream.name());
		}

		void release(String stream) {
			latch(stream).countDown();
		}

		void releaseAll() {
			this.releasedAll = true;
			this.releases.values().forEach(CountDownLatch::countDown);
		}

		private CountDownLatch latch(String stream) {
			CountDownLatch latch = this.releases.computeIfAbsent(stream, (name) -> new CountDownLatch(1));
			if (this.releasedAll) {
				latch.countDown();
			}
			return latch;
		}

	}

}
