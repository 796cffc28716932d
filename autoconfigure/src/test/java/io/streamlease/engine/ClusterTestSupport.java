package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import io.streamlease.test.redis.RedisCluster;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;

/**
 * A real 3-master Redis Cluster per test class (the version comes from the {@code stream-lease.test.redis-version}
 * system property), service names chosen so that their keys live on a given master, and pods: one Redisson
 * cluster client each, running one engine per service, as a real pod would.
 */
abstract class ClusterTestSupport {

	static final Duration HB = Duration.ofSeconds(2);

	static final int MASTERS = 3;

	private static final AtomicInteger services = new AtomicInteger();

	static RedisCluster cluster;

	private final List<Pod> pods = new CopyOnWriteArrayList<>();

	private final List<RedissonClient> clients = new CopyOnWriteArrayList<>();

	@BeforeAll
	static void startCluster() {
		cluster = RedisServers.startCluster(MASTERS);
	}

	@AfterAll
	static void stopCluster() {
		if (cluster != null) {
			cluster.close();
		}
	}

	@AfterEach
	void stopPods() {
		for (Pod pod : this.pods) {
			pod.crash();
		}
		for (RedissonClient client : this.clients) {
			if (!client.isShuttingDown()) {
				client.shutdown();
			}
		}
	}

	RedissonClient redisson() {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(4);
		config.useClusterServers()
			.addNodeAddress(cluster.nodeAddresses().stream().map((address) -> "redis://" + address).toArray(String[]::new))
			.setReadMode(ReadMode.MASTER)
			.setTimeout(1000)
			.setConnectTimeout(1000)
			.setRetryAttempts(1)
			.setRetryInterval(100)
			.setMasterConnectionMinimumIdleSize(2)
			.setMasterConnectionPoolSize(8)
			.setSlaveConnectionMinimumIdleSize(0)
			.setSubscriptionConnectionMinimumIdleSize(1);
		RedissonClient client = Redisson.create(config);
		this.clients.add(client);
		return client;
	}

	/**
	 * One fresh service name per master, in node order: the LBS and every other key of the i-th service live on
	 * the i-th master.
	 */
	List<String> servicesOnEveryMaster(String label) {
		List<String> names = new ArrayList<>(MASTERS);
		for (int master = 0; master < MASTERS; master++) {
			names.add(serviceOn(master, label));
		}
		return names;
	}

	/**
	 * A fresh service name whose hash tag {@code {<name>-input}} falls in a slot of the given master.
	 */
	String serviceOn(int master, String label) {
		RedisServer node = cluster.nodes().get(master);
		String base = "cl" + services.incrementAndGet() + "-" + label + "-";
		for (int suffix = 0;; suffix++) {
			String name = base + suffix;
			if (cluster.nodeForKey(name + "-input") == node) {
				return name;
			}
		}
	}

	/** The master that holds every key of the service. */
	static RedisServer nodeOf(String service) {
		return cluster.nodeForKey(new StreamLeaseKeys(service).lbs());
	}

	/** Runs a command on the master that holds the service's keys. */
	static Object on(String service, String... command) {
		return nodeOf(service).command(command);
	}

	static void setKeyspaceFlagsOnEveryMaster(String flags) {
		for (RedisServer node : cluster.nodes()) {
			node.command("CONFIG", "SET", "notify-keyspace-events", flags);
		}
	}

	static Map<Integer, String> keyspaceFlagsByPort() {
		Map<Integer, String> flags = new LinkedHashMap<>();
		for (RedisServer node : cluster.nodes()) {
			flags.put(node.port(), ((List<?>) node.command("CONFIG", "GET", "notify-keyspace-events")).get(1).toString());
		}
		return flags;
	}

	/** The number of pending LBS entries of each consumer of the service's group. */
	static Map<String, Long> pendingPerConsumer(String service) {
		StreamLeaseKeys keys = new StreamLeaseKeys(service);
		Map<String, Long> counts = new HashMap<>();
		List<?> summary = (List<?>) on(service, "XPENDING", keys.lbs(), keys.group());
		if (summary.get(3) instanceof List<?> rows) {
			for (Object row : rows) {
				List<?> pair = (List<?>) row;
				counts.put(pair.get(0).toString(), Long.parseLong(pair.get(1).toString()));
			}
		}
		return counts;
	}

	Pod pod(String consumer) {
		Pod pod = new Pod(consumer, redisson());
		this.pods.add(pod);
		return pod;
	}

	LbsProducer producer(String service) {
		return new LbsProducer(redisson(), service);
	}

	/**
	 * One process: a consumer id, one Redisson cluster client, one engine per service.
	 */
	static final class Pod {

		final String consumer;

		final RedissonClient redisson;

		final Map<String, EngineTestSupport.Running> engines = new ConcurrentHashMap<>();

		/** The streams whose keyspace {@code expired} event reached one of this pod's engines. */
		final Set<String> keyspaceEvents = ConcurrentHashMap.newKeySet();

		Pod(String consumer, RedissonClient redisson) {
			this.consumer = consumer;
			this.redisson = redisson;
		}

		EngineTestSupport.Running start(String service) {
			return start(service, (settings) -> {
			});
		}

		EngineTestSupport.Running start(String service, Consumer<EngineSettings.Builder> tune) {
			EngineSettings.Builder builder = EngineSettings.builder(service, this.consumer)
				.hbInterval(HB)
				.retry(new RetrySettings(-1, Duration.ofMillis(50), Duration.ofMillis(500)));
			tune.accept(builder);
			EngineMetrics metrics = new EngineMetrics() {
				@Override
				public void keyspaceNotification(String consumer) {
					Pod.this.keyspaceEvents.add(service + "/" + consumer);
				}
			};
			EngineTestSupport.Running running = new EngineTestSupport.Running(
					StreamLeaseEngine.create(this.redisson, builder.build(), metrics), this.redisson);
			this.engines.put(service, running);
			running.start();
			return running;
		}

		EngineTestSupport.Running engine(String service) {
			return this.engines.get(service);
		}

		/** The streams of the service this pod holds now. */
		List<String> owned(String service) {
			EngineTestSupport.Running running = this.engines.get(service);
			return (running != null) ? running.owned() : List.of();
		}

		/** The names of every ADDED event of the service's engine, one per event (duplicates kept). */
		List<String> addedEvents(String service) {
			EngineTestSupport.Running running = this.engines.get(service);
			if (running == null) {
				return List.of();
			}
			return running.events(StreamEvent.Type.ADDED).stream().map(StreamEvent::stream).toList();
		}

		/** Closes every engine: each hands off its streams. */
		void close() {
			this.engines.values().forEach((running) -> running.client.close());
		}

		/** Dies like a crashed process: every engine stops at once, the connections drop, nothing is handed off. */
		void crash() {
			this.engines.values().forEach((running) -> running.client.kill());
			if (!this.redisson.isShuttingDown()) {
				this.redisson.shutdown();
			}
		}

	}

}
