package io.streamlease.listener;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A pod never holds more streams than its stream-level handler can process: on a pool of handler.threads, the
 * engine holds at most that many streams and leaves the rest in the LBS for peers.
 */
class StreamLevelCapacityTests {

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service, String consumer) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.consumer-id=" + consumer,
					"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=200ms",
					"stream-lease.handler.threads=2", "stream-lease.handler.virtual-threads=false");
	}

	@Test
	void aStreamLevelHandlerOnTwoThreadsHoldsTwoStreamsAndLeavesTheRestForPeers() {
		String service = "capacity";
		runner(service, "first").withBean(Holding.class).run((first) -> {
			assertThat(first).hasNotFailed();
			for (int i = 1; i <= 5; i++) {
				first.getBean(StreamLeaseTemplate.class).submit("s" + i, null);
			}
			StreamLeaseContainer container = container(first);
			await().atMost(5, TimeUnit.SECONDS).until(() -> container.getEngine().ownedCount() == 2);
			await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
				.until(() -> container.getEngine().ownedCount() == 2);
			assertThat(container.getEngine().settings().maxConcurrentStreams()).isEqualTo(2);
			// the other three were never read: a peer gets them
			assertThat(redis.command("XPENDING", service + "-input", service + "-group").toString()).startsWith("[2");
			runner(service, "second").withBean(Holding.class).run((second) -> {
				await().atMost(5, TimeUnit.SECONDS).until(() -> container(second).getEngine().ownedCount() == 2);
				first.getBean(Holding.class).release.complete(null);
				second.getBean(Holding.class).release.complete(null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> (Long) redis.command("XLEN", service + "-input") == 0);
			});
		});
	}

	@Test
	void aHandlerThatReturnsAFutureHoldsNoThreadAndIsNotCapped() {
		runner("capacity-async", "async").withBean(Async.class).run((context) -> {
			assertThat(context).hasNotFailed();
			for (int i = 1; i <= 5; i++) {
				context.getBean(StreamLeaseTemplate.class).submit("a" + i, null);
			}
			StreamLeaseContainer container = container(context);
			await().atMost(5, TimeUnit.SECONDS).until(() -> container.getEngine().ownedCount() == 5);
			assertThat(container.getEngine().settings().maxConcurrentStreams())
				.isEqualTo(io.streamlease.engine.EngineSettings.DEFAULT_MAX_CONCURRENT_STREAMS);
			context.getBean(Async.class).release.complete(null);
		});
	}

	private static StreamLeaseContainer container(org.springframework.context.ApplicationContext context) {
		return context.getBean(StreamHandlerEndpointRegistry.class).getContainers().iterator().next();
	}

	static class Holding {

		final CompletableFuture<Void> release = new CompletableFuture<>();

		@StreamHandler
		void hold(LeasedStream stream) throws Exception {
			this.release.get(30, TimeUnit.SECONDS);
		}

	}

	static class Async {

		final CompletableFuture<Void> release = new CompletableFuture<>();

		@StreamHandler
		CompletableFuture<Void> hold(LeasedStream stream) {
			return this.release;
		}

	}

}
