package io.streamlease.test.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Starts real Redis servers and clusters for tests.
 *
 * <p>Each server runs with the first backend that can provide its {@link RedisVersion}: Docker (when a
 * daemon answers), a {@code redis-server} on the PATH, then the binary inside embedded-redis; the system
 * property {@value RedisBackend#PROPERTY} forces one. The members of a {@link RedisSentinelGroup} run as
 * child processes only. When no backend can provide the version, the start
 * methods throw {@link IllegalStateException}; tests that should be skipped instead can check
 * {@link #isAvailable(RedisVersion)} in a JUnit assumption.
 *
 * <pre class="code">
 * try (RedisServer redis = RedisServers.start()) {
 *     redis.command("SET", "key", "value");
 * }
 * </pre>
 */
public final class RedisServers {

	private RedisServers() {
	}

	/**
	 * Start a server from {@link RedisServerSpec#defaults()}.
	 * @return the running server
	 * @throws IllegalStateException if the default version is not available or the server does not start
	 */
	public static RedisServer start() {
		return start(RedisServerSpec.defaults());
	}

	/**
	 * Start a server as the spec says, on a free loopback port, and wait until it answers PING.
	 * @param spec the version and configuration
	 * @return the running server
	 * @throws IllegalStateException if the version is not available or the server does not start; the
	 * message then ends with the last lines of its log
	 */
	public static RedisServer start(RedisServerSpec spec) {
		Path directory = createDirectory();
		ServerRuntime runtime;
		try {
			runtime = BackendSelector.runtimeFor(spec, directory);
		}
		catch (RuntimeException ex) {
			directory.toFile().delete();
			throw ex;
		}
		RedisServer server = new RedisServer(spec, runtime, directory);
		server.startOnFreePort();
		return server;
	}

	/**
	 * Start a Redis Cluster of the given number of masters, without replicas, from
	 * {@link RedisServerSpec#defaults()}, and wait until every node reports {@code cluster_state:ok}.
	 * @param masters the number of masters, at least 1
	 * @return the running cluster
	 */
	public static RedisCluster startCluster(int masters) {
		return startCluster(masters, RedisServerSpec.defaults());
	}

	/**
	 * Start a Redis Cluster of the given number of masters, without replicas, each a server as the spec
	 * says plus {@code cluster-enabled yes}, with the 16384 slots split evenly in node order, and wait until
	 * every node reports {@code cluster_state:ok}.
	 * @param masters the number of masters, at least 1
	 * @param spec the version and configuration of every node
	 * @return the running cluster
	 */
	public static RedisCluster startCluster(int masters, RedisServerSpec spec) {
		return RedisCluster.start(masters, 0, spec);
	}

	/**
	 * Start a Redis Cluster of the given number of masters, each with the given number of replicas
	 * ({@code CLUSTER REPLICATE}), every node a server as the spec says plus {@code cluster-enabled yes},
	 * with the 16384 slots split evenly between the masters in start order; wait until every replica is in
	 * sync and every node reports {@code cluster_state:ok}. See {@link RedisCluster} for the timeouts that make
	 * a failover quick.
	 * @param masters the number of masters, at least 1 (at least 3 for a replica to take over from a failed
	 * master: that needs the votes of a majority of masters)
	 * @param replicasPerMaster the number of replicas of each master, 0 or more
	 * @param spec the version and configuration of every node
	 * @return the running cluster
	 */
	public static RedisCluster startCluster(int masters, int replicasPerMaster, RedisServerSpec spec) {
		return RedisCluster.start(masters, replicasPerMaster, spec);
	}

	/**
	 * Start a Redis Sentinel group of one master, one replica and three Sentinels from
	 * {@link RedisServerSpec#defaults()}.
	 * @param masterName the name the Sentinels monitor the master by, such as {@code mymaster}
	 * @return the running group
	 * @see #startSentinelGroup(String, int, RedisServerSpec)
	 */
	public static RedisSentinelGroup startSentinelGroup(String masterName) {
		return startSentinelGroup(masterName, 1, RedisServerSpec.defaults());
	}

	/**
	 * Start a Redis Sentinel group: a master and the given number of replicas, each a server as the spec says
	 * (with its password as {@code masterauth} too), then three Sentinels ({@code redis-server <file>
	 * --sentinel}) that monitor the master with quorum 2; wait until the replicas are in sync and the Sentinels
	 * know the replicas and each other. Every member runs as a child process, never in Docker.
	 * @param masterName the name the Sentinels monitor the master by: letters, digits, '.', '_' or '-'
	 * @param replicas the number of replicas, 0 or more (at least 1 for a failover)
	 * @param spec the version and configuration of the master and the replicas; Sentinels get only its
	 * version and command timeout
	 * @return the running group
	 * @throws IllegalStateException if no {@code redis-server} of the version can run as a child process, or
	 * the group does not form; see {@link #isSentinelGroupAvailable(RedisVersion)}
	 */
	public static RedisSentinelGroup startSentinelGroup(String masterName, int replicas, RedisServerSpec spec) {
		return RedisSentinelGroup.start(masterName, replicas, spec);
	}

	/**
	 * Whether some backend can run the given version on this machine, honouring
	 * {@value RedisBackend#PROPERTY}. The first call may take about half a second to ask Docker.
	 * @param version the version
	 * @return whether servers of that version can be started
	 */
	public static boolean isAvailable(RedisVersion version) {
		return BackendSelector.isAvailable(version);
	}

	/**
	 * Whether a {@linkplain #startSentinelGroup(String, int, RedisServerSpec) Sentinel group} of the given
	 * version can run on this machine: whether a {@code redis-server} of that version (on the PATH, or the
	 * embedded-redis one) can run as a child process, honouring {@value RedisBackend#PROPERTY}.
	 * @param version the version
	 * @return whether Sentinel groups of that version can be started
	 */
	public static boolean isSentinelGroupAvailable(RedisVersion version) {
		return BackendSelector.isAvailable(version, true);
	}

	private static Path createDirectory() {
		try {
			return Files.createTempDirectory("stream-lease-redis-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not create a temporary directory for Redis", ex);
		}
	}

}
