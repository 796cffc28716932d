package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import io.streamlease.engine.EngineTestSupport.Running;
import io.streamlease.test.redis.RedisCluster;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import io.streamlease.test.redis.RedisSentinelGroup;
import io.streamlease.test.redis.RedisVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Redis failover under running engines, on real servers: a Sentinel group whose master is killed (SIGKILL) and a
 * 3-master Redis Cluster whose master of the service's slot is killed, each with its replica promoted. Replication
 * is asynchronous, so just before the kill the replica is cut off while streams are finished and submitted again:
 * the new master then lacks the fencing tokens issued for them, and must still never issue a token that is not
 * greater than every token issued before the failover. The engines use the default retry settings and clients
 * that do not retry by themselves, as the starter builds them, but with Redisson's default read mode (reads from
 * replicas), as an application's own client that the engine reuses may have.
 */
class RedisFailoverTests {

	private static final Duration HB = Duration.ofSeconds(2);

	private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(15);

	private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(20);

	private static final int STREAMS = 10;

	private final List<Running> engines = new CopyOnWriteArrayList<>();

	private final List<RedissonClient> clients = new CopyOnWriteArrayList<>();

	private final List<AutoCloseable> topologies = new CopyOnWriteArrayList<>();

	@AfterEach
	void stopEnginesThenRedis() throws Exception {
		for (Running running : this.engines) {
			running.client.kill();
		}
		for (RedissonClient client : this.clients) {
			client.shutdown();
		}
		for (AutoCloseable topology : this.topologies) {
			topology.close();
		}
	}

	@Test
	void enginesFollowASentinelFailoverWithoutEverReissuingAFencingToken(TestInfo test) {
		assumeTrue(RedisServers.isSentinelGroupAvailable(RedisVersion.defaultVersion()),
				() -> "No redis-server " + RedisVersion.defaultVersion().label() + " can run a Sentinel group here");
		RedisSentinelGroup group = RedisServers.startSentinelGroup("engines");
		this.topologies.add(group);
		RedisServer master = group.master();
		RedisServer replica = group.replicas().get(0);
		Failover failover = new Failover(() -> sentinelClient(group), master, replica, group::killMaster,
				() -> group.awaitFailover(FAILOVER_TIMEOUT), group::master);
		ridesOutTheFailover(RedisServerExtension.uniqueName("sentinel", test), failover);
	}

	@Test
	void enginesFollowAClusterPromotionWithoutEverReissuingAFencingToken(TestInfo test) {
		RedisCluster cluster = RedisServers.startCluster(3, 1, RedisServerSpec.defaults());
		this.topologies.add(cluster);
		String service = RedisServerExtension.uniqueName("cluster", test);
		String slotKey = new StreamLeaseKeys(service).lbs();
		RedisServer master = cluster.nodeForKey(slotKey);
		RedisServer replica = cluster.replicas().stream()
			.filter((node) -> Integer.toString(master.port()).equals(info(node, "master_port")))
			.findFirst()
			.orElseThrow();
		Failover failover = new Failover(() -> clusterClient(cluster), master, replica,
				() -> cluster.killMasterOf(slotKey), () -> cluster.awaitPromotion(slotKey, FAILOVER_TIMEOUT),
				() -> cluster.nodeForKey(slotKey));
		ridesOutTheFailover(service, failover);
	}

	private void ridesOutTheFailover(String service, Failover failover) {
		Running first = start(service, "first", failover.clients.get());
		Running second = start(service, "second", failover.clients.get());
		List<Running> both = List.of(first, second);
		LbsProducer producer = new LbsProducer(failover.clients.get(), service);
		List<String> before = new ArrayList<>();
		for (int i = 0; i < STREAMS; i++) {
			before.add("before-" + i);
			producer.submit("before-" + i, Map.of("i", Integer.toString(i)));
		}
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertHeldOnceEach(both, before));
		awaitReplicated(failover.master, failover.replica);

		// Writes the new master will never see: with the replica cut off, every stream is finished and submitted
		// again, and taken under a new token; then the master dies before the replica can catch up.
		Map<String, Long> tokensBefore;
		Map<Running, Integer> marks = new HashMap<>();
		cutOff(failover.replica);
		try {
			for (String stream : before) {
				holderOf(both, stream).client.doneStream(stream);
				producer.submit(stream, Map.of("again", "true"));
			}
			await().atMost(Duration.ofSeconds(5))
				.until(() -> before.stream().allMatch((stream) -> addedCounts(both).getOrDefault(stream, 0) == 2));
			tokensBefore = maxTokens(both);
			both.forEach((engine) -> marks.put(engine, engine.events.size()));
			failover.killMaster.run();
		}
		finally {
			reconnectable(failover.replica);
		}
		failover.awaitSuccessor.run();

		await().atMost(RECOVERY_TIMEOUT).untilAsserted(() -> assertHeldOnceEach(both, before));
		List<String> after = new ArrayList<>();
		for (int i = 0; i < 10; i++) {
			String stream = "after-" + i;
			after.add(stream);
			await().atMost(RECOVERY_TIMEOUT).ignoreExceptions().until(() -> producer.submit(stream, Map.of()) != null);
		}
		List<String> all = new ArrayList<>(before);
		all.addAll(after);
		await().atMost(RECOVERY_TIMEOUT).untilAsserted(() -> assertHeldOnceEach(both, all));
		await().atMost(HB.multipliedBy(3))
			.until(() -> first.client.isRedisReachable() && second.client.isRedisReachable());
		StreamLeaseKeys keys = new StreamLeaseKeys(service);
		await().atMost(HB.multipliedBy(3)).untilAsserted(() -> assertThat(pendingPerConsumer(failover.currentMaster.get(), keys))
			.as("LBS entries pending per consumer on the new master: only those of the streams each one holds")
			.isEqualTo(heldPerConsumer(both)));

		for (Running engine : both) {
			assertThat(engine.events(StreamEvent.Type.TERMINATED)).as("TERMINATED events of %s", engine.client.id())
				.isEmpty();
			assertThat(engine.client.state()).isEqualTo(EngineState.RUNNING);
		}
		Map<String, List<Long>> tokensAfter = tokensSince(both, marks);
		assertThat(tokensAfter.keySet()).as("streams taken again under a new token after the failover")
			.containsAll(before);
		tokensAfter.forEach((stream, tokens) -> {
			if (tokensBefore.containsKey(stream)) {
				assertThat(tokens).as("tokens issued for %s after the failover, against the greatest before (%s)", stream,
						tokensBefore.get(stream))
					.allSatisfy((token) -> assertThat(token).isGreaterThan(tokensBefore.get(stream)));
			}
		});
	}

	private Running start(String service, String consumer, RedissonClient redisson) {
		EngineSettings settings = EngineSettings.builder(service, consumer).hbInterval(HB).build();
		Running running = new Running(StreamLeaseEngine.create(redisson, settings), redisson);
		this.engines.add(running);
		running.start();
		return running;
	}

	private RedissonClient sentinelClient(RedisSentinelGroup group) {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(4);
		config.setLazyInitialization(true);
		config.useSentinelServers()
			.setMasterName(group.masterName())
			.addSentinelAddress(redisUris(group.sentinelAddresses()))
			.setCheckSentinelsList(false)
			.setTimeout(1000)
			.setConnectTimeout(1000)
			.setRetryAttempts(0)
			.setMasterConnectionMinimumIdleSize(2)
			.setMasterConnectionPoolSize(8)
			.setSlaveConnectionMinimumIdleSize(1)
			.setSlaveConnectionPoolSize(8);
		return track(Redisson.create(config));
	}

	private RedissonClient clusterClient(RedisCluster cluster) {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(4);
		config.setLazyInitialization(true);
		config.useClusterServers()
			.addNodeAddress(redisUris(cluster.nodeAddresses()))
			.setTimeout(1000)
			.setConnectTimeout(1000)
			.setRetryAttempts(0)
			.setMasterConnectionMinimumIdleSize(2)
			.setMasterConnectionPoolSize(8)
			.setSlaveConnectionMinimumIdleSize(1)
			.setSlaveConnectionPoolSize(8);
		return track(Redisson.create(config));
	}

	private RedissonClient track(RedissonClient client) {
		this.clients.add(client);
		return client;
	}

	private static String[] redisUris(List<String> addresses) {
		return addresses.stream().map((address) -> "redis://" + address).toArray(String[]::new);
	}

	/** Every stream is held by exactly one of the engines, and they hold nothing else. */
	private static void assertHeldOnceEach(List<Running> engines, List<String> streams) {
		List<String> held = new ArrayList<>();
		engines.forEach((engine) -> held.addAll(engine.owned()));
		assertThat(held).as("streams held by the engines").doesNotHaveDuplicates()
			.containsExactlyInAnyOrderElementsOf(streams);
	}

	private static Running holderOf(List<Running> engines, String stream) {
		return engines.stream().filter((engine) -> engine.owned().contains(stream)).findFirst().orElseThrow();
	}

	private static Map<String, Integer> addedCounts(List<Running> engines) {
		Map<String, Integer> counts = new HashMap<>();
		for (Running engine : engines) {
			engine.events(StreamEvent.Type.ADDED).forEach((event) -> counts.merge(event.stream(), 1, Integer::sum));
		}
		return counts;
	}

	/** The greatest fencing token of every stream in the ADDED events the engines have recorded so far. */
	private static Map<String, Long> maxTokens(List<Running> engines) {
		Map<String, Long> max = new HashMap<>();
		for (Running engine : engines) {
			engine.events(StreamEvent.Type.ADDED)
				.forEach((event) -> max.merge(event.stream(), event.lease().fencingToken(), Math::max));
		}
		return max;
	}

	/** The fencing tokens of the ADDED events each engine recorded after its mark, by stream. */
	private static Map<String, List<Long>> tokensSince(List<Running> engines, Map<Running, Integer> marks) {
		Map<String, List<Long>> tokens = new HashMap<>();
		for (Running engine : engines) {
			List<StreamEvent> events = new ArrayList<>(engine.events);
			for (StreamEvent event : events.subList(marks.get(engine), events.size())) {
				if (event.type() == StreamEvent.Type.ADDED) {
					tokens.computeIfAbsent(event.stream(), (stream) -> new ArrayList<>()).add(event.lease().fencingToken());
				}
			}
		}
		return tokens;
	}

	private static Map<String, Long> heldPerConsumer(List<Running> engines) {
		Map<String, Long> counts = new HashMap<>();
		for (Running engine : engines) {
			if (!engine.owned().isEmpty()) {
				counts.put(engine.client.id(), (long) engine.owned().size());
			}
		}
		return counts;
	}

	private static Map<String, Long> pendingPerConsumer(RedisServer master, StreamLeaseKeys keys) {
		Map<String, Long> counts = new HashMap<>();
		List<?> summary = (List<?>) master.command("XPENDING", keys.lbs(), keys.group());
		if (summary.get(3) instanceof List<?> rows) {
			for (Object row : rows) {
				List<?> pair = (List<?>) row;
				counts.put(pair.get(0).toString(), Long.parseLong(pair.get(1).toString()));
			}
		}
		return counts;
	}

	/**
	 * Wait until the replica has every write the master has acknowledged so far, so that the failover loses only
	 * what the test writes afterwards.
	 */
	private static void awaitReplicated(RedisServer master, RedisServer replica) {
		long offset = Long.parseLong(info(master, "master_repl_offset"));
		await().atMost(Duration.ofSeconds(5))
			.until(() -> Long.parseLong(info(replica, "slave_repl_offset")) >= offset);
	}

	/**
	 * Cut the replica off from its master so that it receives none of the master's further writes: with a wrong
	 * {@code masterauth} its reconnection fails (a master without a password refuses AUTH), and its link is
	 * closed. Pausing the replica would not do: the writes would wait in its socket buffer.
	 */
	private static void cutOff(RedisServer replica) {
		replica.command("CONFIG", "SET", "masterauth", "not-the-masters-password");
		replica.command("CLIENT", "KILL", "TYPE", "master");
		await().atMost(Duration.ofSeconds(5)).until(() -> "down".equals(info(replica, "master_link_status")));
	}

	private static void reconnectable(RedisServer replica) {
		replica.command("CONFIG", "SET", "masterauth", "");
	}

	private static String info(RedisServer server, String field) {
		for (String line : ((String) server.command("INFO", "replication")).split("\r?\n")) {
			if (line.startsWith(field + ":")) {
				return line.substring(field.length() + 1).trim();
			}
		}
		return "";
	}

	/**
	 * How to reach one topology and fail over the master of the service's keys.
	 */
	private record Failover(Supplier<RedissonClient> clients, RedisServer master, RedisServer replica,
			Runnable killMaster, Runnable awaitSuccessor, Supplier<RedisServer> currentMaster) {
	}

}
