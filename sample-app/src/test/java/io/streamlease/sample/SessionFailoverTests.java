package io.streamlease.sample;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.LeasedStream;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two instances of the sample against one Redis: one stops without handing its sessions off (as if it crashed),
 * the other takes them over when their leases lapse, resumes from their checkpoints and writes exact summaries
 * with its own, greater fencing token.
 */
class SessionFailoverTests {

	private static final int SESSIONS = 8;

	private static final int EVENTS = 15;

	@SharedRedisServer
	static RedisServer redis;

	@Test
	void sessionsOfAnInstanceThatStopsWithoutHandoffAreFinishedExactlyByTheOther() {
		try (ConfigurableApplicationContext survivor = start("sample-survivor", "stream-lease.shutdown.handoff=true")) {
			Map<String, Long> amounts = new HashMap<>();
			Map<String, Long> tokensOfTheLost = new HashMap<>();
			try (ConfigurableApplicationContext lost = start("sample-lost", "stream-lease.shutdown.handoff=false",
					"stream-lease.shutdown.grace-period=0s")) {
				StreamLeaseTemplate template = lost.getBean(StreamLeaseTemplate.class);
				for (int i = 0; i < SESSIONS; i++) {
					String stream = "session:failover-" + i;
					long amount = 0;
					for (int e = 1; e <= EVENTS; e++) {
						amount += e;
						redis.command("XADD", stream, "*", "type", "event", "amount", Integer.toString(e));
					}
					redis.command("XADD", stream, "*", "type", "end");
					amounts.put(stream, amount);
					template.submit(stream, Map.of());
				}
				StreamLeaseEngine engine = engine(lost);
				// stop it in the middle of its sessions: once it has checkpointed some of their events
				await().atMost(Duration.ofSeconds(15))
					.until(() -> engine.ownedStreams()
						.stream()
						.anyMatch((stream) -> redis.command("HGET", engine.keys().checkpoint(stream.name()),
								"state:events") != null));
				for (LeasedStream stream : engine.ownedStreams()) {
					tokensOfTheLost.put(stream.name(), stream.fencingToken());
				}
			}
			assertThat(tokensOfTheLost).isNotEmpty();

			await().atMost(Duration.ofSeconds(30))
				.untilAsserted(() -> assertThat(amounts.keySet()).allSatisfy((stream) -> assertThat(
						redis.command("EXISTS", SessionSummaryWriter.key(stream))).isEqualTo(1L)));
			amounts.forEach((stream, amount) -> assertThat(SessionProcessingTests.hash(redis, SessionSummaryWriter.key(stream)))
				.as(stream)
				.containsEntry("events", Integer.toString(EVENTS))
				.containsEntry("amount", Long.toString(amount)));
			tokensOfTheLost.forEach((stream, token) -> {
				Map<String, String> summary = SessionProcessingTests.hash(redis, SessionSummaryWriter.key(stream));
				if (summary.get("consumer").equals("sample-survivor")) {
					assertThat(Long.parseLong(summary.get("fencingToken"))).as(stream).isGreaterThan(token);
				}
			});
			assertThat(tokensOfTheLost.keySet()).as("sessions taken over by the survivor")
				.anySatisfy((stream) -> assertThat(SessionProcessingTests.hash(redis, SessionSummaryWriter.key(stream)))
					.containsEntry("consumer", "sample-survivor"));
			StreamLeaseEngine engine = engine(survivor);
			assertThat(engine.counters().claimed()).isPositive();
			await().atMost(Duration.ofSeconds(10))
				.untilAsserted(() -> assertThat(redis.command("XLEN", "sessions-input")).isEqualTo(0L));
			assertThat(redis.command("XLEN", engine.keys().deadLetters())).isEqualTo(0L);
		}
	}

	private static ConfigurableApplicationContext start(String consumerId, String... properties) {
		List<String> args = new ArrayList<>(List.of("--server.port=0", "--spring.data.redis.host=" + redis.host(),
				"--spring.data.redis.port=" + redis.port(), "--stream-lease.consumer-id=" + consumerId,
				"--stream-lease.hb-interval=1s", "--sample.processing-delay=100ms",
				// checkpoint every few entries, so that the survivor resumes in the middle of a session
				"--stream-lease.entry.checkpoint-every=3"));
		for (String property : properties) {
			args.add("--" + property);
		}
		// command-line arguments, so that they override application.yml
		return new SpringApplicationBuilder(SampleApplication.class).run(args.toArray(String[]::new));
	}

	private static StreamLeaseEngine engine(ConfigurableApplicationContext context) {
		return context.getBean(StreamHandlerEndpointRegistry.class).getContainers().iterator().next().getEngine();
	}

}
