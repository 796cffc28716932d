package io.streamlease.engine;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The scenarios of redis-stream-client-go's suite about assignment and done, on a real Redis.
 */
class LeaseDistributionTests extends EngineTestSupport {

	@Test
	void twoConsumersTwoStreamsEachGetsOneWithInfoIntact() {
		Running first = start("c1");
		Running second = start("c2");
		LbsProducer producer = producer();
		Map<String, Object> info = Map.of("tenant", "acme", "nested", Map.of("depth", 2, "list", List.of(1, "two")));
		producer.submit("stream-a", info);
		producer.submit("stream-b", Map.of());

		await().atMost(5, TimeUnit.SECONDS).until(() -> first.added.size() + second.added.size() == 2);
		assertThat(first.added).hasSize(1);
		assertThat(second.added).hasSize(1);
		LeasedStream a = (first.added.containsKey("stream-a") ? first : second).added.get("stream-a");
		assertThat(a.info()).isEqualTo(info);
		assertThat(a.recovered()).isFalse();
		assertThat(a.fencingToken()).isPositive();
		assertThat(a.isOwned()).isTrue();
	}

	@Test
	void nothingIsDeliveredBeforeASubmitAndASubmitIsDeliveredPromptly() throws Exception {
		Running consumer = start("c1");
		assertThat(consumer.client.events().poll(Duration.ofMillis(700))).isNull();
		assertThat(consumer.events).isEmpty();

		long submitted = System.nanoTime();
		producer().submit("prompt", null);
		await().atMost(2, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("prompt"));
		assertThat(Duration.ofNanos(System.nanoTime() - submitted)).isLessThan(Duration.ofSeconds(1));
	}

	@Test
	void doneAcknowledgesAndDeletesTheEntriesOfSeveralStreams() {
		Running consumer = start("c1");
		LbsProducer producer = producer();
		for (int i = 0; i < 5; i++) {
			producer.submit("s" + i, Map.of("i", i));
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.size() == 5);
		RedissonClient redisson = redisson();
		assertThat(redisson.getStream(keys().lbs(), StringCodec.INSTANCE).size()).isEqualTo(5);

		for (int i = 0; i < 3; i++) {
			consumer.client.doneStream("s" + i);
		}
		assertThat(redisson.getStream(keys().lbs(), StringCodec.INSTANCE).size()).isEqualTo(2);
		assertThat(redis.command("XPENDING", keys().lbs(), keys().group()).toString()).startsWith("[2,");
		assertThat(consumer.owned()).containsExactlyInAnyOrder("s3", "s4");
		assertThat(redis.command("HEXISTS", keys().owners(), "s0")).isEqualTo(0L);
		assertThat(consumer.client.counters().completed()).isEqualTo(3);
	}

	@Test
	void maxConcurrentStreamsStopsReadingSoPeersGetTheRest() {
		Running small = start("small", (settings) -> settings.maxConcurrentStreams(2));
		LbsProducer producer = producer();
		for (int i = 0; i < 5; i++) {
			producer.submit("m" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> small.added.size() == 2);
		Running big = start("big");
		await().atMost(5, TimeUnit.SECONDS).until(() -> big.added.size() == 3);
		assertThat(small.owned()).hasSize(2);
		assertThat(Set.copyOf(big.owned())).doesNotContainAnyElementsOf(small.owned());
	}

	@Test
	void checkpointIsFencedAndReadBackAfterRelease() {
		Running owner = start("c1");
		producer().submit("cp", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.containsKey("cp"));
		LeasedStream lease = owner.added.get("cp");
		lease.checkpoint("1700000000000-5", Map.of("events", "3", "amount", "42"));
		assertThat(lease.checkpoint().position()).isEqualTo("1700000000000-5");
		owner.client.close();

		Running next = start("c2");
		await().atMost(5, TimeUnit.SECONDS).until(() -> next.added.containsKey("cp"));
		LeasedStream taken = next.added.get("cp");
		assertThat(taken.recovered()).isTrue();
		assertThat(taken.fencingToken()).isGreaterThan(lease.fencingToken());
		assertThat(taken.checkpoint().position()).isEqualTo("1700000000000-5");
		assertThat(taken.checkpoint().state()).containsEntry("events", "3").containsEntry("amount", "42");
		assertThat(taken.checkpoint().fencingToken()).isEqualTo(lease.fencingToken());
	}

	@Test
	void aServiceNameWithNonAsciiCharactersKeepsItsLeasesAcrossRenewals() {
		this.service = "café-ünï-" + this.service;
		Running owner = start("c1");
		Running peer = start("c2");
		producer().submit("ström", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.size() + peer.added.size() == 1);
		Running holder = owner.added.isEmpty() ? peer : owner;
		long deadline = deadline(holder.client.id());
		await().atMost(HB.multipliedBy(3)).until(() -> deadline(holder.client.id()) >= deadline + HB.toMillis() / 2);
		assertThat(redis.command("HKEYS", keys().owners()).toString()).isEqualTo("[ström]");
		assertThat(owner.added.size() + peer.added.size()).isEqualTo(1);
		assertThat(holder.client.counters().disowned()).isZero();
	}

	/** The deadline of a consumer's session in the registry: a renewal moves it by about half the TTL. */
	private long deadline(String consumer) {
		return Long.parseLong(redis.command("ZSCORE", keys().consumers(), consumer).toString());
	}

}
