package io.streamlease.listener;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fair share through the starter: stream-level handlers asked to yield see {@code released()} complete with
 * REBALANCE, checkpoint and return, and their streams are handed off (not finished) and resumed by the instance
 * that joined; a handler that ignores the request is interrupted after {@code rebalance.grace-period}.
 */
class RebalanceHandlerTests {

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service, String consumer) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.consumer-id=" + consumer,
					"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=200ms",
					"stream-lease.rebalance.grace-period=1s");
	}

	@Test
	void aStreamLevelHandlerAskedToYieldCheckpointsAndItsStreamIsResumedByTheInstanceThatJoined() {
		String service = "rebalance-yield";
		runner(service, "first").withBean(Cooperative.class).run((first) -> {
			assertThat(first).hasNotFailed();
			for (int i = 1; i <= 20; i++) {
				first.getBean(StreamLeaseTemplate.class).submit("s" + i, null);
			}
			await().atMost(10, TimeUnit.SECONDS).until(() -> container(first).getEngine().ownedCount() == 20);
			runner(service, "second").withBean(Cooperative.class).run((second) -> {
				await().atMost(15, TimeUnit.SECONDS).until(() -> container(second).getEngine().ownedCount() == 10
						&& container(first).getEngine().ownedCount() == 10);
				Cooperative yielding = first.getBean(Cooperative.class);
				Cooperative resuming = second.getBean(Cooperative.class);
				assertThat(yielding.yielded).hasSize(10);
				// resumed from the checkpoint the yielding handler wrote under its lease; nothing was finished
				await().atMost(5, TimeUnit.SECONDS).until(() -> resuming.resumedFrom.keySet().equals(yielding.yielded));
				assertThat(resuming.resumedFrom.values()).containsOnly("yielded-by-first");
				assertThat(redis.command("XLEN", service + "-input")).isEqualTo(20L);
				assertThat(container(first).getEngine().fairShare().movedOff()).isEqualTo(10);
				assertThat(container(first).getEngine().counters().completed()).isZero();
			});
		});
	}

	@Test
	void aStreamLevelHandlerThatIgnoresTheRequestIsInterruptedAfterTheGracePeriod() {
		String service = "rebalance-stubborn";
		runner(service, "first").withBean(Stubborn.class).run((first) -> {
			assertThat(first).hasNotFailed();
			for (int i = 1; i <= 4; i++) {
				first.getBean(StreamLeaseTemplate.class).submit("s" + i, null);
			}
			await().atMost(10, TimeUnit.SECONDS).until(() -> container(first).getEngine().ownedCount() == 4);
			runner(service, "second").withBean(Stubborn.class).run((second) -> {
				await().atMost(15, TimeUnit.SECONDS).until(() -> container(second).getEngine().ownedCount() == 2);
				Stubborn stubborn = first.getBean(Stubborn.class);
				await().atMost(5, TimeUnit.SECONDS).until(() -> stubborn.interrupted.get() == 2);
				assertThat(container(first).getEngine().ownedCount()).isEqualTo(2);
			});
		});
	}

	private static StreamLeaseContainer container(ApplicationContext context) {
		return context.getBean(StreamHandlerEndpointRegistry.class).getContainers().iterator().next();
	}

	/** Works until asked to yield, then checkpoints and returns. */
	static class Cooperative {

		final Set<String> yielded = ConcurrentHashMap.newKeySet();

		final Map<String, String> resumedFrom = new ConcurrentHashMap<>();

		@StreamHandler
		void work(LeasedStream stream) throws Exception {
			String from = stream.checkpoint().state().get("by");
			if (from != null) {
				this.resumedFrom.put(stream.name(), from);
			}
			ReleaseReason reason = stream.released().toCompletableFuture().get(60, TimeUnit.SECONDS);
			if (reason == ReleaseReason.REBALANCE) {
				stream.checkpoint("0-1", Map.of("by", "yielded-by-" + stream.consumerId()));
				this.yielded.add(stream.name());
			}
		}

	}

	/** Ignores the request: sleeps until interrupted. */
	static class Stubborn {

		final AtomicInteger interrupted = new AtomicInteger();

		@StreamHandler
		void work(LeasedStream stream) {
			try {
				Thread.sleep(60_000);
			}
			catch (InterruptedException ex) {
				this.interrupted.incrementAndGet();
			}
		}

	}

}
