package io.streamlease.engine;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redis faults under running engines: a restart that loses everything, and a pause longer than the lease.
 */
class RedisFaultTests extends EngineTestSupport {

	@Test
	void anEngineRecoversByItselfWhenRedisRestartsAndLosesItsData() {
		Running consumer = start("c1");
		producer().submit("before", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("before"));

		redis.restart();

		await().atMost(HB.multipliedBy(3)).until(() -> consumer.events(StreamEvent.Type.DISOWNED).stream()
			.anyMatch((event) -> event.stream().equals("before")));
		await().atMost(10, TimeUnit.SECONDS).until(() -> {
			try {
				producer().submit("after", null);
				return true;
			}
			catch (RuntimeException ex) {
				return false;
			}
		});
		await().atMost(10, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("after"));
		await().atMost(HB.multipliedBy(2)).until(consumer.client::isRedisReachable);
		assertThat(consumer.client.state()).isEqualTo(EngineState.RUNNING);
		assertThat(consumer.client.ownedStreams()).extracting(LeasedStream::name).containsExactly("after");
		String flags = redis.command("CONFIG", "GET", "notify-keyspace-events").toString();
		assertThat(flags).contains("K").contains("x");
	}

	@Test
	void aRedisPauseLongerThanTheLeaseDisownsLocallyBeforeTheTtlAndTheStreamIsTakenOverOnce() {
		Running owner = start("owner");
		Running peer = start("peer");
		producer().submit("paused", Map.of());
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.containsKey("paused") || peer.added.containsKey("paused"));
		Running holder = owner.added.containsKey("paused") ? owner : peer;
		LeasedStream lease = holder.added.get("paused");

		long paused = System.nanoTime();
		redis.pause();
		try {
			await().atMost(HB.multipliedBy(2)).until(() -> !holder.events(StreamEvent.Type.DISOWNED).isEmpty());
			Duration disownedAfter = Duration.ofNanos(System.nanoTime() - paused);
			assertThat(disownedAfter).isLessThan(HB);
			assertThat(lease.isOwned()).isFalse();
			assertThat(holder.client.isRedisReachable()).isFalse();
		}
		finally {
			redis.resume();
		}
		await().atMost(HB.multipliedBy(3))
			.until(() -> owner.owned().contains("paused") ^ peer.owned().contains("paused"));
		Running next = owner.owned().contains("paused") ? owner : peer;
		assertThat(next.client.ownedStreams()).singleElement()
			.satisfies((taken) -> assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken()));
		await().atMost(HB.multipliedBy(2)).until(() -> owner.client.isRedisReachable() && peer.client.isRedisReachable());
	}

}
