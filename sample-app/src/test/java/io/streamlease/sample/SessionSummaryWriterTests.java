package io.streamlease.sample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatException;

/**
 * The compare-token write of session summaries on a real Redis.
 */
class SessionSummaryWriterTests {

	@SharedRedisServer
	static RedisServer redis;

	static RedissonClient redisson;

	static SessionSummaryWriter writer;

	@BeforeAll
	static void createWriter() {
		Config config = new Config();
		config.useSingleServer().setAddress("redis://" + redis.host() + ":" + redis.port());
		redisson = Redisson.create(config);
		writer = new SessionSummaryWriter(redisson);
	}

	@AfterAll
	static void shutDownRedisson() {
		redisson.shutdown();
	}

	@Test
	void writesASummaryThatHasNoTokenYet() {
		SessionSummaryWriter.Result result = writer.write("session:new", 5, Map.of("events", "3", "amount", "12"));

		assertThat(result).isEqualTo(new SessionSummaryWriter.Result(true, 5));
		assertThat(SessionProcessingTests.hash(redis, "summary:session:new"))
			.isEqualTo(Map.of("events", "3", "amount", "12", "fencingToken", "5"));
	}

	@Test
	void refusesALowerTokenAndLeavesTheSummaryAsItWas() {
		writer.write("session:stale", 10, Map.of("events", "4", "consumer", "new-owner"));

		SessionSummaryWriter.Result result = writer.write("session:stale", 9, Map.of("events", "3", "consumer", "old-owner"));

		assertThat(result).isEqualTo(new SessionSummaryWriter.Result(false, 10));
		assertThat(SessionProcessingTests.hash(redis, "summary:session:stale"))
			.isEqualTo(Map.of("events", "4", "consumer", "new-owner", "fencingToken", "10"));
	}

	@Test
	void acceptsTheSameTokenAgain() {
		writer.write("session:retried", 7, Map.of("events", "1"));

		SessionSummaryWriter.Result result = writer.write("session:retried", 7, Map.of("events", "2"));

		assertThat(result).isEqualTo(new SessionSummaryWriter.Result(true, 7));
		assertThat(SessionProcessingTests.hash(redis, "summary:session:retried"))
			.isEqualTo(Map.of("events", "2", "fencingToken", "7"));
	}

	@Test
	void acceptsAHigherTokenAndStoresIt() {
		writer.write("session:taken-over", 3, Map.of("events", "1", "consumer", "first"));

		SessionSummaryWriter.Result result = writer.write("session:taken-over", 12, Map.of("events", "5", "consumer", "second"));

		assertThat(result).isEqualTo(new SessionSummaryWriter.Result(true, 12));
		assertThat(SessionProcessingTests.hash(redis, "summary:session:taken-over"))
			.isEqualTo(Map.of("events", "5", "consumer", "second", "fencingToken", "12"));
	}

	@Test
	void comparesTokensAsNumbersNotAsText() {
		writer.write("session:digits", 10, Map.of("events", "1"));

		assertThat(writer.write("session:digits", 9, Map.of("events", "2")).written()).isFalse();
		assertThat(writer.write("session:digits", 100, Map.of("events", "3")).written()).isTrue();
	}

	@Test
	void recordsEveryAttemptAcceptedOrRejectedInTheAuditStreamWhenAsked() {
		SessionSummaryWriter audited = new SessionSummaryWriter(redisson, "audit:writer-test");
		audited.write("session:audited", 4, Map.of("events", "2", "consumer", "first"));
		audited.write("session:audited", 3, Map.of("events", "1", "consumer", "stale"));
		audited.write("session:audited", 6, Map.of("events", "2", "consumer", "second"));

		List<Map<String, String>> records = records(redis, "audit:writer-test");
		assertThat(records).hasSize(3);
		assertThat(records.get(0)).containsEntry("kind", "summary")
			.containsEntry("key", "summary:session:audited")
			.containsEntry("result", "accepted")
			.containsEntry("token", "4")
			.containsEntry("stored", "")
			.containsEntry("consumer", "first")
			.containsEntry("events", "2");
		assertThat(records.get(1)).containsEntry("result", "rejected")
			.containsEntry("token", "3")
			.containsEntry("stored", "4")
			.containsEntry("consumer", "stale");
		assertThat(records.get(2)).containsEntry("result", "accepted")
			.containsEntry("token", "6")
			.containsEntry("stored", "4");
		assertThat(SessionProcessingTests.hash(redis, "summary:session:audited")).containsEntry("consumer", "second")
			.containsEntry("fencingToken", "6");
	}

	@Test
	void writesNoAuditRecordWithoutAnAuditStream() {
		writer.write("session:not-audited", 1, Map.of("events", "1"));

		assertThat(redis.command("KEYS", "*audit*")).asList().doesNotContain("sample:audit");
		assertThat(SessionProcessingTests.hash(redis, "summary:session:not-audited")).containsEntry("fencingToken", "1");
	}

	@Test
	void failsOnAStoredTokenThatIsNotANumberInsteadOfOverwritingIt() {
		redis.command("HSET", "summary:session:corrupt", "fencingToken", "abc", "events", "1");

		assertThatException().isThrownBy(() -> writer.write("session:corrupt", 1, Map.of("events", "2")));
		assertThat(SessionProcessingTests.hash(redis, "summary:session:corrupt")).containsEntry("events", "1");
	}

	static List<Map<String, String>> records(RedisServer redis, String stream) {
		List<Map<String, String>> records = new ArrayList<>();
		for (Object entry : (List<?>) redis.command("XRANGE", stream, "-", "+")) {
			List<?> fields = (List<?>) ((List<?>) entry).get(1);
			Map<String, String> record = new LinkedHashMap<>();
			for (int i = 0; i + 1 < fields.size(); i += 2) {
				record.put(fields.get(i).toString(), fields.get(i + 1).toString());
			}
			records.add(record);
		}
		return records;
	}

}
