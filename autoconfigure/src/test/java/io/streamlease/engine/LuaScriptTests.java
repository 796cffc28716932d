package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.streamlease.Checkpoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every Lua script of the engine against a real Redis, called through {@link LeaseStore}: the main outcome of
 * each, its refusals, and the exact Redis state it leaves (no engine threads run here). Sessions get a 30 s TTL, so
 * that nothing lapses unless a test makes it lapse: a {@code ZADD} of the consumer's deadline to 0 ends the session
 * as far as every script is concerned.
 */
class LuaScriptTests extends EngineTestSupport {

	private static final Duration TTL = Duration.ofSeconds(30);

	/** One client for the class: the scripts are called one at a time, and no engine runs. */
	private static RedissonClient client;

	private StreamLeaseKeys keys;

	private RTopic subscribed;

	@BeforeAll
	static void connect() {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(4);
		config.useSingleServer().setAddress(redis.uri()).setTimeout(3000).setRetryAttempts(0);
		client = Redisson.create(config);
	}

	@AfterAll
	static void disconnect() {
		client.shutdown();
	}

	@BeforeEach
	void createGroup() {
		this.keys = keys();
		store("c0").createGroup();
	}

	@AfterEach
	void unsubscribe() {
		if (this.subscribed != null) {
			this.subscribed.removeAllListeners();
		}
	}

	// ---- the group

	@Test
	void theGroupIsCreatedFromTheStartOfTheLbsAndAnExistingGroupIsKept() {
		LeaseStore store = new LeaseStore(client, EngineSettings.builder(this.service + "-early", "c1").build(), "n");
		String early = (String) redis.command("XADD", store.keys().lbs(), "*", "lbs-input", payload("early", "{}"));

		store.createGroup();
		store.createGroup();

		List<?> read = (List<?>) redis.command("XREADGROUP", "GROUP", store.keys().group(), "c1", "STREAMS",
				store.keys().lbs(), ">");
		assertThat(read.toString()).contains(early);
	}

	// ---- registry.lua

	@Test
	void registerOpensASessionWithItsRegistryEntrySessionKeyAndNonce() {
		long before = serverMillis();
		LeaseStore.Registration registration = store("c1").register();
		long after = serverMillis();

		assertThat(registration.taken()).isFalse();
		String sid = registration.sessionId();
		assertThat(sid).isEqualTo("1");
		assertThat(redis.command("GET", keys.sessionSequence())).isEqualTo("1");
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isEqualTo(sid);
		assertThat(redis.command("HGET", keys.sessionConsumers(), sid)).isEqualTo("c1");
		assertThat(redis.command("HGET", keys.consumerInstances(), "c1")).isEqualTo("nonce-c1");
		assertThat(deadline("c1")).isBetween(before + TTL.toMillis(), after + TTL.toMillis());
		assertThat(redis.command("GET", keys.session("c1"))).isEqualTo(sid);
		assertThat((Long) redis.command("PTTL", keys.session("c1"))).isBetween(1L, TTL.toMillis());
	}

	@Test
	void registerIsRefusedWhileAnotherInstanceHoldsALiveSessionOfTheId() {
		String sid = store("c1").register().sessionId();

		LeaseStore.Registration twin = store("c1", "other-nonce").register();

		assertThat(twin.taken()).isTrue();
		assertThat(twin.takenForMillis()).isBetween(1L, TTL.toMillis());
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isEqualTo(sid);
		assertThat(redis.command("HGET", keys.consumerInstances(), "c1")).isEqualTo("nonce-c1");
		assertThat(redis.command("GET", keys.sessionSequence())).isEqualTo("1");
	}

	@Test
	void theSameInstanceRegistersAgainAndItsEarlierSessionEndsAtOnce() {
		LeaseStore store = store("c1");
		String first = store.register().sessionId();
		String s = submit("s");
		read("c1");
		assertThat(acquire(store, first, "s", s).status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);

		LeaseStore.Registration again = store.register();

		assertThat(again.taken()).isFalse();
		assertThat(again.sessionId()).isEqualTo("2");
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isEqualTo("2");
		assertThat(redis.command("HGET", keys.sessionConsumers(), first)).isNull();
		assertThat(redis.command("HGET", keys.sessionConsumers(), "2")).isEqualTo("c1");
		assertThat(redis.command("GET", keys.session("c1"))).isEqualTo("2");
		// the old session's records are no longer live: the old session cannot act, the new one takes them back
		assertThat(store.acquire(first, List.of(new LeaseStore.Request("s", s)), false).join().notLive()).isTrue();
		assertThat(store.renew(first).join().status()).isEqualTo(LeaseStore.RenewalStatus.LAPSED);
		LeaseStore.Takeover takeover = store.claimPending("2", "c1", Duration.ZERO, "-", 10, 10, true);
		assertThat(takeover.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("s");
		assertThat(takeover.own()).isEmpty();
	}

	@Test
	void anotherInstanceRegistersTheIdOnceItsSessionLapsed() {
		LeaseStore first = store("c1");
		String sid = first.register().sessionId();
		lapse("c1");

		LeaseStore.Registration second = store("c1", "other-nonce").register();

		assertThat(second.taken()).isFalse();
		assertThat(redis.command("HGET", keys.consumerInstances(), "c1")).isEqualTo("other-nonce");
		assertThat(redis.command("HGET", keys.sessionConsumers(), sid)).isNull();
		assertThat(first.renew(sid).join().status()).isEqualTo(LeaseStore.RenewalStatus.TAKEN);
	}

	@Test
	void deregisterEndsOnlyTheNamedSession() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();

		store.deregister("42");
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isEqualTo(sid);
		assertThat(redis.command("ZSCORE", keys.consumers(), "c1")).isNotNull();

		store.deregister(sid);
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isNull();
		assertThat(redis.command("HGET", keys.sessionConsumers(), sid)).isNull();
		assertThat(redis.command("HGET", keys.consumerInstances(), "c1")).isNull();
		assertThat(redis.command("ZSCORE", keys.consumers(), "c1")).isNull();
		assertThat(redis.command("EXISTS", keys.session("c1"))).isEqualTo(0L);
	}

	// ---- renew.lua

	@Test
	void renewalExtendsTheDeadlineAndTheSessionKeyAndListsTheLiveConsumers() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		store("c2").register();
		store("c3").register();
		lapse("c3");
		redis.command("ZADD", keys.consumers(), Long.toString(serverMillis() + 1000), "c1");
		redis.command("PEXPIRE", keys.session("c1"), "100");

		long before = serverMillis();
		LeaseStore.Renewal renewal = store.renew(sid).join();

		assertThat(renewal.status()).isEqualTo(LeaseStore.RenewalStatus.OK);
		assertThat(renewal.live()).containsOnlyKeys("c1", "c2");
		assertThat(renewal.live().values()).allSatisfy((left) -> assertThat(left).isBetween(1L, TTL.toMillis()));
		assertThat(deadline("c1")).isGreaterThanOrEqualTo(before + TTL.toMillis());
		assertThat((Long) redis.command("PTTL", keys.session("c1"))).isGreaterThan(TTL.toMillis() - 5000);
		assertThat(redis.command("GET", keys.session("c1"))).isEqualTo(sid);
	}

	@Test
	void renewalPublishesThisConsumersLoadAndReturnsTheLoadsOfLiveConsumersAndTheServiceTotal() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String a = submit("a");
		String b = submit("b");
		String c = submit("c");
		read("c1");
		acquire(c1, sid1, "a", a);
		long tokenB = acquire(c1, sid1, "b", b).token();
		acquire(c1, sid1, "c", c);
		c1.handoffStreams(sid1, List.of("b"), List.of(new OwnershipRecord(tokenB, sid1, b)));
		long first = serverMillis();
		assertThat(c2.renew(sid2, 500, 0).join().status()).isEqualTo(LeaseStore.RenewalStatus.OK);
		c3.renew(sid3, 100, 7).join();
		lapse("c3");

		LeaseStore.Renewal renewal = c1.renew(sid1, 1000, 2).join();

		assertThat(renewal.status()).isEqualTo(LeaseStore.RenewalStatus.OK);
		// two owned, one released: the service's streams; the lapsed c3 is not listed
		assertThat(renewal.total()).isEqualTo(3);
		assertThat(renewal.loads()).containsOnlyKeys("c1", "c2");
		assertThat(renewal.loads().get("c1").capacity()).isEqualTo(1000);
		assertThat(renewal.loads().get("c1").held()).isEqualTo(2);
		assertThat(renewal.loads().get("c1").liveForMillis()).isZero();
		assertThat(renewal.loads().get("c2").capacity()).isEqualTo(500);
		assertThat(renewal.loads().get("c2").held()).isZero();
		assertThat(renewal.loads().get("c2").liveForMillis()).isBetween(0L, serverMillis() - first + 1);
		String stored = (String) redis.command("HGET", keys.loads(), "c1");
		assertThat(stored).startsWith(sid1 + ":1000:2:");
		assertThat(hash(keys.loads())).containsOnlyKeys("c1", "c2", "c3");
	}

	@Test
	void aConsumersLiveTimeCountsFromItsSessionsFirstRenewalAndStartsAgainWithANewSession() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		c1.renew(sid1, 10, 0).join();
		String since = ((String) redis.command("HGET", keys.loads(), "c1")).split(":")[3];
		redis.command("HSET", keys.loads(), "c1", sid1 + ":10:0:" + (Long.parseLong(since) - 5000));

		assertThat(c1.renew(sid1, 10, 4).join().loads().get("c1").liveForMillis()).isGreaterThanOrEqualTo(5000);

		// a new session of the id: a load of its earlier session is not listed, and the time starts again
		String sid2 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String peer = c2.register().sessionId();
		assertThat(c2.renew(peer, 10, 0).join().loads()).containsOnlyKeys("c2");
		LeaseStore.Renewal renewed = c1.renew(sid2, 10, 0).join();
		assertThat(renewed.loads().get("c1").liveForMillis()).isLessThan(5000);
		assertThat((String) redis.command("HGET", keys.loads(), "c1")).startsWith(sid2 + ":10:0:");
	}

	@Test
	void aSessionWhoseDeadlinePassedIsLapsedAndNotRenewed() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		lapse("c1");

		assertThat(store.renew(sid).join().status()).isEqualTo(LeaseStore.RenewalStatus.LAPSED);
		assertThat(deadline("c1")).isZero();
		assertThat(store.renew(sid).join().live()).isEmpty();
	}

	@Test
	void aSessionEndedOnTheServerIsLapsed() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		store.handoffSession(sid);

		assertThat(store.renew(sid).join().status()).isEqualTo(LeaseStore.RenewalStatus.LAPSED);
		assertThat(redis.command("ZSCORE", keys.consumers(), "c1")).isNull();
		assertThat(redis.command("EXISTS", keys.session("c1"))).isEqualTo(0L);
	}

	@Test
	void anIdRegisteredByAnotherInstanceIsTaken() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		lapse("c1");
		String other = store("c1", "other-nonce").register().sessionId();

		assertThat(store.renew(sid).join().status()).isEqualTo(LeaseStore.RenewalStatus.TAKEN);
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isEqualTo(other);
		assertThat(redis.command("GET", keys.session("c1"))).isEqualTo(other);
	}

	// ---- acquire.lua

	@Test
	void readModeAcquiresWithANewTokenAndRecordsTheOwnership() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long before = serverMillis();

		LeaseStore.Acquisition acquired = acquire(store, sid, "s", id);

		assertThat(acquired.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(acquired.token()).isGreaterThanOrEqualTo(before * 1024);
		assertThat(acquired.lbsId()).isEqualTo(id);
		assertThat(acquired.recovered()).isFalse();
		assertThat(acquired.holder()).isEqualTo("c1");
		assertThat(acquired.checkpoint()).isEqualTo(Checkpoint.NONE);
		assertThat(acquired.fields()).isEmpty();
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(acquired.token() + ":" + sid + ":" + id);
		assertThat(redis.command("GET", keys.fencing())).isEqualTo(Long.toString(acquired.token()));
		assertThat(pendingConsumer(id)).isEqualTo("c1");
	}

	@Test
	void aRetryOfTheSameEntryBySameSessionIsOwnedUnderTheSameToken() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		checkpoint(store, sid, "s", token, id, "0-7", Map.of("k", "v"));

		LeaseStore.Acquisition again = acquire(store, sid, "s", id);

		assertThat(again.status()).isEqualTo(LeaseStore.AcquisitionStatus.OWNED);
		assertThat(again.token()).isEqualTo(token);
		assertThat(again.checkpoint().position()).isEqualTo("0-7");
		assertThat(again.checkpoint().state()).containsExactly(Map.entry("k", "v"));
		assertThat(redis.command("GET", keys.fencing())).isEqualTo(Long.toString(token));
	}

	@Test
	void aSecondEntryOfAHeldStreamIsADuplicateRecordedAsAResubmissionAndRemovedFromTheLbs() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String first = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", first).token();
		String second = submit("s", "{\"round\":2}");
		read("c2");

		LeaseStore.Acquisition duplicate = acquire(c2, sid2, "s", second);

		assertThat(duplicate.status()).isEqualTo(LeaseStore.AcquisitionStatus.DUPLICATE);
		assertThat(duplicate.holder()).isEqualTo("c1");
		assertThat(duplicate.token()).isEqualTo(token);
		assertThat(redis.command("HGET", keys.resubmits(), "s")).isEqualTo(payload("s", "{\"round\":2}"));
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(1L);
		assertThat(pendingIds()).containsExactly(first);
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(token + ":" + sid1 + ":" + first);
	}

	@Test
	void aDuplicateReadByTheHolderItselfIsADuplicateToo() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String first = submit("s");
		read("c1");
		acquire(store, sid, "s", first);
		String second = submit("s");
		read("c1");

		assertThat(acquire(store, sid, "s", second).status()).isEqualTo(LeaseStore.AcquisitionStatus.DUPLICATE);
		assertThat(pendingIds()).containsExactly(first);
		assertThat(redis.command("HEXISTS", keys.resubmits(), "s")).isEqualTo(1L);
	}

	@Test
	void readModeFindsTheSameEntryHeldByAnotherLiveSession() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", id).token();

		LeaseStore.Acquisition held = acquire(c2, sid2, "s", id);

		assertThat(held.status()).isEqualTo(LeaseStore.AcquisitionStatus.HELD);
		assertThat(held.holder()).isEqualTo("c1");
		assertThat(held.token()).isEqualTo(token);
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(token + ":" + sid1 + ":" + id);
	}

	@Test
	void aNewEntryOfAStreamWhoseOwnerLapsedSupersedesTheOldEntry() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String old = submit("s");
		read("c1");
		long oldToken = acquire(c1, sid1, "s", old).token();
		checkpoint(c1, sid1, "s", oldToken, old, "0-3", Map.of());
		lapse("c1");
		String newer = submit("s");
		read("c2");

		LeaseStore.Acquisition acquired = acquire(c2, sid2, "s", newer);

		assertThat(acquired.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(acquired.recovered()).isTrue();
		assertThat(acquired.token()).isGreaterThan(oldToken);
		assertThat(acquired.checkpoint().position()).isEqualTo("0-3");
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(acquired.token() + ":" + sid2 + ":" + newer);
		assertThat(entryExists(old)).isFalse();
		assertThat(pendingIds()).containsExactly(newer);
	}

	@Test
	void aCallerWhoseSessionIsNotLiveChangesNothing() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		lapse("c1");

		LeaseStore.Acquisitions reply = store.acquire(sid, List.of(new LeaseStore.Request("s", id)), false).join();

		assertThat(reply.notLive()).isTrue();
		assertThat(reply.acquisitions()).isEmpty();
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
		assertThat(redis.command("EXISTS", keys.fencing())).isEqualTo(0L);
		assertThat(pendingIds()).containsExactly(id);
		assertThat(store.acquire("99", List.of(new LeaseStore.Request("s", id)), false).join().notLive()).isTrue();
	}

	@Test
	void claimModeTakesAStreamOfALapsedSessionAndItsEntry() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s", "{\"tenant\":\"acme\"}");
		read("c1");
		long oldToken = acquire(c1, sid1, "s", id).token();
		checkpoint(c1, sid1, "s", oldToken, id, "0-5", Map.of("sum", "9"));
		redis.command("PEXPIRE", keys.checkpoint("s"), "60000");

		LeaseStore.Acquisition held = claim(c2, sid2, "s", "");
		assertThat(held.status()).isEqualTo(LeaseStore.AcquisitionStatus.HELD);
		assertThat(held.holder()).isEqualTo("c1");
		assertThat(held.lbsId()).isEqualTo(id);
		assertThat(pendingConsumer(id)).isEqualTo("c1");

		lapse("c1");
		LeaseStore.Acquisition claimed = claim(c2, sid2, "s", "");

		assertThat(claimed.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(claimed.recovered()).isTrue();
		assertThat(claimed.lbsId()).isEqualTo(id);
		assertThat(claimed.token()).isGreaterThan(oldToken);
		assertThat(claimed.holder()).isEqualTo("c2");
		assertThat(claimed.checkpoint().position()).isEqualTo("0-5");
		assertThat(claimed.checkpoint().state()).containsExactly(Map.entry("sum", "9"));
		assertThat(claimed.checkpoint().fencingToken()).isEqualTo(oldToken);
		assertThat(claimed.fields()).containsExactly(Map.entry("lbs-input", payload("s", "{\"tenant\":\"acme\"}")));
		assertThat(pendingConsumer(id)).isEqualTo("c2");
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(claimed.token() + ":" + sid2 + ":" + id);
		assertThat(redis.command("PTTL", keys.checkpoint("s"))).isEqualTo(-1L);
	}

	@Test
	void claimModeTakesBackAStreamOfTheCallersOwnSessionUnderANewToken() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();

		LeaseStore.Acquisition again = claim(store, sid, "s", "");

		assertThat(again.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(again.token()).isGreaterThan(token);
		assertThat(again.recovered()).isTrue();
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(again.token() + ":" + sid + ":" + id);
	}

	@Test
	void claimModeTakesTheEntryOfAStreamHandedOffAlone() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", id).token();
		c1.handoffStreams(sid1, List.of("s"), List.of(new OwnershipRecord(token, sid1, id)));

		LeaseStore.Acquisition claimed = claim(c2, sid2, "s", "");

		assertThat(claimed.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(claimed.lbsId()).isEqualTo(id);
		assertThat(redis.command("HLEN", keys.released())).isEqualTo(0L);
		assertThat(pendingConsumer(id)).isEqualTo("c2");
	}

	@Test
	void claimModeFindsNothingToClaimWhenTheEntryIsFinishedOrGone() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();

		// no record, nothing released
		LeaseStore.Acquisition unknown = claim(c2, sid2, "unknown", "");
		assertThat(unknown.status()).isEqualTo(LeaseStore.AcquisitionStatus.GONE);
		assertThat(unknown.token()).isZero();
		assertThat(unknown.lbsId()).isEmpty();

		// a record of a lapsed session whose entry is no longer pending
		String acked = submit("acked");
		String deleted = submit("deleted");
		read("c1");
		acquire(c1, sid1, "acked", acked);
		acquire(c1, sid1, "deleted", deleted);
		redis.command("XACK", keys.lbs(), keys.group(), acked);
		redis.command("XDEL", keys.lbs(), deleted);
		lapse("c1");

		assertThat(claim(c2, sid2, "acked", "").status()).isEqualTo(LeaseStore.AcquisitionStatus.GONE);
		assertThat(claim(c2, sid2, "deleted", "").status()).isEqualTo(LeaseStore.AcquisitionStatus.GONE);
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
		// the deleted entry was still pending: it is acknowledged
		assertThat(pendingIds()).isEmpty();
	}

	@Test
	void fencingTokensStrictlyIncreaseAndAreAtLeastTheServerTimeInMillisTimes1024() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			ids.add(submit("s" + i));
		}
		read("c1");
		long last = 0;
		for (int i = 0; i < 20; i++) {
			long before = serverMillis();
			long token = acquire(store, sid, "s" + i, ids.get(i)).token();
			assertThat(token).isGreaterThan(last).isGreaterThanOrEqualTo(before * 1024);
			last = token;
		}
		// several tokens in one call (one millisecond): one apart
		List<LeaseStore.Request> requests = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			requests.add(new LeaseStore.Request("s" + i, ""));
		}
		List<Long> batch = store.acquire(sid, requests, true).join().acquisitions().stream()
			.map(LeaseStore.Acquisition::token).toList();
		assertThat(batch.get(0)).isGreaterThan(last);
		for (int i = 1; i < batch.size(); i++) {
			assertThat(batch.get(i)).isEqualTo(batch.get(i - 1) + 1);
		}
		// a counter ahead of the clock (a failover to a replica with a later clock, say) goes on from its value
		long ahead = (serverMillis() + 3_600_000) * 1024;
		redis.command("SET", keys.fencing(), Long.toString(ahead));
		assertThat(claim(store, sid, "s7", "").token()).isEqualTo(ahead + 1);
		// a lost counter starts again from the clock floor
		redis.command("DEL", keys.fencing());
		long before = serverMillis();
		assertThat(claim(store, sid, "s8", "").token()).isGreaterThanOrEqualTo(before * 1024);
	}

	// ---- claim-pending.lua

	@Test
	void takesOnlyTheStreamsOfSessionsThatAreNotLive() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String a = submit("a");
		String b = submit("b");
		read("c1");
		long tokenA = acquire(c1, sid1, "a", a).token();
		acquire(c1, sid1, "b", b);
		checkpoint(c1, sid1, "a", tokenA, a, "0-1", Map.of("x", "1"));
		String c = submit("c");
		read("c2");
		long tokenC = acquire(c2, sid2, "c", c).token();
		lapse("c1");

		LeaseStore.Takeover takeover = c3.claimPending(sid3, "", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.notLive()).isFalse();
		assertThat(takeover.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("a", "b");
		assertThat(takeover.taken().get(0).token()).isGreaterThan(tokenA);
		assertThat(takeover.taken().get(0).lbsId()).isEqualTo(a);
		assertThat(takeover.taken().get(0).recovered()).isTrue();
		assertThat(takeover.taken().get(0).checkpoint().position()).isEqualTo("0-1");
		// the usual lbs-input, with an empty Info, comes back as no fields (an empty Info)
		assertThat(takeover.taken().get(0).fields()).isEmpty();
		assertThat(takeover.examined()).isEqualTo(3);
		assertThat(takeover.last()).isEqualTo(c);
		assertThat(takeover.malformed()).isEmpty();
		assertThat(redis.command("HGET", keys.owners(), "a")).isEqualTo(takeover.taken().get(0).token() + ":" + sid3 + ":" + a);
		assertThat(redis.command("HGET", keys.owners(), "c")).isEqualTo(tokenC + ":" + sid2 + ":" + c);
		// ownership is the record: the entries stay pending for c1 until c3 adopts them
		assertThat(pendingConsumer(a)).isEqualTo("c1");
		assertThat(pendingConsumer(b)).isEqualTo("c1");
		assertThat(pendingConsumer(c)).isEqualTo("c2");

		assertThat(c3.adopt(sid3, records(takeover, sid3))).isEqualTo(2);

		assertThat(pendingConsumer(a)).isEqualTo("c3");
		assertThat(pendingConsumer(b)).isEqualTo("c3");
		assertThat(pendingConsumer(c)).isEqualTo("c2");
	}

	@Test
	void aTakeoverReturnsTheEntryOfAStreamWithInfoWholeAndItsNameAsDecoded() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String withInfo = submit("with-info", "{\"tenant\":\"t1\"}");
		// a name written with an escape ("caf\u00e9") is not read off the start of lbs-input but decoded
		String escapedPayload = "{\"DataStreamName\":\"caf\\u00e9\",\"Info\":{}}";
		String escaped = (String) redis.command("XADD", this.keys.lbs(), "*", "lbs-input", escapedPayload);
		read("c1");
		acquire(c1, sid1, "with-info", withInfo);
		acquire(c1, sid1, "caf\u00e9", escaped);
		lapse("c1");

		LeaseStore.Takeover takeover = c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("with-info", "caf\u00e9");
		assertThat(takeover.taken().get(0).fields()).containsEntry("lbs-input", payload("with-info", "{\"tenant\":\"t1\"}"));
		assertThat(LbsEntry.infoOf(takeover.taken().get(0).fields().get("lbs-input")))
			.containsEntry("tenant", "t1");
		assertThat(takeover.taken().get(1).fields()).containsEntry("lbs-input", escapedPayload);
		assertThat(LbsEntry.infoOf(escapedPayload)).isEmpty();
		assertThat(redis.command("HGET", keys.owners(), "caf\u00e9")).asString().startsWith(takeover.taken().get(1).token() + ":");
	}

	@Test
	void aStreamTakenOverAndNotAdoptedIsReportedToItsOwnerWhoeverExaminesIt() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String id = submit("s");
		read("c1");
		acquire(c1, sid1, "s", id);
		lapse("c1");
		LeaseStore.Takeover taken = c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 100, false);
		assertThat(taken.taken()).hasSize(1);

		// as when the reply was lost: c2's session owns s, its entry is still pending for c1
		LeaseStore.Takeover again = c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 100, false);
		assertThat(again.taken()).isEmpty();
		assertThat(again.own()).containsExactly(new LeaseStore.Request("s", id));
		assertThat(c3.claimPending(sid3, "c1", Duration.ZERO, "-", 100, 100, false).own()).isEmpty();

		// adopted: pending for c2 and no longer reported unless asked
		assertThat(c2.adopt(sid2, records(taken, sid2))).isEqualTo(1);
		assertThat(c2.claimPending(sid2, "c2", Duration.ZERO, "-", 100, 100, false).own()).isEmpty();
		assertThat(c2.claimPending(sid2, "c2", Duration.ZERO, "-", 100, 100, true).own())
			.containsExactly(new LeaseStore.Request("s", id));
	}

	@Test
	void adoptMovesOnlyEntriesWhoseRecordIsStillTheCallersAndNothingWhenItsSessionIsNotLive() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String a = submit("a");
		String b = submit("b");
		read("c1");
		acquire(c1, sid1, "a", a);
		acquire(c1, sid1, "b", b);
		lapse("c1");
		LeaseStore.Takeover taken = c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 100, false);
		Map<String, OwnershipRecord> records = records(taken, sid2);
		// b's record changed since (taken again under another token): its entry is not moved
		redis.command("HSET", keys.owners(), "b", (records.get("b").token() + 5) + ":" + sid2 + ":" + b);

		assertThat(c2.adopt(sid2, records)).isEqualTo(1);
		assertThat(pendingConsumer(a)).isEqualTo("c2");
		assertThat(pendingConsumer(b)).isEqualTo("c1");

		lapse("c2");
		assertThat(c2.adopt(sid2, Map.of("b", new OwnershipRecord(records.get("b").token() + 5, sid2, b)))).isEqualTo(-1);
		assertThat(pendingConsumer(b)).isEqualTo("c1");
	}

	@Test
	void takesAtMostTheRoomPerCallAndPagesWithTheCursor() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			ids.add(submit("s" + i));
		}
		read("c1");
		for (int i = 0; i < 5; i++) {
			acquire(c1, sid1, "s" + i, ids.get(i));
		}
		lapse("c1");
		long lastToken = Long.parseLong((String) redis.command("GET", keys.fencing()));
		long before = serverMillis();

		LeaseStore.Takeover first = c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 2, false);
		assertThat(first.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("s0", "s1");
		assertThat(first.examined()).isEqualTo(2);
		assertThat(first.last()).isEqualTo(ids.get(1));
		long token = first.taken().get(0).token();
		assertThat(token).isGreaterThan(lastToken).isGreaterThanOrEqualTo(before * 1024);
		assertThat(first.taken().get(1).token()).isEqualTo(token + 1);
		assertThat(redis.command("GET", keys.fencing())).isEqualTo(Long.toString(token + 1));
		assertThat(pendingIds("c2")).isEmpty();

		LeaseStore.Takeover second = c2.claimPending(sid2, "c1", Duration.ZERO, first.last(), 100, 2, false);
		assertThat(second.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("s2", "s3");

		LeaseStore.Takeover none = c2.claimPending(sid2, "c1", Duration.ZERO, second.last(), 100, 0, false);
		assertThat(none.taken()).isEmpty();
		assertThat(none.examined()).isZero();
		assertThat(none.last()).isEqualTo(second.last());

		LeaseStore.Takeover examinedOne = c2.claimPending(sid2, "c1", Duration.ZERO, second.last(), 1, 100, false);
		assertThat(examinedOne.taken()).extracting(LeaseStore.Acquisition::stream).containsExactly("s4");
		assertThat(examinedOne.examined()).isEqualTo(1);

		Map<String, OwnershipRecord> records = new LinkedHashMap<>();
		for (LeaseStore.Takeover takeover : List.of(first, second, examinedOne)) {
			records.putAll(records(takeover, sid2));
		}
		assertThat(c2.adopt(sid2, records)).isEqualTo(5);
		assertThat(pendingIds("c1")).isEmpty();
		assertThat(pendingIds("c2")).containsExactlyElementsOf(ids);
	}

	@Test
	void aPageOfTenThousandStreamsIsTakenInOneCall() {
		// lbs-recovery-count allows 10,000 per call: the per-page HMGET, HSET and HDEL must not unpack 20,000 values
		// at once (Lua fails beyond about 8,000), or no takeover of that size ever succeeds
		int n = 10_000;
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		redis.command("EVAL", "for i = 1, tonumber(ARGV[1]) do redis.call('XADD', KEYS[1], '*', 'lbs-input', "
				+ "'{\"DataStreamName\":\"big-' .. i .. '\",\"Info\":{}}') end", "1", keys.lbs(), Integer.toString(n));
		redis.command("XREADGROUP", "GROUP", keys.group(), "c1", "COUNT", Integer.toString(n), "STREAMS", keys.lbs(), ">");
		List<LeaseStore.Request> requests = new ArrayList<>();
		for (Object entry : (List<?>) redis.command("XRANGE", keys.lbs(), "-", "+")) {
			String id = (String) ((List<?>) entry).get(0);
			requests.add(new LeaseStore.Request("big-" + (requests.size() + 1), id));
		}
		for (int from = 0; from < n; from += 1000) {
			c1.acquire(sid1, requests.subList(from, from + 1000), false).join();
		}
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo((long) n);
		// a stream handed off alone elsewhere: the takeover then clears what it takes from the released hash too
		redis.command("HSET", keys.released(), "elsewhere", "0-1");
		lapse("c1");

		LeaseStore.Takeover takeover = c2.claimPending(sid2, "c1", Duration.ZERO, "-", n, n, false);

		assertThat(takeover.notLive()).isFalse();
		assertThat(takeover.taken()).hasSize(n);
		assertThat(takeover.examined()).isEqualTo(n);
		Map<String, String> owners = hash(keys.owners());
		for (LeaseStore.Acquisition acquisition : takeover.taken()) {
			assertThat(owners.get(acquisition.stream()))
				.isEqualTo(new OwnershipRecord(acquisition.token(), sid2, acquisition.lbsId()).value());
		}
		assertThat(redis.command("HLEN", keys.released())).isEqualTo(1L);
	}

	@Test
	void aCheckpointWithTenThousandStateEntriesIsWrittenWhole() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		String id = submit("s");
		read("c1");
		LeaseStore.Acquisition acquired = acquire(c1, sid1, "s", id);
		Map<String, String> state = new LinkedHashMap<>();
		for (int i = 0; i < 10_000; i++) {
			state.put("k" + i, "v" + i);
		}

		checkpoint(c1, sid1, "s", acquired.token(), id, "0-9", state);

		assertThat(redis.command("HLEN", keys.checkpoint("s"))).isEqualTo(10_002L);
		assertThat(redis.command("HGET", keys.checkpoint("s"), "state:k9999")).isEqualTo("v9999");
	}

	@Test
	void returnsMalformedEntriesForTheCallerAndAcknowledgesEntriesThatNoLongerExist() {
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String noField = (String) redis.command("XADD", keys.lbs(), "*", "other", "x");
		String badJson = (String) redis.command("XADD", keys.lbs(), "*", "lbs-input", "{not json");
		String blankName = (String) redis.command("XADD", keys.lbs(), "*", "lbs-input", "{\"DataStreamName\":\"\"}");
		String ghost = submit("ghost");
		read("dead");
		redis.command("XDEL", keys.lbs(), ghost);

		LeaseStore.Takeover takeover = c2.claimPending(sid2, "dead", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.taken()).isEmpty();
		assertThat(takeover.examined()).isEqualTo(4);
		assertThat(takeover.malformed()).extracting(LeaseStore.Pending::id).containsExactly(noField, badJson, blankName);
		assertThat(takeover.malformed().get(0).fields()).containsExactly(Map.entry("other", "x"));
		assertThat(takeover.malformed().get(1).fields()).containsExactly(Map.entry("lbs-input", "{not json"));
		// malformed entries stay pending until the caller dead-letters them; the ghost is acknowledged
		assertThat(pendingIds()).containsExactly(noField, badJson, blankName);
	}

	/**
	 * The takeover and the LBS reader agree on what is malformed: an entry that is not valid JSON after a well-formed
	 * name is dead-lettered by the reader, so the takeover must not take it as that stream.
	 */
	@Test
	void anEntryWhoseJsonBreaksAfterTheNameIsMalformed() {
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String broken = (String) redis.command("XADD", keys.lbs(), "*", "lbs-input", "{\"DataStreamName\":\"s\", oops");
		read("dead");
		assertThat(LbsEntry.parse(broken, Map.of("lbs-input", "{\"DataStreamName\":\"s\", oops"), 1000).valid()).isFalse();

		LeaseStore.Takeover takeover = c2.claimPending(sid2, "dead", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.taken()).isEmpty();
		assertThat(takeover.malformed()).extracting(LeaseStore.Pending::id).containsExactly(broken);
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
	}

	@Test
	void reportsTheEntriesOfStreamsTheCallersOwnSessionOwns() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();

		LeaseStore.Takeover reported = store.claimPending(sid, "c1", Duration.ZERO, "-", 100, 100, true);
		assertThat(reported.taken()).isEmpty();
		assertThat(reported.own()).containsExactly(new LeaseStore.Request("s", id));

		LeaseStore.Takeover unreported = store.claimPending(sid, "c1", Duration.ZERO, "-", 100, 100, false);
		assertThat(unreported.own()).isEmpty();
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(token + ":" + sid + ":" + id);
	}

	@Test
	void leavesEntriesAloneThatAreNotIdleLongEnough() {
		LeaseStore c1 = store("c1");
		c1.register();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s");
		read("dead");

		LeaseStore.Takeover takeover = c2.claimPending(sid2, "", Duration.ofMinutes(1), "-", 100, 100, false);

		assertThat(takeover.examined()).isZero();
		assertThat(pendingConsumer(id)).isEqualTo("dead");
	}

	@Test
	void aPendingEntryOlderThanTheEntryALiveSessionOwnsIsSupersededAndDeleted() {
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String older = submit("s");
		read("dead");
		String newer = submit("s");
		read("c2");
		long token = acquire(c2, sid2, "s", newer).token();

		LeaseStore.Takeover takeover = c3.claimPending(sid3, "dead", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.taken()).isEmpty();
		assertThat(entryExists(older)).isFalse();
		assertThat(pendingIds()).containsExactly(newer);
		assertThat(redis.command("HLEN", keys.resubmits())).isEqualTo(0L);
		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(token + ":" + sid2 + ":" + newer);
	}

	@Test
	void aPendingEntrySupersedesTheEntryOfALapsedRecord() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String recorded = submit("s");
		read("c1");
		acquire(c1, sid1, "s", recorded);
		String other = submit("s");
		read("dead");
		lapse("c1");

		LeaseStore.Takeover takeover = c3.claimPending(sid3, "dead", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.taken()).extracting(LeaseStore.Acquisition::lbsId).containsExactly(other);
		assertThat(entryExists(recorded)).isFalse();
		assertThat(pendingIds()).containsExactly(other);
		assertThat(pendingConsumer(other)).isEqualTo("dead");
		assertThat(c3.adopt(sid3, records(takeover, sid3))).isEqualTo(1);
		assertThat(pendingConsumer(other)).isEqualTo("c3");
	}

	/**
	 * A consumer read a second entry of a stream that a live session owns and died before acquire.lua could record it
	 * as a duplicate: the takeover of its entries records it as a resubmission, as the read path would, so that one
	 * more run follows the current one.
	 */
	@Test
	void aNewerPendingEntryOfAStreamALiveSessionOwnsBecomesAResubmission() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c3 = store("c3");
		String sid3 = c3.register().sessionId();
		String first = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", first).token();
		String second = submit("s", "{\"round\":2}");
		read("dead");

		c3.claimPending(sid3, "dead", Duration.ZERO, "-", 100, 100, false);

		assertThat(pendingIds()).containsExactly(first);
		assertThat(redis.command("HGET", keys.resubmits(), "s"))
			.as("the newer entry %s must become a resubmission, not vanish", second)
			.isEqualTo(payload("s", "{\"round\":2}"));
		assertThat(c1.finish("s", new OwnershipRecord(token, sid1, first), Duration.ZERO).status())
			.isEqualTo(LeaseStore.FinishStatus.RESUBMITTED);
	}

	@Test
	void aCallerWhoseSessionIsNotLiveTakesNothing() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		String id = submit("s");
		read("dead");
		lapse("c1");

		LeaseStore.Takeover takeover = c1.claimPending(sid1, "", Duration.ZERO, "-", 100, 100, false);

		assertThat(takeover.notLive()).isTrue();
		assertThat(pendingConsumer(id)).isEqualTo("dead");
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
	}

	// ---- finish.lua

	@Test
	void doneDeletesTheRecordAndTheEntryAndKeepsTheCheckpointForTheRetention() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		checkpoint(store, sid, "s", token, id, "0-9", Map.of("sum", "3"));

		LeaseStore.Finish finish = store.finish("s", new OwnershipRecord(token, sid, id), Duration.ofMinutes(5));

		assertThat(finish.status()).isEqualTo(LeaseStore.FinishStatus.DONE);
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(0L);
		assertThat(pendingIds()).isEmpty();
		assertThat((Long) redis.command("PTTL", keys.checkpoint("s"))).isBetween(1L, 300_000L);
		assertThat(redis.command("HGET", keys.checkpoint("s"), "position")).isEqualTo("0-9");

		// a repeat after a lost reply
		assertThat(store.finish("s", new OwnershipRecord(token, sid, id), Duration.ofMinutes(5)).status())
			.isEqualTo(LeaseStore.FinishStatus.FINISHED);
	}

	@Test
	void doneWithoutRetentionDeletesTheCheckpoint() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		checkpoint(store, sid, "s", token, id, "0-9", Map.of());

		assertThat(store.finish("s", new OwnershipRecord(token, sid, id), Duration.ZERO).status())
			.isEqualTo(LeaseStore.FinishStatus.DONE);
		assertThat(redis.command("EXISTS", keys.checkpoint("s"))).isEqualTo(0L);
	}

	@Test
	void aResubmissionIsAnnouncedAgainWithTheCheckpointKeptWithoutItsAttempts() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", id).token();
		checkpoint(c1, sid1, "s", token, id, "0-4", Map.of("k", "v"));
		c1.countAttempt("s", new OwnershipRecord(token, sid1, id));
		String duplicate = submit("s", "{\"round\":2}");
		read("c1");
		acquire(c1, sid1, "s", duplicate);

		LeaseStore.Finish finish = c1.finish("s", new OwnershipRecord(token, sid1, id), Duration.ofMinutes(5));

		assertThat(finish.status()).isEqualTo(LeaseStore.FinishStatus.RESUBMITTED);
		String again = finish.detail();
		assertThat(entryIds()).containsExactly(again);
		assertThat(entryFields(again)).containsExactly(Map.entry("lbs-input", payload("s", "{\"round\":2}")));
		assertThat(redis.command("HLEN", keys.resubmits())).isEqualTo(0L);
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
		assertThat(hash(keys.checkpoint("s"))).containsOnlyKeys("position", "token", "state:k");
		assertThat(redis.command("PTTL", keys.checkpoint("s"))).isEqualTo(-1L);
	}

	@Test
	void aCallerThatDoesNotOwnTheStreamChangesNothing() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", id).token();
		String record = token + ":" + sid1 + ":" + id;

		LeaseStore.Finish staleToken = c1.finish("s", new OwnershipRecord(token - 1, sid1, id), Duration.ZERO);
		assertThat(staleToken.status()).isEqualTo(LeaseStore.FinishStatus.NOT_OWNER);
		assertThat(staleToken.detail()).isEqualTo(record);

		LeaseStore.Finish otherConsumer = c2.finish("s", new OwnershipRecord(token, sid1, id), Duration.ZERO);
		assertThat(otherConsumer.status()).isEqualTo(LeaseStore.FinishStatus.NOT_OWNER);

		lapse("c1");
		long newToken = claim(c2, sid2, "s", "").token();
		LeaseStore.Finish taken = c1.finish("s", new OwnershipRecord(token, sid1, id), Duration.ZERO);
		assertThat(taken.status()).isEqualTo(LeaseStore.FinishStatus.NOT_OWNER);
		assertThat(taken.detail()).isEqualTo(newToken + ":" + sid2 + ":" + id);
		assertThat(pendingIds()).containsExactly(id);
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(1L);
	}

	// ---- a lapsed session: every fenced script refuses

	@Test
	void whenTheSessionLapsesEveryFencedScriptRefusesAndChangesNothing() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		OwnershipRecord record = new OwnershipRecord(token, sid, id);
		checkpoint(store, sid, "s", token, id, "0-1", Map.of("k", "v"));
		store.countAttempt("s", record);
		Map<String, String> checkpoint = hash(keys.checkpoint("s"));

		lapse("c1");

		assertThat(store.finish("s", record, Duration.ZERO))
			.isEqualTo(new LeaseStore.Finish(LeaseStore.FinishStatus.NOT_OWNER, record.value()));
		assertThat(store.checkpoint("s", record, "0-2", Map.of("k", "w")))
			.isEqualTo(new LeaseStore.Fenced(false, record.value()));
		assertThat(store.countAttempt("s", record)).isEqualTo(new LeaseStore.Fenced(false, record.value()));
		assertThat(store.deadLetter(id, "s", record, Map.of("dead-letter.reason", "handler-failed"), 100))
			.isEqualTo(new LeaseStore.Fenced(false, record.value()));
		assertThat(store.acquire(sid, List.of(new LeaseStore.Request("s", "")), true).join().notLive()).isTrue();
		assertThat(store.claimPending(sid, "c1", Duration.ZERO, "-", 10, 10, true).notLive()).isTrue();
		assertThat(store.renew(sid).join().status()).isEqualTo(LeaseStore.RenewalStatus.LAPSED);

		assertThat(redis.command("HGET", keys.owners(), "s")).isEqualTo(record.value());
		assertThat(hash(keys.checkpoint("s"))).isEqualTo(checkpoint);
		assertThat(pendingConsumer(id)).isEqualTo("c1");
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(1L);
		assertThat(redis.command("EXISTS", keys.deadLetters())).isEqualTo(0L);
	}

	// ---- checkpoint.lua and attempt.lua

	@Test
	void aCheckpointReplacesTheStateAndKeepsTheAttemptsWhileThePositionStays() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		OwnershipRecord record = new OwnershipRecord(token, sid, id);

		assertThat(store.checkpoint("s", record, "0-1", Map.of("a", "1", "b", "2")).owned()).isTrue();
		assertThat(hash(keys.checkpoint("s"))).isEqualTo(Map.of("position", "0-1", "token", Long.toString(token),
				"state:a", "1", "state:b", "2"));

		assertThat(store.countAttempt("s", record)).isEqualTo(new LeaseStore.Fenced(true, "1"));
		assertThat(store.countAttempt("s", record)).isEqualTo(new LeaseStore.Fenced(true, "2"));
		assertThat(store.checkpoint("s", record, "0-1", Map.of("c", "3")).owned()).isTrue();
		assertThat(hash(keys.checkpoint("s"))).isEqualTo(Map.of("position", "0-1", "token", Long.toString(token),
				"attempts", "2", "state:c", "3"));

		assertThat(store.checkpoint("s", record, "0-2", Map.of()).owned()).isTrue();
		assertThat(hash(keys.checkpoint("s"))).isEqualTo(Map.of("position", "0-2", "token", Long.toString(token)));
		assertThat(store.countAttempt("s", record)).isEqualTo(new LeaseStore.Fenced(true, "1"));
	}

	@Test
	void aCheckpointOrAnAttemptOfAStreamOwnedByAnotherRecordIsRefused() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", id).token();
		OwnershipRecord stale = new OwnershipRecord(token, sid1, id);
		long newToken = claim(c1, sid1, "s", "").token();
		String current = newToken + ":" + sid1 + ":" + id;

		assertThat(c1.checkpoint("s", stale, "0-1", Map.of())).isEqualTo(new LeaseStore.Fenced(false, current));
		assertThat(c1.countAttempt("s", stale)).isEqualTo(new LeaseStore.Fenced(false, current));
		// the right record under another consumer's name
		assertThat(c2.countAttempt("s", new OwnershipRecord(newToken, sid1, id)).owned()).isFalse();
		assertThat(c2.checkpoint("s", new OwnershipRecord(newToken, sid2, id), "0-1", Map.of()).owned()).isFalse();
		assertThat(redis.command("EXISTS", keys.checkpoint("s"))).isEqualTo(0L);
		// no record at all
		assertThat(c1.countAttempt("gone", stale)).isEqualTo(new LeaseStore.Fenced(false, ""));
	}

	// ---- dead-letter.lua

	@Test
	void aMalformedEntryIsMovedOnceEvenWhenTheCallIsRepeated() {
		LeaseStore store = store("c1");
		store.register();
		String id = (String) redis.command("XADD", keys.lbs(), "*", "lbs-input", "{not json");
		read("c1");
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("dead-letter.reason", "invalid-json");
		fields.put("dead-letter.lbs-id", id);
		fields.put("lbs-input", "{not json");

		LeaseStore.Fenced moved = store.deadLetter(id, "", null, fields, 100);

		assertThat(moved.owned()).isTrue();
		assertThat(moved.value()).isNotEmpty();
		assertThat(redis.command("XLEN", keys.deadLetters())).isEqualTo(1L);
		assertThat(deadLetterFields(moved.value())).isEqualTo(fields);
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(0L);
		assertThat(pendingIds()).isEmpty();

		// a repeat after a lost reply: nothing more
		assertThat(store.deadLetter(id, "", null, fields, 100)).isEqualTo(new LeaseStore.Fenced(true, ""));
		assertThat(redis.command("XLEN", keys.deadLetters())).isEqualTo(1L);
	}

	@Test
	void theFencedFormFinishesTheStreamWithItsCheckpointAndResubmission() {
		LeaseStore store = store("c1");
		String sid = store.register().sessionId();
		String id = submit("s");
		read("c1");
		long token = acquire(store, sid, "s", id).token();
		OwnershipRecord record = new OwnershipRecord(token, sid, id);
		checkpoint(store, sid, "s", token, id, "0-1", Map.of());
		String duplicate = submit("s");
		read("c1");
		acquire(store, sid, "s", duplicate);
		assertThat(redis.command("HEXISTS", keys.resubmits(), "s")).isEqualTo(1L);

		LeaseStore.Fenced moved = store.deadLetter(id, "s", record,
				Map.of("dead-letter.reason", "handler-failed", "dead-letter.stream", "s"), 100);

		assertThat(moved.owned()).isTrue();
		assertThat(deadLetterFields(moved.value())).containsEntry("dead-letter.stream", "s");
		assertThat(redis.command("HLEN", keys.owners())).isEqualTo(0L);
		assertThat(redis.command("EXISTS", keys.checkpoint("s"))).isEqualTo(0L);
		assertThat(redis.command("HLEN", keys.resubmits())).isEqualTo(0L);
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(0L);
		assertThat(pendingIds()).isEmpty();

		// a repeat after a lost reply finds no record: refused, and no second dead letter
		assertThat(store.deadLetter(id, "s", record, Map.of("dead-letter.reason", "handler-failed"), 100))
			.isEqualTo(new LeaseStore.Fenced(false, ""));
		assertThat(redis.command("XLEN", keys.deadLetters())).isEqualTo(1L);
	}

	@Test
	void theDeadLetterStreamIsCappedApproximately() {
		LeaseStore store = store("c1");
		store.register();
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < 250; i++) {
			ids.add((String) redis.command("XADD", keys.lbs(), "*", "bad", Integer.toString(i)));
		}
		read("c1");
		for (String id : ids) {
			store.deadLetter(id, "", null, Map.of("dead-letter.reason", "missing-field"), 100);
		}
		assertThat((Long) redis.command("XLEN", keys.deadLetters())).isBetween(100L, 249L);
		assertThat(redis.command("XLEN", keys.lbs())).isEqualTo(0L);
	}

	// ---- handoff.lua

	@Test
	void aSessionHandoffEndsTheSessionAndTellsPeersWhoTakeItsStreamsOver() throws InterruptedException {
		BlockingQueue<String> messages = subscribe();
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String a = submit("a");
		String b = submit("b");
		read("c1");
		long tokenA = acquire(c1, sid1, "a", a).token();
		acquire(c1, sid1, "b", b);

		assertThat(c1.handoffSession(sid1)).isEqualTo(1);

		JsonNode message = LbsEntry.JSON.readTree(messages.poll(5, TimeUnit.SECONDS));
		assertThat(message.path("consumer").asString()).isEqualTo("c1");
		assertThat(message.path("session").asString()).isEqualTo(sid1);
		assertThat(redis.command("HGET", keys.sessions(), "c1")).isNull();
		assertThat(redis.command("HGET", keys.sessionConsumers(), sid1)).isNull();
		assertThat(redis.command("HGET", keys.consumerInstances(), "c1")).isNull();
		assertThat(redis.command("ZSCORE", keys.consumers(), "c1")).isNull();
		assertThat(redis.command("EXISTS", keys.session("c1"))).isEqualTo(0L);
		// the records stay, naming a session that ended; the entries stay pending for c1
		assertThat(redis.command("HGET", keys.owners(), "a")).isEqualTo(tokenA + ":" + sid1 + ":" + a);
		assertThat(pendingIds("c1")).containsExactly(a, b);
		assertThat(c1.finish("a", new OwnershipRecord(tokenA, sid1, a), Duration.ZERO).status())
			.isEqualTo(LeaseStore.FinishStatus.NOT_OWNER);
		assertThat(c2.claimPending(sid2, "c1", Duration.ZERO, "-", 100, 100, false).taken())
			.extracting(LeaseStore.Acquisition::stream).containsExactly("a", "b");

		// a session that is not the current one: nothing
		assertThat(c1.handoffSession(sid1)).isZero();
	}

	@Test
	void aSessionHandoffRemovesTheConsumersLoad() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		c1.renew(sid1, 10, 0).join();
		assertThat(redis.command("HEXISTS", keys.loads(), "c1")).isEqualTo(1L);

		c1.handoffSession(sid1);

		assertThat(redis.command("HEXISTS", keys.loads(), "c1")).isEqualTo(0L);
	}

	@Test
	void aStreamsHandoffOfARebalanceNamesTheConsumerMeantToClaimThem() throws InterruptedException {
		BlockingQueue<String> messages = subscribe();
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		String a = submit("a");
		read("c1");
		long tokenA = acquire(c1, sid1, "a", a).token();

		assertThat(c1.handoffStreams(sid1, List.of("a"), List.of(new OwnershipRecord(tokenA, sid1, a)), "c2"))
			.isEqualTo(1);

		JsonNode message = LbsEntry.JSON.readTree(messages.poll(5, TimeUnit.SECONDS));
		assertThat(message.path("consumer").asString()).isEqualTo("c1");
		assertThat(message.path("target").asString()).isEqualTo("c2");
		assertThat(message.path("streams").path(0).path(0).asString()).isEqualTo("a");
		assertThat(hash(keys.released())).isEqualTo(Map.of("a", a));
		assertThat(redis.command("HEXISTS", keys.owners(), "a")).isEqualTo(0L);
	}

	@Test
	void aStreamsHandoffReleasesTheMatchingStreamsIntoTheReleasedHash() throws InterruptedException {
		BlockingQueue<String> messages = subscribe();
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		String a = submit("a");
		String b = submit("b");
		read("c1");
		long tokenA = acquire(c1, sid1, "a", a).token();
		long tokenB = acquire(c1, sid1, "b", b).token();

		assertThat(c1.handoffStreams(sid1, List.of("b"), List.of(new OwnershipRecord(tokenB - 1, sid1, b)))).isZero();
		assertThat(c1.handoffStreams("99", List.of("b"), List.of(new OwnershipRecord(tokenB, sid1, b)))).isZero();
		int released = c1.handoffStreams(sid1, List.of("a", "b"),
				List.of(new OwnershipRecord(tokenA, sid1, a), new OwnershipRecord(tokenB + 1, sid1, b)));

		assertThat(released).isEqualTo(1);
		// the refused calls published nothing: the first message is this one
		JsonNode message = LbsEntry.JSON.readTree(messages.poll(5, TimeUnit.SECONDS));
		assertThat(message.path("consumer").asString()).isEqualTo("c1");
		assertThat(message.path("streams").size()).isEqualTo(1);
		assertThat(message.has("target")).isFalse();
		assertThat(message.path("streams").path(0).path(0).asString()).isEqualTo("a");
		assertThat(message.path("streams").path(0).path(1).asString()).isEqualTo(a);
		assertThat(hash(keys.released())).isEqualTo(Map.of("a", a));
		assertThat(redis.command("HEXISTS", keys.owners(), "a")).isEqualTo(0L);
		assertThat(redis.command("HGET", keys.owners(), "b")).isEqualTo(tokenB + ":" + sid1 + ":" + b);
		assertThat(pendingIds("c1")).containsExactly(a, b);
		assertThat(c1.renew(sid1).join().status()).isEqualTo(LeaseStore.RenewalStatus.OK);
		assertThat(messages.poll()).isNull();
	}

	/**
	 * A stream handed off alone has no record, only its entry in the released hash. A new entry of that stream read
	 * before anyone claims it supersedes the released entry, as it does the entry of a lapsed owner
	 * ({@link #aNewEntryOfAStreamWhoseOwnerLapsedSupersedesTheOldEntry()}); otherwise the released entry would stay
	 * pending and a later takeover would start one more run from it.
	 */
	@Test
	void aNewEntryOfAStreamHandedOffAloneSupersedesTheReleasedEntry() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		LeaseStore c2 = store("c2");
		String sid2 = c2.register().sessionId();
		String old = submit("s");
		read("c1");
		long token = acquire(c1, sid1, "s", old).token();
		c1.handoffStreams(sid1, List.of("s"), List.of(new OwnershipRecord(token, sid1, old)));
		String newer = submit("s");
		read("c2");

		LeaseStore.Acquisition acquired = acquire(c2, sid2, "s", newer);

		assertThat(acquired.status()).isEqualTo(LeaseStore.AcquisitionStatus.ACQUIRED);
		assertThat(redis.command("HLEN", keys.released())).isEqualTo(0L);
		assertThat(pendingIds()).as("the released entry %s must be superseded", old).containsExactly(newer);
		assertThat(entryExists(old)).isFalse();
		assertThat(acquired.recovered()).isTrue();
	}

	// ---- sweep.lua

	@Test
	void aSweepListsTheLiveConsumersThePendingEntriesPerConsumerAndTheReleasedStreams() {
		LeaseStore c1 = store("c1");
		String sid1 = c1.register().sessionId();
		store("c2").register();
		store("c3").register();
		redis.command("ZADD", keys.consumers(), Long.toString(serverMillis() - 5_000), "c3");
		String a = submit("a");
		String b = submit("b");
		read("c1");
		submit("c");
		read("c3");
		long tokenA = acquire(c1, sid1, "a", a).token();
		acquire(c1, sid1, "b", b);
		c1.handoffStreams(sid1, List.of("a"), List.of(new OwnershipRecord(tokenA, sid1, a)));

		LeaseStore.Sweep sweep = c1.sweep(Duration.ofHours(1), 100);

		assertThat(sweep.live()).containsOnlyKeys("c1", "c2");
		assertThat(sweep.live().values()).allSatisfy((left) -> assertThat(left).isBetween(1L, TTL.toMillis()));
		assertThat(sweep.pendingByConsumer()).isEqualTo(Map.of("c1", 2L, "c3", 1L));
		assertThat(sweep.released()).isEqualTo(Map.of("a", a));
		// a lapse younger than the forget age is remembered
		assertThat(redis.command("HGET", keys.sessions(), "c3")).isNotNull();
	}

	@Test
	void aSweepForgetsSessionsThatLapsedLongAgoAndIdleGroupConsumersWithNothingPending() {
		LeaseStore c1 = store("c1");
		c1.register();
		String old = store("old").register().sessionId();
		String recent = store("recent").register().sessionId();
		store("old").renew(old, 10, 0).join();
		store("recent").renew(recent, 10, 0).join();
		long now = serverMillis();
		redis.command("ZADD", keys.consumers(), Long.toString(now - 120_000), "old");
		redis.command("ZADD", keys.consumers(), Long.toString(now - 1_000), "recent");
		redis.command("XGROUP", "CREATECONSUMER", keys.lbs(), keys.group(), "idle");
		redis.command("XGROUP", "CREATECONSUMER", keys.lbs(), keys.group(), "c1");
		submit("s");
		read("busy");

		c1.sweep(Duration.ofMinutes(1), 100);

		assertThat(redis.command("ZSCORE", keys.consumers(), "old")).isNull();
		assertThat(redis.command("HGET", keys.sessions(), "old")).isNull();
		assertThat(redis.command("HGET", keys.sessionConsumers(), old)).isNull();
		assertThat(redis.command("HGET", keys.consumerInstances(), "old")).isNull();
		assertThat(redis.command("HEXISTS", keys.loads(), "old")).isEqualTo(0L);
		assertThat(redis.command("HEXISTS", keys.loads(), "recent")).isEqualTo(1L);
		assertThat(redis.command("HGET", keys.sessions(), "recent")).isEqualTo(recent);
		assertThat(redis.command("HGET", keys.sessionConsumers(), recent)).isEqualTo("recent");
		// group consumers are removed only when idle longer than the forget age, not live and with nothing pending
		assertThat(groupConsumers()).containsExactlyInAnyOrder("idle", "busy", "c1");
		await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
			c1.sweep(Duration.ofMillis(20), 100);
			assertThat(groupConsumers()).containsExactlyInAnyOrder("busy", "c1");
		});
	}

	@Test
	void aSweepOfAServiceWithoutLbsOrGroupFindsNothing() {
		LeaseStore bare = new LeaseStore(client, EngineSettings.builder(this.service + "-bare", "c1").build(), "n");
		LeaseStore.Sweep sweep = bare.sweep(Duration.ofHours(1), 100);

		assertThat(sweep.live()).isEmpty();
		assertThat(sweep.pendingByConsumer()).isEmpty();
		assertThat(sweep.released()).isEmpty();
	}

	// ---- helpers

	/** A store for {@code consumer} with the nonce {@code nonce-<consumer>}. */
	LeaseStore store(String consumer) {
		return store(consumer, "nonce-" + consumer);
	}

	LeaseStore store(String consumer, String nonce) {
		return new LeaseStore(client, EngineSettings.builder(this.service, consumer).hbInterval(TTL).build(), nonce);
	}

	String submit(String stream) {
		return submit(stream, "{}");
	}

	String submit(String stream, String info) {
		return (String) redis.command("XADD", this.keys.lbs(), "*", "lbs-input", payload(stream, info));
	}

	static String payload(String stream, String info) {
		return "{\"DataStreamName\":\"" + stream + "\",\"Info\":" + info + "}";
	}

	/** XREADGROUP of every new entry for {@code consumer}. */
	void read(String consumer) {
		redis.command("XREADGROUP", "GROUP", this.keys.group(), consumer, "COUNT", "1000", "STREAMS", this.keys.lbs(), ">");
	}

	LeaseStore.Acquisition acquire(LeaseStore store, String sid, String stream, String lbsId) {
		return single(store.acquire(sid, List.of(new LeaseStore.Request(stream, lbsId)), false).join());
	}

	/** The ownership records of what a takeover took, as the taker holds them. */
	static Map<String, OwnershipRecord> records(LeaseStore.Takeover takeover, String sid) {
		Map<String, OwnershipRecord> records = new LinkedHashMap<>();
		for (LeaseStore.Acquisition acquisition : takeover.taken()) {
			records.put(acquisition.stream(), new OwnershipRecord(acquisition.token(), sid, acquisition.lbsId()));
		}
		return records;
	}

	LeaseStore.Acquisition claim(LeaseStore store, String sid, String stream, String lbsId) {
		return single(store.acquire(sid, List.of(new LeaseStore.Request(stream, lbsId)), true).join());
	}

	private static LeaseStore.Acquisition single(LeaseStore.Acquisitions reply) {
		assertThat(reply.notLive()).isFalse();
		assertThat(reply.acquisitions()).hasSize(1);
		return reply.acquisitions().get(0);
	}

	void checkpoint(LeaseStore store, String sid, String stream, long token, String lbsId, String position,
			Map<String, String> state) {
		assertThat(store.checkpoint(stream, new OwnershipRecord(token, sid, lbsId), position, state).owned()).isTrue();
	}

	/** Makes the consumer's session lapse: its deadline in the registry is set to 0. */
	void lapse(String consumer) {
		redis.command("ZADD", this.keys.consumers(), "0", consumer);
	}

	long deadline(String consumer) {
		return Long.parseLong((String) redis.command("ZSCORE", this.keys.consumers(), consumer));
	}

	static long serverMillis() {
		List<?> time = (List<?>) redis.command("TIME");
		return Long.parseLong((String) time.get(0)) * 1000 + Long.parseLong((String) time.get(1)) / 1000;
	}

	/** The ids of every entry pending in the group, in order. */
	List<String> pendingIds() {
		return pendingRows(null).stream().map((row) -> (String) row.get(0)).toList();
	}

	List<String> pendingIds(String consumer) {
		return pendingRows(consumer).stream().map((row) -> (String) row.get(0)).toList();
	}

	/** The consumer an entry is pending for, or null. */
	String pendingConsumer(String id) {
		List<?> rows = (List<?>) redis.command("XPENDING", this.keys.lbs(), this.keys.group(), id, id, "1");
		return rows.isEmpty() ? null : (String) ((List<?>) rows.get(0)).get(1);
	}

	private List<List<?>> pendingRows(String consumer) {
		List<String> args = new ArrayList<>(List.of("XPENDING", this.keys.lbs(), this.keys.group(), "-", "+", "1000"));
		if (consumer != null) {
			args.add(consumer);
		}
		List<List<?>> rows = new ArrayList<>();
		for (Object row : (List<?>) redis.command(args.toArray(String[]::new))) {
			rows.add((List<?>) row);
		}
		return rows;
	}

	boolean entryExists(String id) {
		return !((List<?>) redis.command("XRANGE", this.keys.lbs(), id, id)).isEmpty();
	}

	List<String> entryIds() {
		return ((List<?>) redis.command("XRANGE", this.keys.lbs(), "-", "+")).stream()
			.map((entry) -> (String) ((List<?>) entry).get(0)).toList();
	}

	Map<String, String> entryFields(String id) {
		List<?> found = (List<?>) redis.command("XRANGE", this.keys.lbs(), id, id);
		return pairs((List<?>) ((List<?>) found.get(0)).get(1));
	}

	Map<String, String> deadLetterFields(String id) {
		List<?> found = (List<?>) redis.command("XRANGE", this.keys.deadLetters(), id, id);
		return pairs((List<?>) ((List<?>) found.get(0)).get(1));
	}

	Map<String, String> hash(String key) {
		return pairs((List<?>) redis.command("HGETALL", key));
	}

	List<String> groupConsumers() {
		List<String> names = new ArrayList<>();
		for (Object info : (List<?>) redis.command("XINFO", "CONSUMERS", this.keys.lbs(), this.keys.group())) {
			names.add(pairs((List<?>) info).get("name"));
		}
		return names;
	}

	private static Map<String, String> pairs(List<?> flat) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i + 1 < flat.size(); i += 2) {
			map.put(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)));
		}
		return map;
	}

	/** Subscribes to the service's handoff channel. */
	BlockingQueue<String> subscribe() {
		BlockingQueue<String> messages = new LinkedBlockingQueue<>();
		this.subscribed = client.getTopic(this.keys.handoffChannel(), StringCodec.INSTANCE);
		this.subscribed.addListener(String.class, (channel, message) -> messages.add(message));
		return messages;
	}

}
