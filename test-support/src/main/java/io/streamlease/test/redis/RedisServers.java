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
 * property {@value RedisBackend#PROPERTY} forces one. When no backend can provide the version, the start
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
		return RedisCluster.start(masters, spec);
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

	private static Path createDirectory() {
		try {
			return Files.createTempDirectory("stream-lease-redis-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not create a temporary directory for Redis", ex);
		}
	}

}
