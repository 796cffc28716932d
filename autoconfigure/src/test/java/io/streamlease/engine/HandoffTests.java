package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Handoff without the engine's threads: the messages of the handoff channel become claim candidates (parsing needs
 * no Redis), and against a real Redis, what one consumer hands off (one stream, every held stream in chunks, the
 * whole session) reaches a peer's claim worker as the candidates it claims, while the consumer ignores its own
 * messages.
 */
class HandoffTests extends EngineTestSupport {

	private final List<Handoff> subscribed = new ArrayList<>();

	@AfterEach
	void unsubscribe() {
		this.subscribed.forEach(Handoff::unsubscribe);
	}

	// ---- the messages

	@Test
	void aSessionHandoffMessageMakesEveryStreamOfTheDepartedConsumerACandidate() {
		Handoff.Message message = Handoff.Message.parse("{\"consumer\":\"pod-1\",\"session\":\"17\"}");

		assertThat(message.candidatesFor("pod-2")).containsExactly(ClaimCandidate.ofConsumer("pod-1", "handoff"));
		assertThat(message.candidatesFor("pod-1")).as("its own handoff").isEmpty();
	}

	@Test
	void aStreamsHandoffMessageMakesEachStreamACandidateWithItsEntry() {
		Handoff.Message message = Handoff.Message
			.parse("{\"consumer\":\"pod-1\",\"streams\":[[\"a\",\"1-1\"],[\"b\",\"1-2\"]]}");

		assertThat(message.candidatesFor("pod-2")).containsExactly(
				new ClaimCandidate("a", "1-1", "handoff", "pod-1", null),
				new ClaimCandidate("b", "1-2", "handoff", "pod-1", null));
	}

	@Test
	void aRebalanceMessageNamesTheConsumerMeantToClaim() {
		Handoff.Message message = Handoff.Message
			.parse("{\"consumer\":\"pod-1\",\"streams\":[[\"a\",\"1-1\"]],\"target\":\"pod-3\"}");

		assertThat(message.target()).isEqualTo("pod-3");
		assertThat(message.candidatesFor("pod-2"))
			.containsExactly(new ClaimCandidate("a", "1-1", "rebalance", "pod-1", "pod-3"));
	}

	@Test
	void aMalformedMessageIsIgnoredAndABatchThatDoesNotFitAsksForASweep() {
		BlockingQueue<List<ClaimCandidate>> full = new ArrayBlockingQueue<>(1);
		full.add(List.of());
		AtomicInteger queued = new AtomicInteger();
		AtomicInteger dropped = new AtomicInteger();
		Handoff handoff = new Handoff(null, EngineSettings.builder("orders", "pod-2").build(), null, null, null, null,
				null, (what, failure) -> true, full, queued::incrementAndGet, dropped::incrementAndGet);

		handoff.received("not json");
		handoff.received("{\"consumer\":\"pod-2\",\"session\":\"3\"}");
		assertThat(dropped).hasValue(0);
		handoff.received("{\"consumer\":\"pod-1\",\"session\":\"3\"}");

		assertThat(dropped).hasValue(1);
		assertThat(queued).hasValue(0);
	}

	// ---- against Redis

	@Test
	void handingOffEveryHeldStreamTellsPeersInChunksAndKeepsTheSession() throws InterruptedException {
		Consumer owner = new Consumer("owner");
		Consumer peer = new Consumer("peer");
		owner.handoff.subscribe();
		peer.handoff.subscribe();
		Map<String, String> submitted = submit(Handoff.CHUNK + 1);
		owner.acquireAll(submitted.size());
		assertThat(owner.held.size()).isEqualTo(submitted.size());

		assertThat(owner.handoff.releaseHeld()).isEqualTo(submitted.size());

		assertThat(owner.held.size()).isZero();
		assertThat(owner.status.counters().handedOff()).isEqualTo(submitted.size());
		assertThat(owner.session.id()).as("the session stays").isNotNull();
		List<List<ClaimCandidate>> batches = peer.batches(2);
		assertThat(batches).extracting(List::size).containsExactlyInAnyOrder(Handoff.CHUNK, 1);
		Map<String, String> candidates = new LinkedHashMap<>();
		for (List<ClaimCandidate> batch : batches) {
			for (ClaimCandidate candidate : batch) {
				assertThat(candidate.source()).isEqualTo("handoff");
				assertThat(candidate.consumer()).isEqualTo("owner");
				candidates.put(candidate.stream(), candidate.lbsId());
			}
		}
		assertThat(candidates).isEqualTo(submitted);
		assertThat(owner.queue.poll(200, TimeUnit.MILLISECONDS)).as("its own messages").isNull();
	}

	@Test
	void aStreamHandedOffAloneReachesAPeerWithItsEntry() throws InterruptedException {
		Consumer owner = new Consumer("owner");
		Consumer peer = new Consumer("peer");
		peer.handoff.subscribe();
		Map<String, String> submitted = submit(2);
		owner.acquireAll(2);
		Lease lease = owner.held.get("s-0");
		assertThat(lease.end(Lease.State.HANDED_OFF)).isTrue();
		owner.held.remove(lease);

		owner.handoff.release(lease, 0);

		assertThat(peer.batches(1)).containsExactly(List.of(new ClaimCandidate("s-0", submitted.get("s-0"), "handoff",
				"owner", null)));
		assertThat(owner.status.counters().handedOff()).isEqualTo(1);
		assertThat(owner.held.holds("s-1")).isTrue();
		assertThat(redis.command("HGET", keys().released(), "s-0")).isEqualTo(submitted.get("s-0"));
	}

	@Test
	void endingTheSessionHandsOffEveryHeldStreamInOneCall() throws InterruptedException {
		Consumer owner = new Consumer("owner");
		Consumer peer = new Consumer("peer");
		peer.handoff.subscribe();
		submit(3);
		owner.acquireAll(3);
		List<Lease> leases = owner.held.snapshot();

		assertThat(owner.handoff.endSession()).isEqualTo(3);

		assertThat(owner.session.id()).isNull();
		assertThat(owner.held.size()).isZero();
		assertThat(leases).allMatch((lease) -> lease.state() == Lease.State.HANDED_OFF);
		assertThat(owner.status.counters().handedOff()).isEqualTo(3);
		assertThat(peer.batches(1)).containsExactly(List.of(ClaimCandidate.ofConsumer("owner", "handoff")));
		// the peer takes the session's streams over at once
		assertThat(peer.store.claimPending(peer.session.id(), "owner", Duration.ZERO, "-", 100, 100, false).taken())
			.extracting(LeaseStore.Acquisition::stream).containsExactlyInAnyOrder("s-0", "s-1", "s-2");
	}

	private Map<String, String> submit(int count) {
		LbsProducer producer = producer();
		Map<String, String> submitted = new LinkedHashMap<>();
		for (int i = 0; i < count; i++) {
			submitted.put("s-" + i, producer.submit("s-" + i, null));
		}
		return submitted;
	}

	/** One consumer's handoff with what it needs, registered, no thread running. */
	private final class Consumer {

		final EngineSettings settings;

		final LeaseStore store;

		final Session session;

		final HeldStreams held = new HeldStreams(10_000);

		final EngineStatus status = new EngineStatus(EngineMetrics.NONE);

		final BlockingQueue<List<ClaimCandidate>> queue = new LinkedBlockingQueue<>();

		final Acquisitions acquisitions;

		final Handoff handoff;

		Consumer(String id) {
			this.settings = settings(id).hbInterval(Duration.ofSeconds(30)).build();
			RedissonClient redisson = redisson();
			this.store = new LeaseStore(redisson, this.settings, "nonce-" + id);
			this.store.createGroup();
			this.session = new Session(this.settings.hbInterval());
			this.session.opened(this.store.register().sessionId(), System.nanoTime());
			EngineRuntime runtime = new EngineRuntime(this.settings, this.held::wakeAll);
			RedisFailures failures = (what, failure) -> {
				throw new AssertionError(what, failure);
			};
			EventChannel events = new EventChannel(10);
			LeaseOwner owner = new LeaseOwner(this.settings, this.store, this.held, events, this.status, runtime, failures);
			this.acquisitions = new Acquisitions(this.settings, this.store, this.session, this.held, owner, null,
					this.status, EngineMetrics.NONE, events, () -> true, () -> true);
			this.handoff = new Handoff(redisson, this.settings, this.store, this.session, this.held, this.status, runtime,
					failures, this.queue, () -> {
					}, () -> {
						throw new AssertionError("dropped");
					});
			HandoffTests.this.subscribed.add(this.handoff);
		}

		/** Reads {@code count} LBS entries and acquires their streams, as the LBS reader does. */
		void acquireAll(int count) throws InterruptedException {
			Map<StreamMessageId, Map<String, String>> read = this.store.read(count, Duration.ofMillis(100));
			List<LeaseStore.Request> requests = new ArrayList<>();
			List<LbsEntry> entries = new ArrayList<>();
			read.forEach((id, fields) -> {
				LbsEntry entry = LbsEntry.parse(id.toString(), fields, this.settings.maxEntrySize());
				entries.add(entry);
				requests.add(new LeaseStore.Request(entry.stream(), entry.id()));
			});
			LeaseStore.Acquisitions reply = StreamLeaseEngine.await(this.store.acquire(this.session.id(), requests, false));
			for (int i = 0; i < entries.size(); i++) {
				this.acquisitions.accept(reply.acquisitions().get(i), entries.get(i).info(), null);
			}
		}

		/** The next {@code count} batches of candidates the handoff channel brought. */
		List<List<ClaimCandidate>> batches(int count) throws InterruptedException {
			List<List<ClaimCandidate>> batches = new ArrayList<>();
			await().atMost(Duration.ofSeconds(5)).until(() -> {
				this.queue.drainTo(batches);
				return batches.size() >= count;
			});
			return batches;
		}

	}

}
