package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a test needs from a Redis server: its version, persistence, password and extra configuration. Specs
 * are immutable; every method returns a modified copy, so one spec can be shared between tests.
 *
 * <pre class="code">
 * RedisServerSpec.defaults().version(RedisVersion.V6_2).config("notify-keyspace-events", "").appendOnly(true);
 * </pre>
 */
public final class RedisServerSpec {

	private static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);

	private static final Set<String> RESERVED = Set.of("port", "bind", "dir", "logfile", "daemonize",
			"appendonly", "requirepass", "cluster-enabled", "cluster-config-file");

	private final RedisVersion version;

	private final boolean appendOnly;

	private final String password;

	private final Map<String, String> config;

	private final Duration commandTimeout;

	private final boolean clusterNode;

	private final Map<String, List<String>> topologyConfig;

	private final List<String> sentinelConfig;

	private final boolean processOnly;

	private RedisServerSpec(RedisVersion version, boolean appendOnly, String password, Map<String, String> config,
			Duration commandTimeout, boolean clusterNode, Map<String, List<String>> topologyConfig,
			List<String> sentinelConfig, boolean processOnly) {
		this.version = version;
		this.appendOnly = appendOnly;
		this.password = password;
		this.config = Collections.unmodifiableMap(config);
		this.commandTimeout = commandTimeout;
		this.clusterNode = clusterNode;
		this.topologyConfig = Collections.unmodifiableMap(topologyConfig);
		this.sentinelConfig = sentinelConfig;
		this.processOnly = processOnly;
	}

	/**
	 * Return a spec for the {@linkplain RedisVersion#defaultVersion() default version}, without persistence,
	 * password or extra configuration, and with a command timeout of 2 seconds.
	 * @return the default spec
	 */
	public static RedisServerSpec defaults() {
		return new RedisServerSpec(RedisVersion.defaultVersion(), false, null, new LinkedHashMap<>(),
				DEFAULT_COMMAND_TIMEOUT, false, new LinkedHashMap<>(), null, false);
	}

	/**
	 * Return a copy for the given Redis version.
	 * @param version the release line to run
	 * @return the modified copy
	 */
	public RedisServerSpec version(RedisVersion version) {
		return new RedisServerSpec(Objects.requireNonNull(version, "version"), this.appendOnly, this.password,
				this.config, this.commandTimeout, this.clusterNode, this.topologyConfig, this.sentinelConfig,
				this.processOnly);
	}

	/**
	 * Return a copy with the append-only file on or off. Only with it on does data survive
	 * {@link RedisServer#stop()}, {@link RedisServer#kill()} and {@link RedisServer#restart()}: RDB snapshots
	 * are always off ({@code save ""}).
	 * @param appendOnly whether Redis writes an append-only file
	 * @return the modified copy
	 */
	public RedisServerSpec appendOnly(boolean appendOnly) {
		return new RedisServerSpec(this.version, appendOnly, this.password, this.config, this.commandTimeout,
				this.clusterNode, this.topologyConfig, this.sentinelConfig, this.processOnly);
	}

	/**
	 * Return a copy that requires the given password ({@code requirepass}). {@link RedisServer#command} then
	 * authenticates on its own; {@link RedisServer#uri()} does not contain the password.
	 * @param password the password, or {@code null} for none
	 * @return the modified copy
	 */
	public RedisServerSpec requirePass(String password) {
		return new RedisServerSpec(this.version, this.appendOnly, password, this.config, this.commandTimeout,
				this.clusterNode, this.topologyConfig, this.sentinelConfig, this.processOnly);
	}

	/**
	 * Return a copy with one more configuration directive, passed to {@code redis-server} as
	 * {@code --name value} after the defaults, so it can override them (for example {@code save}). The value
	 * is one argument and may be empty, as in {@code config("notify-keyspace-events", "")}.
	 * @param name the directive, without leading dashes; not one this library sets itself (port, bind, dir,
	 * logfile, daemonize, appendonly, requirepass, cluster-enabled, cluster-config-file)
	 * @param value the value
	 * @return the modified copy
	 */
	public RedisServerSpec config(String name, String value) {
		Objects.requireNonNull(name, "name");
		Objects.requireNonNull(value, "value");
		if (name.isBlank() || name.startsWith("-") || name.chars().anyMatch(Character::isWhitespace)) {
			throw new IllegalArgumentException("Redis configuration directive '" + name
					+ "' is not a plain directive name; pass it without dashes or spaces, e.g. \"maxmemory\"");
		}
		if (RESERVED.contains(name.toLowerCase(Locale.ROOT))) {
			throw new IllegalArgumentException("Redis configuration directive '" + name
					+ "' is set by RedisServers itself; use the dedicated RedisServerSpec method or none");
		}
		Map<String, String> copy = new LinkedHashMap<>(this.config);
		copy.put(name, value);
		return new RedisServerSpec(this.version, this.appendOnly, this.password, copy, this.commandTimeout,
				this.clusterNode, this.topologyConfig, this.sentinelConfig, this.processOnly);
	}

	/**
	 * Return a copy with the given connect and read timeout for {@link RedisServer#command}, which is how
	 * long a command waits on a {@linkplain RedisServer#pause() paused} server before failing.
	 * @param timeout a positive timeout
	 * @return the modified copy
	 */
	public RedisServerSpec commandTimeout(Duration timeout) {
		if (timeout == null || timeout.isNegative() || timeout.isZero()) {
			throw new IllegalArgumentException("Command timeout must be positive but was " + timeout);
		}
		return new RedisServerSpec(this.version, this.appendOnly, this.password, this.config, timeout,
				this.clusterNode, this.topologyConfig, this.sentinelConfig, this.processOnly);
	}

	/**
	 * A copy for a Redis Cluster node: {@code cluster-enabled yes} with {@code nodes.conf} in its directory and
	 * {@code cluster-node-timeout 2000} (a {@link #topologyConfig topology directive}, so
	 * {@link #config(String, String)} can override it).
	 */
	RedisServerSpec clusterNode() {
		return new RedisServerSpec(this.version, this.appendOnly, this.password, this.config, this.commandTimeout,
				true, this.topologyConfig, this.sentinelConfig, this.processOnly)
			.topologyConfig("cluster-node-timeout", "2000");
	}

	/**
	 * A copy with a directive that a cluster or Sentinel group sets for its members, such as
	 * {@code replicaof 127.0.0.1 <port>}. It replaces an earlier topology directive of the same name and is
	 * passed after the defaults but before the {@linkplain #config(String, String) test's own directives}, so
	 * those still win.
	 * @param name the directive, without leading dashes
	 * @param values its arguments, each passed as one argument (Redis 7 quotes them one by one)
	 */
	RedisServerSpec topologyConfig(String name, String... values) {
		Map<String, List<String>> copy = new LinkedHashMap<>(this.topologyConfig);
		copy.put(name, List.of(values));
		return new RedisServerSpec(this.version, this.appendOnly, this.password, this.config, this.commandTimeout,
				this.clusterNode, copy, this.sentinelConfig, this.processOnly);
	}

	/**
	 * A copy for a Sentinel: {@code redis-server <file> --sentinel}, where the file is written with the given
	 * lines into the server's directory before its first start and then belongs to the Sentinel, which
	 * rewrites it. Persistence, password and the test's own directives do not apply to a Sentinel. Sentinels
	 * run as child processes only.
	 * @param lines the lines of the Sentinel configuration file, such as
	 * {@code sentinel monitor <name> 127.0.0.1 <port> 2}
	 */
	RedisServerSpec sentinel(List<String> lines) {
		return new RedisServerSpec(this.version, false, null, new LinkedHashMap<>(), this.commandTimeout, false,
				new LinkedHashMap<>(), List.copyOf(lines), true);
	}

	/**
	 * A copy that must run as a child process, never in a container: for the members of a Sentinel group,
	 * which reach each other on 127.0.0.1 by the ports they listen on.
	 */
	RedisServerSpec processOnly() {
		return new RedisServerSpec(this.version, this.appendOnly, this.password, this.config, this.commandTimeout,
				this.clusterNode, this.topologyConfig, this.sentinelConfig, true);
	}

	RedisVersion version() {
		return this.version;
	}

	boolean isAppendOnly() {
		return this.appendOnly;
	}

	String password() {
		return this.password;
	}

	Duration commandTimeout() {
		return this.commandTimeout;
	}

	boolean isClusterNode() {
		return this.clusterNode;
	}

	boolean isSentinel() {
		return this.sentinelConfig != null;
	}

	/**
	 * The lines of the Sentinel configuration file, or {@code null} if this is not a Sentinel.
	 */
	List<String> sentinelConfig() {
		return this.sentinelConfig;
	}

	boolean isProcessOnly() {
		return this.processOnly;
	}

	/**
	 * The settings every backend passes to {@code redis-server} after its own network, directory and log
	 * arguments, as {@code --name value} pairs: the defaults, then the topology directives, then the test's
	 * own directives.
	 */
	List<String> settings() {
		if (isSentinel()) {
			return List.of("--sentinel", "--protected-mode", "no");
		}
		List<String> args = new ArrayList<>(List.of("--protected-mode", "no", "--save", "", "--appendonly",
				this.appendOnly ? "yes" : "no"));
		if (this.password != null) {
			args.addAll(List.of("--requirepass", this.password));
		}
		if (this.clusterNode) {
			args.addAll(List.of("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"));
		}
		this.topologyConfig.forEach((name, values) -> {
			args.add("--" + name);
			args.addAll(values);
		});
		this.config.forEach((name, value) -> args.addAll(List.of("--" + name, value)));
		return args;
	}

	@Override
	public String toString() {
		return "RedisServerSpec[version=" + this.version.label() + ", appendOnly=" + this.appendOnly
				+ ", password=" + ((this.password != null) ? "****" : "none") + ", config=" + this.config
				+ ", commandTimeout=" + this.commandTimeout + "]";
	}

}
