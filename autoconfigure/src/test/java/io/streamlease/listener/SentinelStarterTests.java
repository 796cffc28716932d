package io.streamlease.listener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.autoconfigure.StreamLeaseHealthContributorAutoConfiguration;
import io.streamlease.autoconfigure.StreamLeaseHealthIndicator;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisSentinelGroup;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.RedisServers;
import io.streamlease.test.redis.RedisVersion;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The starter on a real Redis Sentinel group configured with {@code spring.data.redis.sentinel.*}: the master is
 * killed (SIGKILL) while streams are being handled, a replica is promoted, and the application follows the new
 * master by itself: every stream submitted before and after the kill is handled, the LBS ends empty and health is
 * UP again.
 */
class SentinelStarterTests {

	private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(15);

	@Test
	void handlersFinishEveryStreamSubmittedBeforeAndAfterTheMasterIsKilled() {
		assumeTrue(RedisServers.isSentinelGroupAvailable(RedisVersion.defaultVersion()),
				() -> "No redis-server " + RedisVersion.defaultVersion().label() + " can run a Sentinel group here");
		String service = RedisServerExtension.uniqueName("sentinel-starter");
		try (RedisSentinelGroup group = RedisServers.startSentinelGroup("starter")) {
			new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class,
						StreamLeaseHealthContributorAutoConfiguration.class))
				.withBean(Sessions.class)
				.withPropertyValues("spring.application.name=" + service,
						"spring.data.redis.sentinel.master=" + group.masterName(),
						"spring.data.redis.sentinel.nodes=" + String.join(",", group.sentinelAddresses()),
						"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=500ms")
				.run((context) -> {
					assertThat(context).hasNotFailed();
					StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
					Sessions sessions = context.getBean(Sessions.class);
					StreamLeaseHealthIndicator health = context.getBean(StreamLeaseHealthIndicator.class);
					List<String> submitted = new ArrayList<>();
					for (int i = 0; i < 10; i++) {
						submitted.add("before-" + i);
						template.submit("before-" + i, Map.of("i", i));
					}
					// in the handler when the master dies
					await().atMost(10, TimeUnit.SECONDS).until(() -> sessions.started.containsAll(submitted));

					group.killMaster();
					group.awaitFailover(FAILOVER_TIMEOUT);

					for (int i = 0; i < 10; i++) {
						String stream = "after-" + i;
						submitted.add(stream);
						await().atMost(15, TimeUnit.SECONDS).ignoreExceptions()
							.until(() -> template.submit(stream, Map.of()) != null);
					}
					sessions.release.countDown();
					await().atMost(20, TimeUnit.SECONDS).untilAsserted(() -> assertThat(sessions.finished)
						.as("streams whose handler returned").containsAll(submitted));
					String lbs = service + "-input";
					await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(group.master().command("XLEN", lbs))
						.as("entries left on the LBS of the new master").isEqualTo(0L));
					await().atMost(10, TimeUnit.SECONDS).until(() -> Status.UP.equals(health.health(true).getStatus()));
				});
		}
	}

	/**
	 * A stream-level handler that holds every stream until released, so that streams are in flight when the master
	 * dies.
	 */
	static class Sessions {

		final Set<String> started = ConcurrentHashMap.newKeySet();

		final Set<String> finished = ConcurrentHashMap.newKeySet();

		final CountDownLatch release = new CountDownLatch(1);

		@StreamHandler
		void handle(LeasedStream stream) throws InterruptedException {
			this.started.add(stream.name());
			if (this.release.await(30, TimeUnit.SECONDS)) {
				this.finished.add(stream.name());
			}
		}

	}

}
