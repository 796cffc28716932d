package io.streamlease.sample;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The sample end to end on a real Redis started by the test: sessions written and submitted as a producer would,
 * processed by the session handler, summarised exactly, and finished (LBS empty, nothing dead-lettered).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "stream-lease.consumer-id=sample-e2e", "sample.processing-delay=2ms" })
@DirtiesContext
class SessionProcessingTests {

	private static final int SESSIONS = 25;

	// not closed by the test: @DirtiesContext closes the application after the class, and the application must
	// stop (hand off) while its Redis is up; test-support kills the server when the JVM exits
	static final RedisServer redis = RedisServers.start();

	@DynamicPropertySource
	static void redisProperties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", redis::host);
		registry.add("spring.data.redis.port", redis::port);
	}

	@Autowired
	private ApplicationContext context;

	@Autowired
	private StreamLeaseTemplate template;

	@LocalServerPort
	private int port;

	@Test
	void everySubmittedSessionGetsAnExactFencedSummaryAndIsFinished() {
		Random random = new Random(42);
		Map<String, long[]> expected = new HashMap<>();
		for (int i = 0; i < SESSIONS; i++) {
			String stream = "session:e2e-" + i;
			long events = random.nextInt(0, 30);
			long amount = 0;
			for (int e = 0; e < events; e++) {
				int value = random.nextInt(1, 101);
				amount += value;
				redis.command("XADD", stream, "*", "type", "event", "amount", Integer.toString(value));
			}
			redis.command("XADD", stream, "*", "type", "end");
			expected.put(stream, new long[] { events, amount });
			this.template.submit(stream, Map.of("test", "e2e"));
		}

		await().atMost(Duration.ofSeconds(30))
			.untilAsserted(() -> assertThat(expected.keySet()).allSatisfy((stream) -> assertThat(
					redis.command("EXISTS", SessionSummaryWriter.key(stream))).isEqualTo(1L)));
		expected.forEach((stream, totals) -> {
			Map<String, String> summary = hash(redis, SessionSummaryWriter.key(stream));
			assertThat(summary).as(stream)
				.containsEntry("events", Long.toString(totals[0]))
				.containsEntry("amount", Long.toString(totals[1]))
				.containsEntry("skipped", "0")
				.containsEntry("consumer", "sample-e2e");
			assertThat(Long.parseLong(summary.get("fencingToken"))).as(stream).isPositive();
		});

		StreamLeaseEngine engine = engine();
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(redis.command("XLEN", "sessions-input")).isEqualTo(0L));
		assertThat(redis.command("XLEN", engine.keys().deadLetters())).isEqualTo(0L);
		assertThat(engine.ownedStreams()).isEmpty();
		assertThat(redis.command("EXISTS", "sample:audit")).as("the audit is off by default").isEqualTo(0L);
	}

	@Test
	void malformedEntriesAreSkippedAndCountedAndTheSessionStillFinishes() {
		String stream = "session:e2e-malformed";
		redis.command("XADD", stream, "*", "type", "event", "amount", "7");
		redis.command("XADD", stream, "*", "type", "event", "amount", "seven");
		redis.command("XADD", stream, "*", "type", "event");
		redis.command("XADD", stream, "*", "type", "refund", "amount", "3");
		redis.command("XADD", stream, "*", "amount", "3");
		redis.command("XADD", stream, "*", "type", "event", "amount", "-2");
		redis.command("XADD", stream, "*", "type", "end");
		this.template.submit(stream, Map.of());

		await().atMost(Duration.ofSeconds(15))
			.until(() -> redis.command("EXISTS", SessionSummaryWriter.key(stream)).equals(1L));
		assertThat(hash(redis, SessionSummaryWriter.key(stream))).containsEntry("events", "2")
			.containsEntry("amount", "5")
			.containsEntry("skipped", "4");
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(redis.command("XLEN", "sessions-input")).isEqualTo(0L));
		assertThat(redis.command("XLEN", engine().keys().deadLetters())).isEqualTo(0L);
	}

	@Test
	void aSummaryWrittenWithANewerTokenIsNotOverwrittenAndTheSessionIsStillFinished() {
		String stream = "session:e2e-taken-over";
		// as if a newer owner of this session had already written its summary (tokens are hybrid-clock values, about
		// server ms x 1024: this one is far in the future)
		String newer = Long.toString(Long.MAX_VALUE / 4);
		redis.command("HSET", SessionSummaryWriter.key(stream), "fencingToken", newer, "events", "99",
				"consumer", "newer-owner");
		redis.command("XADD", stream, "*", "type", "event", "amount", "1");
		redis.command("XADD", stream, "*", "type", "end");
		this.template.submit(stream, Map.of());

		await().atMost(Duration.ofSeconds(15))
			.untilAsserted(() -> assertThat(redis.command("XLEN", "sessions-input")).isEqualTo(0L));
		assertThat(hash(redis, SessionSummaryWriter.key(stream))).containsEntry("fencingToken", newer)
			.containsEntry("events", "99")
			.containsEntry("consumer", "newer-owner");
		assertThat(redis.command("XLEN", engine().keys().deadLetters())).isEqualTo(0L);
	}

	@Test
	void usesTheConfiguredRedisWithoutAnEmbeddedOneOrTheDemoProducer() {
		assertThat(this.context.containsBean(EmbeddedRedisApplicationListener.BEAN_NAME)).isFalse();
		assertThat(this.context.getBeanProvider(DemoSessionProducer.class).getIfAvailable()).isNull();
		assertThat(engine().settings().serviceName()).isEqualTo("sessions");
	}

	@Test
	void servesHealthAndTheStreamsEndpoint() throws Exception {
		HttpResponse<String> health = get("/actuator/health");
		assertThat(health.statusCode()).isEqualTo(200);
		assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"streamLease\"");

		HttpResponse<String> streams = get("/actuator/streams");
		assertThat(streams.statusCode()).isEqualTo(200);
		assertThat(streams.body()).contains("\"consumerId\":\"sample-e2e\"").contains("\"sessions\":{");
	}

	private HttpResponse<String> get(String path) throws Exception {
		return HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path))
				.timeout(Duration.ofSeconds(10))
				.build(), HttpResponse.BodyHandlers.ofString());
	}

	private StreamLeaseEngine engine() {
		return this.context.getBean(StreamHandlerEndpointRegistry.class)
			.getContainers()
			.stream()
			.filter((container) -> container.getEndpoint().getService().equals("sessions"))
			.findFirst()
			.orElseThrow()
			.getEngine();
	}

	static Map<String, String> hash(RedisServer redis, String key) {
		List<?> reply = (List<?>) redis.command("HGETALL", key);
		Map<String, String> map = new HashMap<>();
		for (int i = 0; i + 1 < reply.size(); i += 2) {
			map.put(reply.get(i).toString(), reply.get(i + 1).toString());
		}
		return map;
	}

}
