package io.streamlease.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.EngineState;
import io.streamlease.engine.RedisCallException;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContextException;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Starting as Spring Boot users expect: a Redis that is down never fails startup by default (health DOWN, the
 * engine connects once Redis answers), fail-fast for those who want it, settings validated before anything derives
 * from them, a short failure description instead of a stack trace, and a terminated engine taking the instance out
 * of readiness.
 */
class StreamLeaseStartupTests {

	@SharedRedisServer
	private static RedisServer redis;

	private ApplicationContextRunner runner(String service, int port) {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(ApplicationAvailabilityAutoConfiguration.class,
					StreamLeaseAutoConfiguration.class))
			.withBean(HoldingHandler.class)
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + port, "stream-lease.hb-interval=2s");
	}

	@Test
	void startsWhileRedisIsDownWithHealthDownAndConnectsByItselfWhenRedisComesUp() {
		try (RedisServer late = RedisServers.start()) {
			late.stop();
			long started = System.nanoTime();
			runner("late-redis", late.port()).withPropertyValues("stream-lease.startup.timeout=500ms").run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(Duration.ofNanos(System.nanoTime() - started)).as("the refresh is bounded by the startup timeout")
					.isLessThan(Duration.ofSeconds(15));
				StreamHandlerEndpointRegistry registry = context.getBean(StreamHandlerEndpointRegistry.class);
				StreamLeaseHealthIndicator health = new StreamLeaseHealthIndicator(registry, null);
				Health down = health.health(true);
				assertThat(down.getStatus()).isEqualTo(Status.DOWN);
				assertThat(down.getDetails().get("reason").toString()).contains("connecting to Redis");

				late.start();
				await().atMost(Duration.ofSeconds(10)).until(() -> health.health(true).getStatus().equals(Status.UP));
				assertThat(registry.getContainers()).singleElement()
					.satisfies((container) -> assertThat(container.getEngine().state()).isEqualTo(EngineState.RUNNING));
				context.getBean(StreamLeaseTemplate.class).submit("after-redis-came-up", Map.of());
				HoldingHandler handler = context.getBean(HoldingHandler.class);
				await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("after-redis-came-up"));
				handler.releaseAll();
			});
		}
	}

	@Test
	void aZeroHbIntervalFailsNamingThePropertyNotAConnectionFailure() {
		runner("zero-hb", redis.port()).withPropertyValues("stream-lease.hb-interval=0").run((context) -> {
			assertThat(context).hasFailed();
			assertThat(messages(context.getStartupFailure())).contains("stream-lease.hb-interval")
				.contains("hb-interval is PT0S but it must be greater than 0")
				.doesNotContain("could not connect");
		});
	}

	@Test
	void aStartFailureIsDescribedInAFewLinesWithAnAction() {
		List<String> registered = SpringFactoriesLoader.forDefaultResourceLocation()
			.load(FailureAnalyzer.class, SpringFactoriesLoader.ArgumentResolver.none(),
					SpringFactoriesLoader.FailureHandler.logging(org.apache.commons.logging.LogFactory.getLog(getClass())))
			.stream()
			.map((analyzer) -> analyzer.getClass().getName())
			.toList();
		assertThat(registered).as("registered in META-INF/spring.factories").contains(StreamLeaseFailureAnalyzer.class.getName());
		FailureAnalyzer ours = new StreamLeaseFailureAnalyzer();
		RedisCallException cause = new RedisCallException("Stream Lease could not start service 'orders': Redis could "
				+ "not be reached within the startup timeout (PT10S; last failure: connecting: Unable to connect to "
				+ "redis://user:hunter2@127.0.0.1:6390)", null);
		FailureAnalysis analysis = ours.analyze(new ApplicationContextException("Failed to start bean", cause));
		assertThat(analysis).isNotNull();
		assertThat(analysis.getDescription()).contains("could not start service 'orders'").doesNotContain("hunter2");
		assertThat(analysis.getAction()).contains("stream-lease.startup.fail-fast");
	}

	@Test
	void anEngineThatTerminatesTakesTheInstanceOutOfReadiness() {
		String user = "revoked";
		redis.command("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all");
		try {
			runner("revoked", redis.port())
				.withPropertyValues("spring.data.redis.username=" + user, "spring.data.redis.password=pw")
				.run((context) -> {
					assertThat(context).hasNotFailed();
					ApplicationAvailability availability = context.getBean(ApplicationAvailability.class);
					// what SpringApplication publishes once the application is ready
					AvailabilityChangeEvent.publish(context, ReadinessState.ACCEPTING_TRAFFIC);
					assertThat(availability.getReadinessState()).isEqualTo(ReadinessState.ACCEPTING_TRAFFIC);
					redis.command("ACL", "SETUSER", user, "-evalsha", "-eval");
					await().atMost(Duration.ofSeconds(10))
						.until(() -> availability.getReadinessState() == ReadinessState.REFUSING_TRAFFIC);
					StreamHandlerEndpointRegistry registry = context.getBean(StreamHandlerEndpointRegistry.class);
					assertThat(registry.getContainers()).singleElement()
						.satisfies((container) -> assertThat(container.getEngine().terminationReason())
							.containsIgnoringCase("evalsha"));
				});
		}
		finally {
			redis.command("ACL", "DELUSER", user);
		}
	}

	private static String messages(Throwable failure) {
		StringBuilder text = new StringBuilder();
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			text.append(cause.getMessage()).append('\n');
		}
		return text.toString();
	}

}
