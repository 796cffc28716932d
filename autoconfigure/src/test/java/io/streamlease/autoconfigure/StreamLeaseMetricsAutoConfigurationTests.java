package io.streamlease.autoconfigure;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.ClaimResult;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.EngineState;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamLeaseContainer;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Micrometer meters: when they are recorded, and what real engines record in them.
 */
class StreamLeaseMetricsAutoConfigurationTests {

	private static final Set<String> TAG_KEYS = Set.of(StreamLeaseMeters.SERVICE, StreamLeaseMeters.TYPE,
			StreamLeaseMeters.RESULT, StreamLeaseMeters.OUTCOME, StreamLeaseMeters.REASON);

	@SharedRedisServer
	private static RedisServer redis;

	private static RedissonClient applicationRedisson;

	@BeforeAll
	static void createApplicationRedisson() {
		Config config = new Config();
		config.useSingleServer().setAddress(redis.uri());
		applicationRedisson = Redisson.create(config);
	}

	@AfterAll
	static void shutDownApplicationRedisson() {
		if (applicationRedisson != null) {
			applicationRedisson.shutdown();
		}
	}

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class,
					StreamLeaseMetricsAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.consumer-id=" + service + "-pod",
					"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=200ms");
	}

	private ApplicationContextRunner withoutHandlers() {
		return runner("metrics").withBean(RedissonClient.class, () -> applicationRedisson);
	}

	// ---- on and off

	@Test
	void recordsToTheRegistryOfSpringBootsMetricsAutoConfiguration() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(StreamLeaseMetricsAutoConfiguration.class,
					StreamLeaseAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
					SimpleMetricsExportAutoConfiguration.class, MetricsAutoConfiguration.class))
			.withPropertyValues("spring.application.name=metrics")
			.withBean(RedissonClient.class, () -> applicationRedisson)
			.run((context) -> {
				assertThat(context).hasNotFailed().hasSingleBean(EngineMetricsFactory.class);
				assertThat(context.getBean(EngineMetricsFactory.class)).isInstanceOf(MicrometerEngineMetricsFactory.class);
				context.getBean(EngineMetricsFactory.class).create("boot-registry", () -> null);
				assertThat(context.getBean(MeterRegistry.class).find(StreamLeaseMeters.OWNED).tag("service", "boot-registry")
					.gauge()).isNotNull();
			});
	}

	@Test
	void isOffWithoutAMeterRegistry() {
		withoutHandlers().run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(EngineMetricsFactory.class));
	}

	@Test
	void isOffWithoutMicrometer() {
		withoutHandlers().withBean(SimpleMeterRegistry.class)
			.withClassLoader(new FilteredClassLoader(MeterRegistry.class))
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(EngineMetricsFactory.class));
	}

	@Test
	void isOffWhenStreamLeaseIsDisabled() {
		withoutHandlers().withBean(SimpleMeterRegistry.class)
			.withPropertyValues("stream-lease.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(EngineMetricsFactory.class));
	}

	@Test
	void backsOffForTheApplicationsMetricsFactory() {
		EngineMetricsFactory custom = (service, engine) -> EngineMetrics.NONE;
		withoutHandlers().withBean(SimpleMeterRegistry.class)
			.withBean(EngineMetricsFactory.class, () -> custom)
			.run((context) -> assertThat(context).getBean(EngineMetricsFactory.class).isSameAs(custom));
	}

	@Test
	void gaugesFollowTheLatestEngineOfAService() {
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		MicrometerEngineMetricsFactory factory = new MicrometerEngineMetricsFactory(registry);
		factory.create("restarted", () -> null);
		assertThat(registry.get(StreamLeaseMeters.LBS_PENDING).gauge().value()).isNaN();
		StreamLeaseEngine engine = StreamLeaseEngine.create(applicationRedisson,
				EngineSettings.builder("restarted", "pod-1").build());
		factory.create("restarted", () -> engine);
		assertThat(registry.find(StreamLeaseMeters.LBS_PENDING).gauges()).hasSize(1);
		assertThat(registry.get(StreamLeaseMeters.LBS_PENDING).gauge().value()).isZero();
	}

	@Test
	void terminatedGaugeIsOneOnlyOnceTheEngineHasTerminated() {
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		MicrometerEngineMetricsFactory factory = new MicrometerEngineMetricsFactory(registry);
		factory.create("terminating", () -> null);
		assertThat(gauge(registry, StreamLeaseMeters.TERMINATED, "terminating")).isZero();
		StreamLeaseEngine engine = StreamLeaseEngine.create(applicationRedisson,
				EngineSettings.builder("terminating", "pod-1").build());
		factory.create("terminating", () -> engine);
		engine.start();
		await().atMost(Duration.ofSeconds(10)).until(() -> engine.state() == EngineState.RUNNING);
		assertThat(gauge(registry, StreamLeaseMeters.TERMINATED, "terminating")).isZero();
		engine.close();
		assertThat(engine.state()).isEqualTo(EngineState.TERMINATED);
		assertThat(gauge(registry, StreamLeaseMeters.TERMINATED, "terminating")).isEqualTo(1);
	}

	// ---- real engines

	@Test
	void recordsWhatTheEngineAndTheHandlerDoTaggedWithTheServiceAndNeverTheStream() {
		String service = "metered";
		runner(service).withBean(SimpleMeterRegistry.class).withBean(HoldingHandler.class).run((context) -> {
			assertThat(context).hasNotFailed();
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			HoldingHandler handler = context.getBean(HoldingHandler.class);
			try {
				assertThat(counter(registry, StreamLeaseMeters.EVENTS, service, "type", "added")).isZero();
				context.getBean(StreamLeaseTemplate.class).submit("metered-stream", Map.of());
				await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("metered-stream"));
				assertThat(gauge(registry, StreamLeaseMeters.OWNED, service)).isEqualTo(1);
				assertThat(counter(registry, StreamLeaseMeters.EVENTS, service, "type", "added")).isEqualTo(1);
				await().atMost(Duration.ofSeconds(5))
					.until(() -> gauge(registry, StreamLeaseMeters.LBS_PENDING, service) == 1);
				await().atMost(Duration.ofSeconds(5)).until(() -> registry.get(StreamLeaseMeters.RENEWAL_DURATION)
					.tags("service", service, "result", "success")
					.timer()
					.count() > 0);

				handler.release("metered-stream");
				await().atMost(Duration.ofSeconds(5))
					.until(() -> counter(registry, StreamLeaseMeters.EVENTS, service, "type", "completed") == 1);
				assertThat(gauge(registry, StreamLeaseMeters.OWNED, service)).isZero();
				await().atMost(Duration.ofSeconds(5)).until(() -> registry.get(StreamLeaseMeters.HANDLER_DURATION)
					.tags("service", service, "outcome", "success")
					.timer()
					.count() == 1);
				assertThat(registry.get(StreamLeaseMeters.PROCESSING_DURATION).tags("service", service).timer().count())
					.isEqualTo(1);

				redis.command("XADD", service + "-input", "*", "lbs-input", "{not json");
				await().atMost(Duration.ofSeconds(5))
					.until(() -> counter(registry, StreamLeaseMeters.DEAD_LETTERS, service, "reason", "invalid-json") == 1);

				StreamLeaseContainer container = context.getBean(StreamHandlerEndpointRegistry.class)
					.getContainers()
					.iterator()
					.next();
				ClaimResult claim = container.getEngine().claim("never-submitted");
				assertThat(counter(registry, StreamLeaseMeters.CLAIMS, service, "result", claim.status().tag()))
					.isEqualTo(1);

				for (Meter meter : registry.getMeters()) {
					if (meter.getId().getName().startsWith("stream.lease.redis.")) {
						// a client serves every service: tagged with the client, never the service or a stream
						assertThat(meter.getId().getTags()).as(meter.getId().toString())
							.extracting(Tag::getKey)
							.containsExactly(StreamLeaseMeters.CLIENT);
						assertThat(meter.getId().getTag(StreamLeaseMeters.CLIENT)).isIn("lease", "data");
					}
					else if (meter.getId().getName().startsWith("stream.lease.")) {
						assertThat(meter.getId().getTag(StreamLeaseMeters.SERVICE)).as(meter.getId().toString())
							.isEqualTo(service);
						for (Tag tag : meter.getId().getTags()) {
							assertThat(TAG_KEYS).as(meter.getId().toString()).contains(tag.getKey());
							assertThat(tag.getValue()).as(meter.getId().toString())
								.isNotIn("metered-stream", "never-submitted");
						}
					}
				}
			}
			finally {
				handler.releaseAll();
			}
		});
	}

	@Test
	void theOldestHeldStreamsAgeGrowsWhileItIsHeldAndFollowsTheNextOldestWhenItEnds() {
		String service = "hold-age";
		runner(service).withBean(SimpleMeterRegistry.class).withBean(HoldingHandler.class).run((context) -> {
			MeterRegistry registry = context.getBean(MeterRegistry.class);
			HoldingHandler handler = context.getBean(HoldingHandler.class);
			StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
			try {
				assertThat(gauge(registry, StreamLeaseMeters.HELD_OLDEST_AGE, service)).isZero();
				template.submit("first", Map.of());
				await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("first"));
				long firstHeld = System.nanoTime();
				// held for a second at least: the gauge reads at least that
				await().atMost(Duration.ofSeconds(5))
					.until(() -> gauge(registry, StreamLeaseMeters.HELD_OLDEST_AGE, service) >= 1.0);
				template.submit("second", Map.of());
				await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("second"));
				handler.release("first");
				await().atMost(Duration.ofSeconds(5)).until(() -> gauge(registry, StreamLeaseMeters.OWNED, service) == 1);
				// now the second stream is the oldest, acquired a second or more after the first
				double sinceFirst = (System.nanoTime() - firstHeld) / 1e9;
				assertThat(gauge(registry, StreamLeaseMeters.HELD_OLDEST_AGE, service)).isLessThan(sinceFirst - 0.5);
				handler.release("second");
				await().atMost(Duration.ofSeconds(5))
					.until(() -> gauge(registry, StreamLeaseMeters.HELD_OLDEST_AGE, service) == 0);
				// the hold time of the finished streams
				await().atMost(Duration.ofSeconds(5)).until(
						() -> registry.get(StreamLeaseMeters.PROCESSING_DURATION).tags("service", service).timer().count() == 2);
				assertThat(registry.get(StreamLeaseMeters.PROCESSING_DURATION).tags("service", service).timer()
					.max(TimeUnit.SECONDS)).isGreaterThanOrEqualTo(1.0);
			}
			finally {
				handler.releaseAll();
			}
		});
	}

	private static double counter(MeterRegistry registry, String name, String service, String tag, String value) {
		return registry.get(name).tags("service", service, tag, value).counter().count();
	}

	private static double gauge(MeterRegistry registry, String name, String service) {
		return registry.get(name).tags("service", service).gauge().value();
	}

}
