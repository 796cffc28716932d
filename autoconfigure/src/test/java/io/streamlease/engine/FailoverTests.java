package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Failover: crashed owners, claims, the sweep, handoff, and fencing of a stale owner, on a real Redis.
 */
class FailoverTests extends EngineTestSupport {

	@Test
	void aConsumerThatDiesWithoutAckingGetsItsStreamBackWhenRestarted() {
		Running first = start("c1");
		producer().submit("s", Map.of("k", "v"));
		await().atMost(5, TimeUnit.SECONDS).until(() -> first.added.containsKey("s"));
		long token = first.added.get("s").fencingToken();
		first.crash();

		Running restarted = start("c1");
		await().atMost(HB.multipliedBy(4)).until(() -> restarted.added.containsKey("s"));
		LeasedStream again = restarted.added.get("s");
		assertThat(again.recovered()).isTrue();
		assertThat(again.fencingToken()).isGreaterThan(token);
		assertThat(again.info()).containsEntry("k", "v");
	}

	@Test
	void fiveStreamsTwoDoneThenACrashAnotherConsumerRecoversExactlyTheOtherThree() {
		Running first = start("c1");
		LbsProducer producer = producer();
		for (int i = 0; i < 5; i++) {
			producer.submit("s" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> first.added.size() == 5);
		first.client.doneStream("s0");
		first.client.doneStream("s1");
		first.crash();

		Running second = start("c2");
		await().atMost(HB.multipliedBy(3)).until(() -> second.added.size() == 3);
		assertThat(second.added.keySet()).containsExactlyInAnyOrder("s2", "s3", "s4");
		assertThat(second.added.values()).allMatch(LeasedStream::recovered);
		await().during(Duration.ofMillis(500)).atMost(2, TimeUnit.SECONDS).until(() -> second.added.size() == 3);
	}

	@Test
	void twoConsumersRaceToClaimOneOrphanAndExactlyOneWins() throws Exception {
		Running owner = start("owner");
		producer().submit("orphan", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.containsKey("orphan"));
		Running b = start("b", (settings) -> settings.autoClaim(false));
		Running c = start("c", (settings) -> settings.autoClaim(false));
		owner.crash();
		await().atMost(HB.multipliedBy(3)).until(() -> !b.events(StreamEvent.Type.EXPIRED).isEmpty()
				&& !c.events(StreamEvent.Type.EXPIRED).isEmpty());

		ExecutorService pool = Executors.newFixedThreadPool(2);
		try {
			List<Callable<ClaimResult>> claims = List.of(() -> b.client.claim("orphan"), () -> c.client.claim("orphan"));
			List<ClaimResult> results = new ArrayList<>();
			for (Future<ClaimResult> result : pool.invokeAll(claims)) {
				results.add(result.get());
			}
			assertThat(results).extracting(ClaimResult::status)
				.containsExactlyInAnyOrder(ClaimResult.Status.CLAIMED, ClaimResult.Status.ALREADY_CLAIMED);
			ClaimResult won = results.stream().filter((r) -> r.status() == ClaimResult.Status.CLAIMED).findFirst().get();
			ClaimResult lost = results.stream().filter((r) -> r.status() != ClaimResult.Status.CLAIMED).findFirst().get();
			assertThat(won.lease().recovered()).isTrue();
			assertThat(lost.holder()).isIn("b", "c").isNotEqualTo(lost == results.get(0) ? "b" : "c");
		}
		finally {
			pool.shutdownNow();
		}
		String winner = b.owned().contains("orphan") ? "b" : "c";
		assertThat(redis.command("XPENDING", keys().lbs(), keys().group(), "-", "+", "10").toString()).contains(winner);
	}

	@Test
	void aLapsedLeaseProducesExpiredAtThePeers() {
		Running owner = start("owner");
		producer().submit("lapsing", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.containsKey("lapsing"));
		Running peer = start("peer", (settings) -> settings.autoClaim(false));
		owner.crash();
		await().atMost(HB.multipliedBy(3)).until(() -> peer.events(StreamEvent.Type.EXPIRED).stream()
			.anyMatch((event) -> event.stream().equals("lapsing")));
		assertThat(peer.owned()).isEmpty();
		assertThat(peer.client.claim("lapsing").status()).isEqualTo(ClaimResult.Status.CLAIMED);
		assertThat(peer.client.claim("lapsing").status()).isEqualTo(ClaimResult.Status.OWNED);
	}

	@Test
	void twoThousandStreamsOverTenConsumersWithTwoKilledEndUpOwnedByExactlyOneSurvivor() {
		List<Running> consumers = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			consumers.add(start("c" + i));
		}
		LbsProducer producer = producer();
		for (int i = 0; i < 2000; i++) {
			producer.submit("stream-" + i, null);
		}
		await().atMost(20, TimeUnit.SECONDS).until(() -> consumers.stream().mapToInt((c) -> c.owned().size()).sum() == 2000);
		assertThat(consumers).allMatch((c) -> !c.owned().isEmpty());
		consumers.get(3).crash();
		consumers.get(7).crash();
		List<Running> survivors = new ArrayList<>(consumers);
		survivors.remove(7);
		survivors.remove(3);

		await().atMost(HB.multipliedBy(5)).until(() -> survivors.stream().mapToInt((c) -> c.owned().size()).sum() == 2000);
		Set<String> seen = new HashSet<>();
		for (Running survivor : survivors) {
			for (String stream : survivor.owned()) {
				assertThat(seen.add(stream)).as("stream %s owned twice", stream).isTrue();
			}
		}
		assertThat(seen).hasSize(2000);
		// the entries taken over are moved to their new owners right after the takeover (adopt.lua)
		await().atMost(HB.multipliedBy(2)).untilAsserted(() -> {
			Map<String, Long> pendingPerConsumer = pendingPerConsumer();
			assertThat(pendingPerConsumer.keySet()).doesNotContain("c3", "c7");
			for (Running survivor : survivors) {
				assertThat(pendingPerConsumer.get(survivor.client.id())).isEqualTo(survivor.owned().size());
			}
		});
	}

	@Test
	void anOwnerThatStopsWithoutHandoffIsReplacedWithinABound() {
		Running owner = start("owner", (settings) -> settings.handoffOnClose(false));
		producer().submit("s", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.containsKey("s"));
		Running peer = start("peer");
		long stopped = System.nanoTime();
		owner.client.close();
		await().atMost(HB.multipliedBy(2)).until(() -> peer.added.containsKey("s"));
		Duration took = Duration.ofNanos(System.nanoTime() - stopped);
		assertThat(took).isGreaterThan(HB.dividedBy(4));
	}

	@Test
	void closeHandsOffAndAPeerClaimsWellBeforeTheTtl() {
		Duration ttl = Duration.ofSeconds(10);
		Running owner = start("owner", (settings) -> settings.hbInterval(ttl));
		LbsProducer producer = producer();
		for (int i = 0; i < 20; i++) {
			producer.submit("h" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.size() == 20);
		Running peer = start("peer", (settings) -> settings.hbInterval(ttl));
		long closing = System.nanoTime();
		owner.client.close();
		await().atMost(2, TimeUnit.SECONDS).until(() -> peer.added.size() == 20);
		assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(ttl.dividedBy(5));
		assertThat(peer.added.values()).allMatch(LeasedStream::recovered);
		assertThat(owner.client.counters().handedOff()).isEqualTo(20);
		assertThat(owner.events(StreamEvent.Type.TERMINATED)).singleElement()
			.satisfies((event) -> assertThat(event.reason()).isEqualTo("closed"));
	}

	@Test
	void withNotificationsOffTheSweepRecoversEveryOrphan() {
		redis.command("CONFIG", "SET", "notify-keyspace-events", "");
		Running owner = start("owner", (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF));
		LbsProducer producer = producer();
		for (int i = 0; i < 50; i++) {
			producer.submit("o" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.added.size() == 50);
		Running peer = start("peer", (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF));
		owner.crash();
		await().atMost(HB.multipliedBy(3)).until(() -> peer.added.size() == 50);
		assertThat(redis.command("CONFIG", "GET", "notify-keyspace-events").toString()).isEqualTo("[notify-keyspace-events, ]");
	}

	@Test
	void autoModeMergesTheKeyspaceFlagsIntoTheExistingOnes() {
		redis.command("CONFIG", "SET", "notify-keyspace-events", "Eg");
		try {
			start("c1");
			String flags = ((List<?>) redis.command("CONFIG", "GET", "notify-keyspace-events")).get(1).toString();
			assertThat(flags).contains("E", "g", "K", "x");
		}
		finally {
			redis.command("CONFIG", "SET", "notify-keyspace-events", "");
		}
	}

	@Test
	void anEntryReadByAConsumerThatDiedBeforeTakingTheLeaseIsRecoveredByTheSweep() {
		Running peer = start("peer", (settings) -> settings.readBatchSize(1).maxConcurrentStreams(1));
		producer().submit("first", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> peer.added.containsKey("first"));
		producer().submit("lost-in-flight", null);
		// a consumer that read the entry and died before its acquire script ran
		redis.command("XREADGROUP", "GROUP", keys().group(), "ghost", "COUNT", "10", "STREAMS", keys().lbs(), ">");
		assertThat(redis.command("HEXISTS", keys().owners(), "lost-in-flight")).isEqualTo(0L);
		peer.client.doneStream("first");
		await().atMost(HB.multipliedBy(2)).until(() -> peer.added.containsKey("lost-in-flight"));
		await().atMost(HB).untilAsserted(() -> assertThat(pendingPerConsumer()).containsOnlyKeys("peer"));
	}

	@Test
	void aStaleOwnerIsFencedOffByRedisAndDisowned() {
		Duration ttl = Duration.ofSeconds(20);
		Running stale = start("stale", (settings) -> settings.hbInterval(ttl));
		producer().submit("fenced", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> stale.added.containsKey("fenced"));
		LeasedStream old = stale.added.get("fenced");
		// the owner's session lapses on the server while the owner does not notice (as after a partition)
		redis.command("ZADD", keys().consumers(), "0", "stale");
		Running peer = start("peer", (settings) -> settings.hbInterval(ttl));
		await().atMost(ttl.dividedBy(2)).until(() -> peer.added.containsKey("fenced"));
		LeasedStream current = peer.added.get("fenced");
		assertThat(current.fencingToken()).isGreaterThan(old.fencingToken());

		assertThat(old.isOwned()).isTrue();
		assertThatExceptionOfType(LeaseLostException.class)
			.isThrownBy(() -> old.checkpoint("1-1", Map.of("x", "stale")))
			.withMessageContaining("fenced")
			.withMessageContaining("held by consumer 'peer'");
		assertThat(old.isOwned()).isFalse();
		assertThat(stale.events(StreamEvent.Type.DISOWNED)).extracting(StreamEvent::stream).containsExactly("fenced");
		assertThat(old.released().toCompletableFuture()).isDone();
		assertThatExceptionOfType(LeaseLostException.class).isThrownBy(old::done);
		assertThat(redis.command("HGET", keys().checkpoint("fenced"), "state:x")).isNull();
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(1L);
		current.done();
		assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(0L);
	}

	@Test
	void aMassFailoverIsNotCappedByTheQueuesBetweenTheDetectorsAndTheClaims() {
		int streams = 3000;
		Running owner = start("owner", (settings) -> settings.readBatchSize(500));
		submitMany(streams);
		await().atMost(30, TimeUnit.SECONDS).until(() -> owner.client.ownedCount() == streams);
		Running peer = start("peer", (settings) -> settings.keyspaceChannelSize(10).brokerInputSize(2));
		owner.crash();
		await().atMost(HB.multipliedBy(4)).until(() -> peer.client.ownedCount() == streams);
		assertThat(peer.added.values()).allMatch(LeasedStream::recovered);
	}

	@Test
	void aHandoffOfManyStreamsIsClaimedAtOnceWhateverTheBrokerInputSize() {
		int streams = 3000;
		Duration ttl = Duration.ofSeconds(20);
		Running owner = start("owner", (settings) -> settings.hbInterval(ttl).readBatchSize(500));
		submitMany(streams);
		await().atMost(30, TimeUnit.SECONDS).until(() -> owner.client.ownedCount() == streams);
		Running peer = start("peer", (settings) -> settings.hbInterval(ttl).brokerInputSize(1));
		long closing = System.nanoTime();
		owner.client.close();
		await().atMost(ttl.dividedBy(4)).until(() -> peer.client.ownedCount() == streams);
		assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(ttl.dividedBy(4));
	}

	@Test
	void anEntryLeftPendingForALiveConsumerThatDoesNotHoldItIsTakenBack() {
		Running consumer = start("c1", (settings) -> settings.maxConcurrentStreams(1));
		producer().submit("first", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("first"));
		producer().submit("stray", null);
		// read for c1 behind its back, as when every call after a read failed: pending for c1, no lease
		redis.command("XREADGROUP", "GROUP", keys().group(), "c1", "COUNT", "10", "STREAMS", keys().lbs(), ">");
		consumer.client.doneStream("first");
		await().atMost(HB.multipliedBy(4)).until(() -> consumer.added.containsKey("stray"));
		assertThat(consumer.added.get("stray").recovered()).isTrue();
	}

	@Test
	void aTakeoverWhoseReplyWasLostIsClaimedAgainByTheConsumerWhoseSessionTookIt() {
		Running consumer = start("c2", (settings) -> settings.maxConcurrentStreams(1));
		producer().submit("first", null);
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("first"));
		producer().submit("lost", null);
		// read by a consumer that died before it could acquire it (no session, no record)
		redis.command("XREADGROUP", "GROUP", keys().group(), "ghost", "COUNT", "10", "STREAMS", keys().lbs(), ">");
		// a takeover by c2's session whose reply c2 never saw: the record is c2's, the entry still pending for ghost
		String sessionId = (String) redis.command("HGET", keys().sessions(), "c2");
		LeaseStore store = new LeaseStore(redisson(), EngineSettings.builder(this.service, "c2").hbInterval(HB).build(),
				"not-c2s-nonce");
		LeaseStore.Takeover lost = store.claimPending(sessionId, "ghost", Duration.ZERO, "-", 10, 10, false);
		assertThat(lost.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("lost");
		long lostToken = lost.taken().get(0).token();

		consumer.client.doneStream("first");

		// the sweep finds ghost's pending entry, claim-pending reports it to c2 (its session owns it, not adopted), and
		// c2, which does not hold it, claims it again under a new token and adopts nothing stale
		await().atMost(HB.multipliedBy(4)).until(() -> consumer.added.containsKey("lost"));
		assertThat(consumer.added.get("lost").fencingToken()).isGreaterThan(lostToken);
		await().atMost(HB).untilAsserted(() -> assertThat(pendingPerConsumer()).containsOnlyKeys("c2"));
	}

	private void submitMany(int streams) {
		org.redisson.api.RBatch batch = redisson().createBatch();
		for (int i = 0; i < streams; i++) {
			batch.getStream(keys().lbs(), org.redisson.client.codec.StringCodec.INSTANCE)
				.addAsync(org.redisson.api.stream.StreamAddArgs.entry("lbs-input", "{\"DataStreamName\":\"m" + i + "\"}"));
		}
		batch.execute();
	}

	private Map<String, Long> pendingPerConsumer() {
		Map<String, Long> counts = new HashMap<>();
		List<?> summary = (List<?>) redis.command("XPENDING", keys().lbs(), keys().group());
		if (summary.get(3) instanceof List<?> rows) {
			for (Object row : rows) {
				List<?> pair = (List<?>) row;
				counts.put(pair.get(0).toString(), Long.parseLong(pair.get(1).toString()));
			}
		}
		return counts;
	}

}
