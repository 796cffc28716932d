package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fair share on a real Redis: consumers that join get their share of streams held elsewhere, moved cooperatively
 * (the old owner checkpoints under its lease while asked to yield, then hands the stream off), paced, without a
 * stream ever held by two consumers and without losing one. hb-interval is 2 s: a consumer counts for its peers
 * after 2 s, a round moves at most a quarter of what a consumer holds, at most every second.
 */
class RebalanceTests extends EngineTestSupport {

	private static final Duration BOUND = HB.multipliedBy(5);

	/** Violations of single ownership seen when a stream was added: a peer still held it under an older token. */
	private final List<String> violations = new CopyOnWriteArrayList<>();

	/** Every engine of the test, for the ownership check. */
	private final List<Running> members = new CopyOnWriteArrayList<>();

	/** Streams whose handler was asked to yield, and checkpointed under its lease before handing off. */
	private final Set<String> yielded = ConcurrentHashMap.newKeySet();

	@Test
	void aJoiningConsumerGetsItsShareWithinFiveHeartbeatsAndNoStreamEverHasTwoOwners() {
		Running first = member("c1", (settings) -> {
		});
		submit(300);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 300);

		long joined = System.nanoTime();
		Running second = member("c2", (settings) -> {
		});

		await().atMost(BOUND.plusSeconds(2)).untilAsserted(() -> {
			assertThat(first.client.ownedCount()).isBetween(135, 165);
			assertThat(second.client.ownedCount()).isBetween(135, 165);
		});
		Duration took = Duration.ofNanos(System.nanoTime() - joined);
		assertThat(took).isLessThan(BOUND.plusSeconds(2));
		awaitNothingInFlight(300);
		assertThat(this.violations).isEmpty();
		// the moves went the cooperative way: a checkpoint under the old lease, then the handoff
		await().atMost(5, TimeUnit.SECONDS)
			.untilAsserted(() -> assertThat(this.yielded).hasSize((int) first.client.fairShare().movedOff()));
		assertThat(first.client.fairShare().movedOff()).isBetween(135L, 165L);
		assertThat(first.client.ownedCount() + first.client.fairShare().movedOff()).isEqualTo(300);
		assertThat(second.client.fairShare().movedOff()).isZero();
		for (LeasedStream moved : second.client.ownedStreams()) {
			if (this.yielded.contains(moved.name())) {
				assertThat(moved.recovered()).isTrue();
				assertThat(moved.checkpoint().state()).containsEntry("yielded-by", "c1");
			}
		}
		assertThat(second.client.fairShare().share()).isEqualTo(150.0);
		assertThat(first.client.fairShare().consumers()).isEqualTo(2);
	}

	@Test
	void sharesFollowCapacityAndThreeConsumersConvergeWithKeyspaceNotificationsOff() {
		Consumer<EngineSettings.Builder> off = (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF);
		Running first = member("c1", off.andThen((settings) -> settings.maxConcurrentStreams(600)));
		submit(400);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 400);

		Running second = member("c2", off.andThen((settings) -> settings.maxConcurrentStreams(600)));
		Running third = member("c3", off.andThen((settings) -> settings.maxConcurrentStreams(300)));

		// capacities 600 : 600 : 300, so shares 160 : 160 : 80
		await().atMost(BOUND.plusSeconds(4)).untilAsserted(() -> {
			assertThat(first.client.ownedCount()).isBetween(144, 176);
			assertThat(second.client.ownedCount()).isBetween(144, 176);
			assertThat(third.client.ownedCount()).isBetween(72, 88);
		});
		awaitNothingInFlight(400);
		assertThat(this.violations).isEmpty();
		// only the consumer above its share moved streams: no ping-pong between the two that joined
		assertThat(second.client.fairShare().movedOff()).isZero();
		assertThat(third.client.fairShare().movedOff()).isZero();
		assertThat(third.client.fairShare().share()).isEqualTo(80.0);
	}

	@Test
	void aConsumerThatJoinsAndLeavesWithinTheSettleTimeMovesNothing() {
		Running first = member("c1", (settings) -> {
		});
		submit(200);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 200);

		Running brief = member("c2", (settings) -> {
		});
		await().atMost(5, TimeUnit.SECONDS).until(() -> first.client.fairShare().total() == 200
				&& brief.client.fairShare().consumers() == 2);
		brief.client.close();

		// the settle time (hb-interval) has passed for every renewal that could have counted it: nothing moved
		await().during(HB.multipliedBy(2)).atMost(HB.multipliedBy(3)).until(() -> first.client.ownedCount() == 200);
		assertThat(first.client.fairShare().movedOff()).isZero();
		assertThat(brief.client.counters().added() + brief.client.counters().claimed()).isZero();
	}

	@Test
	void aConsumerThatLeavesAfterItsShareArrivedCausesNoMoreMovesThanItReceived() {
		Running first = member("c1", (settings) -> {
		});
		Running second = member("c2", (settings) -> {
		});
		submit(200);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() + second.client.ownedCount() == 200);
		await().atMost(BOUND).untilAsserted(() -> {
			assertThat(first.client.ownedCount()).isBetween(90, 110);
			assertThat(second.client.ownedCount()).isBetween(90, 110);
		});
		long movedBefore = first.client.fairShare().movedOff() + second.client.fairShare().movedOff();

		Running third = member("c3", (settings) -> {
		});
		await().atMost(BOUND).until(() -> third.client.ownedCount() >= 60);
		long received = third.client.ownedCount();
		third.client.close();

		// its streams are handed back by the session handoff; the survivors end within tolerance of 100 each
		await().atMost(BOUND).untilAsserted(() -> {
			assertThat(first.client.ownedCount() + second.client.ownedCount()).isEqualTo(200);
			assertThat(first.client.ownedCount()).isBetween(90, 110);
			assertThat(second.client.ownedCount()).isBetween(90, 110);
		});
		awaitNothingInFlight(200);
		long moved = first.client.fairShare().movedOff() + second.client.fairShare().movedOff() - movedBefore;
		// what the newcomer received (and, at most, a tolerance's worth of evening out among the survivors)
		assertThat(moved).isBetween(received, received + 20);
		assertThat(third.client.fairShare().movedOff()).isZero();
		assertThat(this.violations).isEmpty();
	}

	@Test
	void aHandlerThatDoesNotYieldLosesItsStreamAfterTheGracePeriodAndItsLateWriteIsRefused() {
		Running first = create("c1", (settings) -> settings.rebalance(new RebalanceSettings(true, null, 0.1, 0.25,
				1000, Duration.ofMillis(300), null)));
		first.start();
		this.members.add(first);
		submit(40);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 40);
		List<LeasedStream> asked = new CopyOnWriteArrayList<>();
		for (LeasedStream lease : first.client.ownedStreams()) {
			lease.released().thenAccept((reason) -> asked.add(lease));
		}

		Running second = member("c2", (settings) -> {
		});

		await().atMost(BOUND).until(() -> second.client.ownedCount() >= 18);
		assertThat(asked).isNotEmpty();
		LeasedStream stale = asked.get(0);
		assertThat(stale.released().toCompletableFuture().join()).isEqualTo(ReleaseReason.REBALANCE);
		await().atMost(5, TimeUnit.SECONDS).until(() -> !stale.isOwned());
		org.assertj.core.api.Assertions.assertThatExceptionOfType(LeaseLostException.class)
			.isThrownBy(() -> stale.checkpoint("9-9", Map.of()));
		awaitNothingInFlight(40);
		assertThat(this.violations).isEmpty();
	}

	@Test
	void theYieldListenerIsToldBeforeTheHandlerSeesTheRequest() {
		// a container marks a run as yielding in this listener: had released() completed first, a handler could
		// checkpoint and return before that, and its stream would be finished instead of handed off
		Running first = create("c1", (settings) -> settings.rebalance(new RebalanceSettings(true, null, 0.1, 0.25,
				1000, Duration.ofMillis(300), null)));
		List<String> seenEarly = new CopyOnWriteArrayList<>();
		List<String> told = new CopyOnWriteArrayList<>();
		first.client.onYieldRequested((lease) -> {
			told.add(lease.name());
			if (lease.released().toCompletableFuture().isDone()) {
				seenEarly.add(lease.name());
			}
		});
		first.start();
		this.members.add(first);
		submit(40);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 40);
		for (LeasedStream lease : first.client.ownedStreams()) {
			// made before the request, so that its completion is observable
			lease.released();
		}

		member("c2", (settings) -> {
		});

		await().atMost(BOUND).until(() -> told.size() >= 10);
		assertThat(seenEarly).isEmpty();
		awaitNothingInFlight(40);
	}

	@Test
	void withRebalancingOffAJoiningConsumerGetsOnlyNewStreams() {
		Running first = member("c1", (settings) -> settings.rebalance(RebalanceSettings.OFF));
		submit(100);
		await().atMost(10, TimeUnit.SECONDS).until(() -> first.client.ownedCount() == 100);

		Running second = member("c2", (settings) -> settings.rebalance(RebalanceSettings.OFF));

		await().during(HB.multipliedBy(2)).atMost(HB.multipliedBy(3)).until(() -> first.client.ownedCount() == 100);
		assertThat(second.client.ownedCount()).isZero();
		assertThat(first.client.fairShare().enabled()).isFalse();
		assertThat(first.client.fairShare().share()).isEqualTo(50.0);
	}

	// ---- helpers

	/**
	 * Starts an engine whose "handler" yields cooperatively: asked to yield, it writes a checkpoint under its lease
	 * (which must still succeed) and hands the stream off. Every ADDED is checked against the other engines: none
	 * may still hold the stream under an older token.
	 */
	private Running member(String consumer, Consumer<EngineSettings.Builder> tune) {
		Running running = create(consumer, tune);
		running.onAdded = (lease) -> {
			for (Running other : this.members) {
				if (other == running) {
					continue;
				}
				for (LeasedStream held : other.client.ownedStreams()) {
					if (held.name().equals(lease.name()) && held.fencingToken() < lease.fencingToken()) {
						this.violations.add(lease.name() + " added to " + consumer + " (token " + lease.fencingToken()
								+ ") while " + other.client.id() + " held it (token " + held.fencingToken() + ")");
					}
				}
			}
			lease.released().thenAccept((reason) -> {
				if (reason == ReleaseReason.REBALANCE) {
					lease.checkpoint("0-1", Map.of("yielded-by", consumer));
					this.yielded.add(lease.name());
					running.client.handOff(lease);
				}
			});
		};
		running.start();
		this.members.add(running);
		return running;
	}

	private void submit(int count) {
		LbsProducer producer = producer();
		for (int i = 0; i < count; i++) {
			producer.submit("stream-" + i, Map.of("i", i));
		}
	}

	/** Every stream is held by exactly one engine, none is released, and the server's records agree. */
	private void awaitNothingInFlight(int streams) {
		await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> {
			List<String> all = new ArrayList<>();
			for (Running member : this.members) {
				if (member.client.state() == EngineState.RUNNING) {
					all.addAll(member.owned());
				}
			}
			assertThat(all).hasSize(streams).doesNotHaveDuplicates();
			assertThat(redis.command("HLEN", keys().owners())).isEqualTo((long) streams);
			assertThat(redis.command("HLEN", keys().released())).isEqualTo(0L);
		});
	}

}
