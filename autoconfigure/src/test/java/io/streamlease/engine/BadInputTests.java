package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.streamlease.DuplicateConsumerException;
import io.streamlease.LeasedStream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * What malformed LBS entries, hostile stream names, duplicate consumer ids and duplicate submissions get.
 */
class BadInputTests extends EngineTestSupport {

	@Test
	void eachKindOfBadEntryIsDeadLetteredWithItsReasonAndTheNextGoodEntryIsStillProcessed() {
		Running consumer = start("c1", (settings) -> settings.maxEntrySize(2000));
		redis.command("XADD", keys().lbs(), "*", "other-field", "x");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{not json");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "[1, 2]");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"DataStreamName\": \"  \"}");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"Info\": {}}");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"DataStreamName\": 42}");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"DataStreamName\": \"s\", \"Info\": \"text\"}");
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"DataStreamName\": \"big\", \"Info\": {\"pad\": \"" + "x".repeat(3000) + "\"}}");
		producer().submit("good", Map.of("ok", true));

		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("good"));
		await().atMost(2, TimeUnit.SECONDS).until(() -> consumer.client.counters().deadLettered() == 8);
		List<?> letters = (List<?>) redis.command("XRANGE", keys().deadLetters(), "-", "+");
		assertThat(letters).hasSize(8);
		assertThat(letters.stream().map((letter) -> field(letter, "dead-letter.reason")).toList()).containsExactly(
				"missing-field", "invalid-json", "invalid-json", "missing-stream-name", "missing-stream-name",
				"missing-stream-name", "invalid-info", "oversized");
		assertThat(field(letters.get(0), "other-field")).isEqualTo("x");
		assertThat(field(letters.get(1), "lbs-input")).isEqualTo("{not json");
		assertThat(field(letters.get(1), "dead-letter.detail")).contains("not valid JSON");
		assertThat(field(letters.get(7), "dead-letter.detail")).contains("max-entry-size (2000)");
		assertThat(field(letters.get(0), "dead-letter.consumer")).isEqualTo("c1");
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(1L);
		assertThat(redis.command("XPENDING", keys().lbs(), keys().group()).toString()).startsWith("[1,");
	}

	@Test
	void anEntryWithThousandsOfFieldsIsDeadLetteredWithAllOfThemAndTheNextGoodEntryIsStillProcessed() {
		Running consumer = start("c1");
		// 5,000 fields: more values than one Lua unpack takes, were they copied one by one into the dead letter
		List<String> wide = new ArrayList<>();
		for (int i = 1; i <= 5000; i++) {
			wide.add("f" + i);
			wide.add("v" + i);
		}
		List<String> command = new ArrayList<>(List.of("XADD", keys().lbs(), "*"));
		command.addAll(wide);
		redis.command(command.toArray(String[]::new));
		producer().submit("good", Map.of("ok", true));

		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("good"));
		await().atMost(2, TimeUnit.SECONDS).until(() -> consumer.client.counters().deadLettered() == 1);
		List<?> letters = (List<?>) redis.command("XRANGE", keys().deadLetters(), "-", "+");
		assertThat(letters).hasSize(1);
		Object last = letters.get(0);
		assertThat(field(last, "dead-letter.reason")).isEqualTo("missing-field");
		// too many to copy one by one: kept whole, as one JSON object
		assertThat(field(last, "f1")).isNull();
		assertThat(field(last, "dead-letter.fields")).contains("\"f5000\":\"v5000\"").contains("\"f1\":\"v1\"");
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(1L);
	}

	@Test
	void streamNamesWithAnyCharactersWork() {
		Running consumer = start("c1");
		List<String> names = List.of("{", "}", "{tag}", "a:b:c", "with space", "new\nline", "*?[x]\\", "ünïcødé ✓ 名前",
				"n".repeat(10 * 1024));
		LbsProducer producer = producer();
		for (String name : names) {
			producer.submit(name, Map.of("name", name));
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.size() == names.size());
		assertThat(consumer.added.keySet()).containsExactlyInAnyOrderElementsOf(names);
		for (String name : names) {
			LeasedStream lease = consumer.added.get(name);
			assertThat(lease.info()).containsEntry("name", name);
			assertThat(redis.command("HEXISTS", keys().owners(), name)).isEqualTo(1L);
			lease.checkpoint("0-1", Map.of("k", name));
		}
		await().atMost(HB.multipliedBy(2)).until(() -> consumer.client.lastRenewal() != null);
		for (String name : names) {
			consumer.client.doneStream(name);
		}
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(0L);
		assertThat(redis.command("HLEN", keys().owners())).isEqualTo(0L);
		assertThat(consumer.client.counters().disowned()).isZero();
	}

	@Test
	void aDuplicateConsumerIdIsRefusedWithAClearMessage() {
		start("same");
		Running twin = create("same", (settings) -> {
		});
		long started = System.nanoTime();
		assertThatExceptionOfType(DuplicateConsumerException.class).isThrownBy(twin.client::start)
			.withMessageContaining("'same'")
			.withMessageContaining(this.service)
			.withMessageContaining("unique consumer id");
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(HB.multipliedBy(2));
		assertThat(twin.client.state()).isEqualTo(EngineState.TERMINATED);
	}

	@Test
	void aStreamSubmittedAgainWhileHeldRunsOnceMoreAfterItIsDoneFromItsCheckpoint() {
		Running consumer = start("c1");
		LbsProducer producer = producer();
		producer.submit("twice", Map.of("run", 1));
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("twice"));
		LeasedStream first = consumer.added.remove("twice");
		first.checkpoint("5-0", Map.of("count", "5"));

		producer.submit("twice", Map.of("run", 2));
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.client.counters().duplicates() == 1);
		assertThat(consumer.added).doesNotContainKey("twice");
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(1L);

		first.done();
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("twice"));
		LeasedStream second = consumer.added.get("twice");
		assertThat(second.fencingToken()).isGreaterThan(first.fencingToken());
		assertThat(second.info()).containsEntry("run", 2);
		assertThat(second.checkpoint().position()).isEqualTo("5-0");
		second.done();
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(0L);
		await().during(Duration.ofMillis(500)).atMost(2, TimeUnit.SECONDS)
			.until(() -> consumer.events(StreamEvent.Type.ADDED).size() == 2);
	}

	@Test
	void aMalformedPendingEntryDoesNotBlockStartupRecovery() {
		start("c0").client.close();
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{oops");
		producer().submit("valid", null);
		redis.command("XREADGROUP", "GROUP", keys().group(), "c1", "COUNT", "10", "STREAMS", keys().lbs(), ">");

		Running consumer = start("c1");
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("valid"));
		assertThat(consumer.added.get("valid").recovered()).isTrue();
		assertThat(redis.command("XLEN", keys().deadLetters())).isEqualTo(1L);
	}

	@Test
	void infoWithOneMegabyteOfDataIsDeliveredIntactAndDeepNestingIsDeadLettered() {
		Running consumer = start("c1");
		String megabyte = "m".repeat(1_000_000);
		producer().submit("large", Map.of("blob", megabyte));
		String deep = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
		redis.command("XADD", keys().lbs(), "*", "lbs-input", "{\"DataStreamName\": \"deep\", \"Info\": " + deep + "}");
		producer().submit("after", null);

		await().atMost(10, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("large") && consumer.added.containsKey("after"));
		assertThat(consumer.added.get("large").info().get("blob")).isEqualTo(megabyte);
		assertThat(consumer.added).doesNotContainKey("deep");
		List<?> letters = (List<?>) redis.command("XRANGE", keys().deadLetters(), "-", "+");
		assertThat(letters).hasSize(1);
		assertThat(field(letters.get(0), "dead-letter.reason")).isEqualTo("invalid-json");
		assertThat(field(letters.get(0), "dead-letter.detail")).containsIgnoringCase("nesting depth");
	}

	private static String field(Object entry, String name) {
		List<?> fields = (List<?>) ((List<?>) entry).get(1);
		for (int i = 0; i + 1 < fields.size(); i += 2) {
			if (fields.get(i).equals(name)) {
				return fields.get(i + 1).toString();
			}
		}
		return null;
	}

}
