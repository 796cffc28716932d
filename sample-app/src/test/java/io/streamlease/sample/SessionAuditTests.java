package io.streamlease.sample;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The opt-in audit (sample.audit.enabled): one record per handled entry with the consumer and its fencing token,
 * and one per summary write attempt, written by the summary script itself.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE,
		properties = { "stream-lease.consumer-id=sample-audited", "sample.processing-delay=0ms",
				"sample.audit.enabled=true", "sample.audit.stream=test:audit" })
@DirtiesContext
class SessionAuditTests {

	// closed by test-support when the JVM exits, after the application has stopped (see SessionProcessingTests)
	static final RedisServer redis = RedisServers.start();

	@DynamicPropertySource
	static void redisProperties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", redis::host);
		registry.add("spring.data.redis.port", redis::port);
	}

	@Autowired
	private StreamLeaseTemplate template;

	@Test
	void recordsEveryHandledEntryAndTheSummaryWriteWithTheConsumerAndItsFencingToken() {
		String stream = "session:audited";
		String first = (String) redis.command("XADD", stream, "*", "type", "event", "amount", "5");
		String second = (String) redis.command("XADD", stream, "*", "type", "event", "amount", "7");
		String end = (String) redis.command("XADD", stream, "*", "type", "end");
		this.template.submit(stream, Map.of());

		await().atMost(Duration.ofSeconds(15))
			.untilAsserted(() -> assertThat(redis.command("XLEN", "sessions-input")).isEqualTo(0L));
		String token = SessionProcessingTests.hash(redis, SessionSummaryWriter.key(stream)).get("fencingToken");
		List<Map<String, String>> records = SessionSummaryWriterTests.records(redis, "test:audit");
		assertThat(records).hasSize(4);
		assertThat(records.subList(0, 3)).extracting((record) -> record.get("entry")).containsExactly(first, second, end);
		assertThat(records.subList(0, 3)).allSatisfy((record) -> assertThat(record).containsEntry("kind", "entry")
			.containsEntry("stream", stream)
			.containsEntry("consumer", "sample-audited")
			.containsEntry("token", token)
			.containsEntry("recovered", "false"));
		assertThat(records.get(2)).containsEntry("type", "end");
		assertThat(records.get(3)).containsEntry("kind", "summary")
			.containsEntry("key", SessionSummaryWriter.key(stream))
			.containsEntry("result", "accepted")
			.containsEntry("token", token)
			.containsEntry("events", "2")
			.containsEntry("amount", "12")
			.containsEntry("consumer", "sample-audited");
	}

}
