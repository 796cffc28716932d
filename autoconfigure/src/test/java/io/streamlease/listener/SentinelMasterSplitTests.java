package io.streamlease.listener;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.autoconfigure.StreamLeaseRedis;
import io.streamlease.test.redis.RedisSentinelGroup;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import io.streamlease.test.redis.RedisVersion;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The split that lost a session in the chaos suite, forced: the data client follows one set of Sentinels and the
 * lease client another, so the handler's writes land on a master other than the one the engine finishes the stream
 * on. The finish is refused (the stream stays announced, nothing is dead-lettered) until the data client's
 * Sentinels report the lease client's master; then the stream runs again and is finished there, its summary with it.
 */
class SentinelMasterSplitTests {

	@Test
	void refusesToFinishWhileTheDataClientUsesAnotherMasterAndFinishesOnceItFollows() {
		assumeTrue(RedisServers.isSentinelGroupAvailable(RedisVersion.defaultVersion()),
				() -> "No redis-server " + RedisVersion.defaultVersion().label() + " can run a Sentinel group here");
		String service = RedisServerExtension.uniqueName("sentinel-split");
		String stream = "session:1";
		try (RedisSentinelGroup leaseSide = RedisServers.startSentinelGroup("split-lease");
				RedisSentinelGroup dataSide = RedisServers.startSentinelGroup("split-data", 0, RedisServerSpec.defaults())) {
			RedisServer master = leaseSide.master();
			RedisServer stale = dataSide.master();
			// the data stream on both servers (as on a restarted old master), the announcement on the lease side only
			for (RedisServer server : List.of(master, stale)) {
				server.command("XADD", stream, "1-1", "type", "event");
				server.command("XADD", stream, "1-2", "type", "end");
			}
			master.command("XADD", service + "-input", "*", "lbs-input", "{\"DataStreamName\":\"" + stream + "\"}");
			RedissonClient lease = Redisson.create(sentinelConfig(leaseSide));
			RedissonClient data = Redisson.create(sentinelConfig(dataSide));
			Summaries summaries = new Summaries(data);
			new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
				.withBean(StreamLeaseRedis.class, () -> StreamLeaseRedis.owned(lease, data))
				.withBean(Summaries.class, () -> summaries)
				.withPropertyValues("spring.application.name=" + service, "stream-lease.hb-interval=2s",
						"stream-lease.shutdown.grace-period=500ms")
				.run((context) -> {
					assertThat(context).hasNotFailed();
					// the handler ran to the end (its summary went to the data client's master), more than once
					await().atMost(20, TimeUnit.SECONDS).until(() -> summaries.ends.get() >= 2);
					assertThat(stale.command("HGET", "summary:" + stream, "events")).isEqualTo("1");
					assertThat(master.command("EXISTS", "summary:" + stream)).as("summary on the lease side").isEqualTo(0L);
					assertThat(master.command("XLEN", service + "-input")).as("LBS entries: the stream is not finished")
						.isEqualTo(1L);
					assertThat((List<?>) master.command("KEYS", "*dead-letters*")).as("dead-letter streams").isEmpty();

					// the data client's Sentinels now report the lease client's master, as after its late switch
					for (RedisServer sentinel : dataSide.sentinels()) {
						sentinel.command("SENTINEL", "REMOVE", "split-data");
						sentinel.command("SENTINEL", "MONITOR", "split-data", master.host(),
								Integer.toString(master.port()), "2");
					}
					await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> assertThat(
							master.command("XLEN", service + "-input")).as("LBS entries on the lease side").isEqualTo(0L));
					assertThat(master.command("HGET", "summary:" + stream, "events")).as("summary on the lease side")
						.isEqualTo("1");
					assertThat(summaries.attempts).as("attempts seen by the handler: none counted").containsOnly(0);
				});
		}
	}

	private static Config sentinelConfig(RedisSentinelGroup group) {
		Config config = new Config();
		config.useSentinelServers()
			.setMasterName(group.masterName())
			.addSentinelAddress(group.sentinelAddresses().stream().map((address) -> "redis://" + address)
				.toArray(String[]::new))
			.setCheckSentinelsList(false)
			.setRetryAttempts(0);
		return config;
	}

	/** Totals a session and writes its summary through the data client at its end marker. */
	static class Summaries {

		final RedissonClient data;

		final AtomicInteger ends = new AtomicInteger();

		final java.util.Set<Integer> attempts = ConcurrentHashMap.newKeySet();

		Summaries(RedissonClient data) {
			this.data = data;
		}

		@StreamHandler
		void onEntry(StreamEntry entry, StreamState state, LeasedStream stream) {
			this.attempts.add(stream.checkpoint().attempts());
			if ("end".equals(entry.field("type"))) {
				this.data.<String, String>getMap("summary:" + entry.stream(), StringCodec.INSTANCE)
					.putAll(Map.of("events", Long.toString(state.getLong("events", 0)), "token",
							Long.toString(stream.fencingToken())));
				this.ends.incrementAndGet();
				state.complete();
			}
			else {
				state.put("events", Long.toString(state.getLong("events", 0) + 1));
			}
		}

	}

}
