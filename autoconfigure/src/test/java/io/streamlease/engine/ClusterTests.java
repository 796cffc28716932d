package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.test.redis.RedisServer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The engine on a real 3-master Redis Cluster: services spread over the masters, each one's keys in one slot;
 * assignment, failover by kill (with keyspace notifications and with the sweep alone), handoff and done, with
 * exact results; and keyspace {@code expired} events arriving from every master.
 */
class ClusterTests extends ClusterTestSupport {

	/** Names that would move a key to another slot if they were not behind the service's hash tag. */
	private static final List<String> AWKWARD_NAMES = List.of("{other}", "a}b{c", "x:{y}:z", "with space", "ünïcödé");

	@Test
	void streamsOfServicesOnEveryMasterAreEachDeliveredExactlyOnce() {
		List<String> services = servicesOnEveryMaster("assign");
		assertThat(services.stream().map(ClusterTestSupport::nodeOf).distinct()).hasSize(MASTERS);
		Pod a = pod("a");
		Pod b = pod("b");
		for (String service : services) {
			a.start(service);
			b.start(service);
		}
		Map<String, List<String>> submitted = submit(services, 20);

		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> a.owned(s).size() + b.owned(s).size() == submitted.get(s).size()));
		for (String service : services) {
			List<String> delivered = new ArrayList<>(a.addedEvents(service));
			delivered.addAll(b.addedEvents(service));
			assertThat(delivered).as("ADDED events of %s", service).containsExactlyInAnyOrderElementsOf(submitted.get(service));
			assertThat(Set.copyOf(a.owned(service))).doesNotContainAnyElementsOf(b.owned(service));
			StreamLeaseKeys keys = new StreamLeaseKeys(service);
			for (String stream : submitted.get(service)) {
				assertThat(on(service, "HEXISTS", keys.owners(), stream))
					.as("ownership of %s on the master of %s", stream, service)
					.isEqualTo(1L);
			}
			assertThat(on(service, "HLEN", keys.owners())).isEqualTo((long) submitted.get(service).size());
			Map<String, Long> pending = pendingPerConsumer(service);
			assertThat(pending.getOrDefault("a", 0L)).isEqualTo(a.owned(service).size());
			assertThat(pending.getOrDefault("b", 0L)).isEqualTo(b.owned(service).size());
		}
		assertThat(services.stream().mapToInt((s) -> a.owned(s).size()).sum()).as("streams read by a").isPositive();
		assertThat(services.stream().mapToInt((s) -> b.owned(s).size()).sum()).as("streams read by b").isPositive();
		for (String service : services) {
			assertThat(a.engine(service).events(StreamEvent.Type.DISOWNED)).isEmpty();
			assertThat(b.engine(service).events(StreamEvent.Type.DISOWNED)).isEmpty();
		}
	}

	@Test
	void aCrashedConsumersStreamsAreRecoveredExactlyByThePeerWithKeyspaceNotificationsOnEveryMaster() {
		setKeyspaceFlagsOnEveryMaster("");
		crashOneOfTwoAndRecover("kill-ksp", KeyspaceNotifications.ON);
		assertThat(keyspaceFlagsByPort().values()).allSatisfy((flags) -> assertThat(flags).contains("K", "x"));
		for (RedisServer node : cluster.nodes()) {
			// Redisson subscribes a pattern topic on every master: here the survivor's one pattern per service
			assertThat((Long) node.command("PUBSUB", "NUMPAT")).as("keyspace patterns subscribed on %s", node)
				.isGreaterThanOrEqualTo(MASTERS);
		}
	}

	@Test
	void aCrashedConsumersStreamsAreRecoveredExactlyByThePeerWithNotificationsOff() {
		setKeyspaceFlagsOnEveryMaster("");
		crashOneOfTwoAndRecover("kill-sweep", KeyspaceNotifications.OFF);
		assertThat(keyspaceFlagsByPort().values()).containsOnly("");
	}

	private void crashOneOfTwoAndRecover(String label, KeyspaceNotifications notifications) {
		List<String> services = servicesOnEveryMaster(label);
		Pod doomed = pod("doomed");
		Pod survivor = pod("survivor");
		for (String service : services) {
			doomed.start(service, (settings) -> settings.keyspaceNotifications(notifications));
		}
		Map<String, List<String>> first = submit(services, 6);
		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> doomed.owned(s).size() == first.get(s).size()));
		for (String service : services) {
			survivor.start(service, (settings) -> settings.keyspaceNotifications(notifications));
		}
		Map<String, List<String>> second = submit(services, 6);
		await().atMost(10, TimeUnit.SECONDS).until(() -> services.stream()
			.allMatch((s) -> doomed.owned(s).size() + survivor.owned(s).size() == first.get(s).size() + second.get(s).size()));
		Map<String, Set<String>> lost = new HashMap<>();
		Map<String, Long> tokens = new HashMap<>();
		for (String service : services) {
			lost.put(service, Set.copyOf(doomed.owned(service)));
			doomed.engine(service).client.ownedStreams().forEach((lease) -> tokens.put(lease.name(), lease.fencingToken()));
		}
		Map<String, List<String>> survivorsOwn = new HashMap<>();
		services.forEach((service) -> survivorsOwn.put(service, List.copyOf(survivor.owned(service))));

		doomed.crash();

		await().atMost(HB.multipliedBy(3)).until(() -> services.stream()
			.allMatch((s) -> survivor.owned(s).size() == first.get(s).size() + second.get(s).size()));
		for (String service : services) {
			List<LeasedStream> recovered = survivor.engine(service).events(StreamEvent.Type.ADDED).stream()
				.map(StreamEvent::lease)
				.filter(LeasedStream::recovered)
				.toList();
			assertThat(recovered).extracting(LeasedStream::name).as("streams of %s recovered by the survivor", service)
				.containsExactlyInAnyOrderElementsOf(lost.get(service));
			assertThat(recovered).allSatisfy((lease) -> assertThat(lease.fencingToken()).isGreaterThan(tokens.get(lease.name())));
			assertThat(survivor.addedEvents(service)).containsExactlyInAnyOrderElementsOf(
					concat(survivorsOwn.get(service), lost.get(service)));
			assertThat(pendingPerConsumer(service))
				.containsOnly(Map.entry("survivor", (long) (first.get(service).size() + second.get(service).size())));
		}
		assertThat(lost.values().stream().mapToInt(Set::size).sum()).as("streams the crashed consumer held")
			.isGreaterThanOrEqualTo(services.size() * 6);
	}

	@Test
	void closeHandsOffStreamsOnEveryMasterAndThePeerClaimsThemWellBeforeTheTtl() {
		Duration ttl = Duration.ofSeconds(10);
		List<String> services = servicesOnEveryMaster("handoff");
		Pod owner = pod("owner");
		for (String service : services) {
			owner.start(service, (settings) -> settings.hbInterval(ttl));
		}
		Map<String, List<String>> submitted = submit(services, 5);
		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> owner.owned(s).size() == submitted.get(s).size()));
		Pod peer = pod("peer");
		for (String service : services) {
			// a sweep this rare cannot be what finds the handed-off streams: the handoff message must
			peer.start(service, (settings) -> settings.hbInterval(ttl).sweepInterval(Duration.ofMinutes(5)));
		}

		long closing = System.nanoTime();
		owner.close();
		await().atMost(3, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> peer.owned(s).size() == submitted.get(s).size()));
		assertThat(Duration.ofNanos(System.nanoTime() - closing)).isLessThan(ttl.dividedBy(4));
		for (String service : services) {
			assertThat(peer.addedEvents(service)).containsExactlyInAnyOrderElementsOf(submitted.get(service));
			assertThat(peer.engine(service).client.ownedStreams()).allMatch(LeasedStream::recovered);
			assertThat(owner.engine(service).client.counters().handedOff()).isEqualTo(submitted.get(service).size());
			assertThat(pendingPerConsumer(service)).containsOnlyKeys("peer");
		}
	}

	@Test
	void aPodThatJoinsGetsItsFairShareOfTheStreamsOfServicesOnEveryMaster() {
		List<String> services = servicesOnEveryMaster("fair");
		// engines without a handler: nothing hands a stream off when asked to yield, so no grace period is given
		RebalanceSettings atOnce = new RebalanceSettings(true, null, 0.1, 0.25, 1000, Duration.ZERO, null);
		Pod first = pod("first");
		for (String service : services) {
			first.start(service, (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF).rebalance(atOnce));
		}
		Map<String, List<String>> submitted = submit(services, 40);
		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> first.owned(s).size() == submitted.get(s).size()));
		Pod second = pod("second");
		for (String service : services) {
			second.start(service, (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF).rebalance(atOnce));
		}

		await().atMost(HB.multipliedBy(5).plusSeconds(3)).untilAsserted(() -> {
			for (String service : services) {
				int total = submitted.get(service).size();
				assertThat(first.owned(service).size()).as("first, " + service).isBetween((int) Math.floor(total * 0.45),
						(int) Math.ceil(total * 0.55));
				assertThat(first.owned(service).size() + second.owned(service).size()).isEqualTo(total);
			}
		});
		for (String service : services) {
			StreamLeaseKeys keys = new StreamLeaseKeys(service);
			assertThat(Set.copyOf(first.owned(service))).doesNotContainAnyElementsOf(second.owned(service));
			assertThat(second.engine(service).client.ownedStreams()).allMatch(LeasedStream::recovered);
			assertThat(submitted.get(service)).containsAll(second.owned(service));
			await().atMost(5, TimeUnit.SECONDS).untilAsserted(() -> {
				assertThat(on(service, "HLEN", keys.owners())).isEqualTo((long) submitted.get(service).size());
				assertThat(on(service, "HLEN", keys.released())).isEqualTo(0L);
			});
			assertThat(on(service, "HLEN", keys.loads())).isEqualTo(2L);
			// what the joiner holds came from the first pod's rounds, and little else moved
			assertThat(first.engine(service).client.fairShare().movedOff())
				.isBetween((long) second.owned(service).size(), second.owned(service).size() + 2L);
		}
	}

	@Test
	void doneAcknowledgesAndDeletesEveryEntryLeavingTheLbsAndTheLeaseIndexEmpty() {
		List<String> services = servicesOnEveryMaster("done");
		Pod a = pod("a");
		Pod b = pod("b");
		for (String service : services) {
			a.start(service);
			b.start(service);
		}
		Map<String, List<String>> submitted = submit(services, 8);
		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> services.stream().allMatch((s) -> a.owned(s).size() + b.owned(s).size() == submitted.get(s).size()));
		for (String service : services) {
			StreamLeaseKeys keys = new StreamLeaseKeys(service);
			assertThat(on(service, "XLEN", keys.lbs())).isEqualTo((long) submitted.get(service).size());
			for (Pod pod : List.of(a, b)) {
				for (LeasedStream lease : pod.engine(service).client.ownedStreams()) {
					lease.checkpoint("1-1", Map.of("by", pod.consumer));
					lease.done();
				}
			}
		}
		for (String service : services) {
			StreamLeaseKeys keys = new StreamLeaseKeys(service);
			assertThat(a.owned(service)).isEmpty();
			assertThat(b.owned(service)).isEmpty();
			assertThat(a.engine(service).client.counters().completed() + b.engine(service).client.counters().completed())
				.isEqualTo(submitted.get(service).size());
			assertThat(on(service, "XLEN", keys.lbs())).as("LBS of %s", service).isEqualTo(0L);
			assertThat(pendingPerConsumer(service)).as("pending entries of %s", service).isEmpty();
			assertThat(on(service, "HLEN", keys.owners())).as("ownership records of %s", service).isEqualTo(0L);
		}
	}

	@Test
	void anExpiredEventFromEveryMasterReachesTheEngineAndLeadsToAClaim() {
		setKeyspaceFlagsOnEveryMaster("");
		List<String> services = servicesOnEveryMaster("expired");
		Pod owner = pod("owner");
		for (String service : services) {
			owner.start(service, (settings) -> settings.keyspaceNotifications(KeyspaceNotifications.OFF));
		}
		LinkedHashMap<String, String> streamOf = new LinkedHashMap<>();
		for (String service : services) {
			streamOf.put(service, "lapsing-" + service);
			producer(service).submit(streamOf.get(service), null);
		}
		await().atMost(10, TimeUnit.SECONDS).until(() -> services.stream()
			.allMatch((s) -> owner.owned(s).contains(streamOf.get(s))));
		Pod peer = pod("peer");
		for (String service : services) {
			// no periodic sweep during the test (the deadline watch may still claim first: the events are awaited
			// on their own below)
			peer.start(service, (settings) -> settings.sweepInterval(Duration.ofMinutes(10)));
		}
		assertThat(keyspaceFlagsByPort().values()).allSatisfy((flags) -> assertThat(flags).contains("K", "x"));

		owner.crash();

		// one event per lapsed session: the owner's session key of each service, on that service's master
		await().atMost(HB.multipliedBy(3))
			.untilAsserted(() -> assertThat(peer.keyspaceEvents)
				.containsAll(services.stream().map((service) -> service + "/owner").toList()));
		await().atMost(HB.multipliedBy(3))
			.until(() -> services.stream().allMatch((s) -> peer.owned(s).contains(streamOf.get(s))));
		Set<RedisServer> reporting = new HashSet<>();
		for (String service : services) {
			if (peer.keyspaceEvents.contains(service + "/owner")) {
				reporting.add(nodeOf(service));
			}
		}
		assertThat(reporting).containsExactlyInAnyOrderElementsOf(cluster.nodes());
		for (String service : services) {
			assertThat(peer.engine(service).added.get(streamOf.get(service)).recovered()).isTrue();
		}
	}

	/**
	 * Submits {@code count} streams to each service (plus the awkward names to the first one).
	 */
	private Map<String, List<String>> submit(List<String> services, int count) {
		Map<String, List<String>> submitted = new LinkedHashMap<>();
		boolean first = true;
		for (String service : services) {
			LbsProducer producer = producer(service);
			List<String> names = new ArrayList<>();
			for (int i = 0; i < count; i++) {
				names.add(service + "/s" + i + "-" + System.nanoTime());
			}
			if (first) {
				AWKWARD_NAMES.forEach((name) -> names.add(name + "-" + System.nanoTime()));
				first = false;
			}
			names.forEach((name) -> producer.submit(name, Map.of("service", service)));
			submitted.put(service, names);
		}
		return submitted;
	}

	private static List<String> concat(List<String> first, Set<String> second) {
		List<String> all = new ArrayList<>(first);
		all.addAll(second);
		return all;
	}

}
