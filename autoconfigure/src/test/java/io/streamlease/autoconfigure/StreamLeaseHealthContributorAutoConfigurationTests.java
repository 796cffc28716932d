package io.streamlease.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The health indicator: when it exists, and what it reports about real engines, including a Redis that stops
 * answering and an engine that terminated.
 */
class StreamLeaseHealthContributorAutoConfigurationTests {

	private static final String PASSWORD = "health-s3cret";

	@SharedRedisServer(password = PASSWORD)
	private static RedisServer redis;

	private static RedissonClient applicationRedisson;

	@BeforeAll
	static void createApplicationRedisson() {
		Config config = new Config();
		config.setPassword(PASSWORD);
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
					StreamLeaseHealthContributorAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "spring.data.redis.password=" + PASSWORD,
					"stream-lease.consumer-id=" + service + "-pod", "stream-lease.hb-interval=2s",
					"stream-lease.shutdown.grace-period=200ms");
	}

	/** The runner without real engines: the application's client, no handler. */
	private ApplicationContextRunner withoutHandlers() {
		return runner("health").withBean(RedissonClient.class, () -> applicationRedisson);
	}

	// ---- on and off

	@Test
	void registersTheIndicatorAsStreamLease() {
		withoutHandlers().run((context) -> {
			assertThat(context).hasSingleBean(StreamLeaseHealthIndicator.class).hasBean("streamLeaseHealthIndicator");
		});
	}

	@Test
	void isOffWhenTheIndicatorIsDisabled() {
		withoutHandlers().withPropertyValues("management.health.streamlease.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(StreamLeaseHealthIndicator.class));
	}

	@Test
	void isOffWhenHealthIndicatorsAreDisabledByDefault() {
		withoutHandlers().withPropertyValues("management.health.defaults.enabled=false")
			.run((context) -> assertThat(context).doesNotHaveBean(StreamLeaseHealthIndicator.class));
	}

	@Test
	void isOnWhenDisabledByDefaultButEnabledByName() {
		withoutHandlers()
			.withPropertyValues("management.health.defaults.enabled=false", "management.health.streamlease.enabled=true")
			.run((context) -> assertThat(context).hasSingleBean(StreamLeaseHealthIndicator.class));
	}

	@Test
	void isOffWithoutSpringBootHealth() {
		withoutHandlers().withClassLoader(new FilteredClassLoader(HealthIndicator.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(StreamHandlerEndpointRegistry.class)
				.doesNotHaveBean(StreamLeaseHealthIndicator.class));
	}

	@Test
	void isOffWhenStreamLeaseIsDisabled() {
		withoutHandlers().withPropertyValues("stream-lease.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(StreamLeaseHealthIndicator.class));
	}

	@Test
	void backsOffForTheApplicationsIndicator() {
		HealthIndicator custom = () -> Health.up().build();
		withoutHandlers().withBean("streamLeaseHealthIndicator", HealthIndicator.class, () -> custom)
			.run((context) -> {
				assertThat(context).doesNotHaveBean(StreamLeaseHealthIndicator.class);
				assertThat(context.getBean("streamLeaseHealthIndicator")).isSameAs(custom);
			});
	}

	@Test
	void isUpWithTheConsumerIdBeforeAnyHandler() {
		withoutHandlers().run((context) -> {
			Health health = context.getBean(StreamLeaseHealthIndicator.class).health();
			assertThat(health.getStatus()).isEqualTo(Status.UP);
			assertThat(health.getDetails()).containsEntry("consumerId", "health-pod")
				.containsEntry("services", Map.of());
		});
	}

	// ---- real engines

	@Test
	void isUpWithTheHeldStreamsThenDownWhileRedisDoesNotAnswerThenUpAgain() {
		String service = "health-pause";
		runner(service).withBean(HoldingHandler.class).withPropertyValues("stream-lease.retry.max-retries=-1").run((context) -> {
			assertThat(context).hasNotFailed();
			HoldingHandler handler = context.getBean(HoldingHandler.class);
			StreamLeaseIndicatorProbe health = new StreamLeaseIndicatorProbe(context.getBean(StreamLeaseHealthIndicator.class));
			try {
				context.getBean(StreamLeaseTemplate.class).submit("held-1", Map.of());
				await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("held-1"));
				await().atMost(Duration.ofSeconds(5)).until(() -> health.service(service).get("owned").equals(1));
				Health up = health.current();
				assertThat(up.getStatus()).isEqualTo(Status.UP);
				assertThat(up.getDetails()).containsEntry("consumerId", service + "-pod").doesNotContainKey("reason");
				Map<String, Object> details = health.service(service);
				assertThat(details).containsEntry("state", "RUNNING").containsEntry("owned", 1);
				assertThat(Instant.parse((String) details.get("lastRenewal"))).isAfter(Instant.now().minusSeconds(5));

				redis.pause();
				try {
					await().atMost(Duration.ofSeconds(10)).until(() -> health.current().getStatus().equals(Status.DOWN));
					Health down = health.current();
					assertThat((String) down.getDetails().get("reason")).contains(service).contains("Redis is unreachable");
					assertThat(health.service(service)).containsKey("reason");
					assertThat(down.toString()).doesNotContain(PASSWORD);
				}
				finally {
					redis.resume();
				}
				await().atMost(Duration.ofSeconds(15)).until(() -> health.current().getStatus().equals(Status.UP));
			}
			finally {
				handler.releaseAll();
			}
		});
	}

	@Test
	void isDownWithTheReasonWhenAnEngineTerminated() {
		String service = "health-terminated";
		runner(service).withBean(HoldingHandler.class).run((context) -> {
			assertThat(context).hasNotFailed();
			StreamLeaseIndicatorProbe health = new StreamLeaseIndicatorProbe(context.getBean(StreamLeaseHealthIndicator.class));
			assertThat(health.current().getStatus()).isEqualTo(Status.UP);
			context.getBean(HoldingHandler.class).releaseAll();
			context.getBean(StreamHandlerEndpointRegistry.class).stop();
			Health down = health.current();
			assertThat(down.getStatus()).isEqualTo(Status.DOWN);
			assertThat((String) down.getDetails().get("reason")).contains("service '" + service + "'")
				.contains("the engine terminated: closed");
			assertThat(health.service(service)).containsEntry("state", "TERMINATED");
		});
	}

	/**
	 * Reads the indicator's details.
	 */
	private record StreamLeaseIndicatorProbe(StreamLeaseHealthIndicator indicator) {

		Health current() {
			return this.indicator.health();
		}

		@SuppressWarnings("unchecked")
		Map<String, Object> service(String service) {
			Map<String, Object> services = (Map<String, Object>) current().getDetails().get("services");
			return (Map<String, Object>) services.get(service);
		}

	}

}
