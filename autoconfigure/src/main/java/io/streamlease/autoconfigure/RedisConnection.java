package io.streamlease.autoconfigure;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.redisson.config.BaseConfig;
import org.redisson.config.BaseMasterSlaveServersConfig;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;
import org.redisson.config.SentinelServersConfig;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.util.StringUtils;

/**
 * Where and how to connect to Redis, from Spring Boot's standard settings ({@code spring.data.redis.*} or a
 * {@code DataRedisConnectionDetails} bean), turned into a Redisson configuration for the engine's own client.
 *
 * @param nodes "host:port" of the standalone server, the cluster nodes, or the sentinels
 * @param mode standalone, cluster or sentinel
 * @param sentinelMaster the sentinel master name
 * @param username the ACL user, or null
 * @param password the password, or null
 * @param database the database (standalone and sentinel)
 * @param ssl whether to use TLS
 * @param sslBundle the TLS bundle (trust and key material), or null for the JVM defaults
 * @param timeout the command timeout, or null for the default
 * @param connectTimeout the connect timeout, or null for the default
 * @param clientName the client name, or null
 * @param sentinelUsername the user of the sentinels, or null
 * @param sentinelPassword the password of the sentinels, or null
 */
record RedisConnection(List<String> nodes, Mode mode, String sentinelMaster, String username, String password,
		int database, boolean ssl, SslBundle sslBundle, Duration timeout, Duration connectTimeout, String clientName,
		String sentinelUsername, String sentinelPassword) {

	enum Mode {

		STANDALONE, CLUSTER, SENTINEL

	}

	/**
	 * What a client built by the starter is for; each gets its own connection pool (per node).
	 */
	enum Role {

		/** The engines' client: renewals and the other lease scripts, the LBS reader, fenced writes. */
		LEASE("lease", 8, 64),

		/** Data traffic: the entry reader's XREADs and notifications, the producer template. */
		DATA("data", 4, 64);

		private final String tag;

		private final int minimumIdle;

		private final int poolSize;

		Role(String tag, int minimumIdle, int poolSize) {
			this.tag = tag;
			this.minimumIdle = minimumIdle;
			this.poolSize = poolSize;
		}

		/** The value of the meters' {@code client} tag. */
		String tag() {
			return this.tag;
		}

		/** Connections kept open per node. */
		int minimumIdle() {
			return this.minimumIdle;
		}

		/** Connections at most per node. */
		int poolSize() {
			return this.poolSize;
		}

	}

	/**
	 * The spring.data.redis properties as bound from the environment (used when no connection details bean exists).
	 */
	record Properties(String url, String host, Integer port, String username, String password, Integer database,
			Duration timeout, Duration connectTimeout, String clientName, Ssl ssl, Cluster cluster, Sentinel sentinel) {

		record Ssl(Boolean enabled, String bundle) {
		}

		record Cluster(List<String> nodes) {
		}

		record Sentinel(String master, List<String> nodes, String username, String password) {
		}

	}

	static RedisConnection fromProperties(Properties p, java.util.function.Function<String, SslBundle> bundles) {
		Properties properties = (p != null) ? p
				: new Properties(null, null, null, null, null, null, null, null, null, null, null, null);
		String username = properties.username();
		String password = properties.password();
		String host = StringUtils.hasText(properties.host()) ? properties.host() : "localhost";
		int port = (properties.port() != null) ? properties.port() : 6379;
		int database = (properties.database() != null) ? properties.database() : 0;
		boolean ssl = properties.ssl() != null
				&& (Boolean.TRUE.equals(properties.ssl().enabled()) || StringUtils.hasText(properties.ssl().bundle()));
		if (StringUtils.hasText(properties.url())) {
			URI uri = URI.create(properties.url());
			ssl = ssl || "rediss".equals(uri.getScheme());
			host = uri.getHost();
			port = (uri.getPort() > 0) ? uri.getPort() : 6379;
			if (uri.getUserInfo() != null) {
				String info = uri.getUserInfo();
				int colon = info.indexOf(':');
				if (colon >= 0) {
					username = StringUtils.hasText(info.substring(0, colon)) ? info.substring(0, colon) : username;
					password = info.substring(colon + 1);
				}
				else {
					password = info;
				}
			}
			if (StringUtils.hasText(uri.getPath()) && uri.getPath().length() > 1) {
				database = Integer.parseInt(uri.getPath().substring(1));
			}
		}
		SslBundle bundle = (ssl && properties.ssl() != null && StringUtils.hasText(properties.ssl().bundle()))
				? bundles.apply(properties.ssl().bundle()) : null;
		if (properties.sentinel() != null && StringUtils.hasText(properties.sentinel().master())) {
			return new RedisConnection(properties.sentinel().nodes(), Mode.SENTINEL, properties.sentinel().master(),
					username, password, database, ssl, bundle, properties.timeout(), properties.connectTimeout(),
					properties.clientName(), properties.sentinel().username(), properties.sentinel().password());
		}
		if (properties.cluster() != null && properties.cluster().nodes() != null && !properties.cluster().nodes().isEmpty()) {
			return new RedisConnection(properties.cluster().nodes(), Mode.CLUSTER, null, username, password, 0, ssl,
					bundle, properties.timeout(), properties.connectTimeout(), properties.clientName(), null, null);
		}
		return new RedisConnection(List.of(host + ":" + port), Mode.STANDALONE, null, username, password, database, ssl,
				bundle, properties.timeout(), properties.connectTimeout(), properties.clientName(), null, null);
	}

	/**
	 * The default command timeout of the engine's own client: 3 s, or half of hb-interval when that is longer.
	 * Connecting, reading the LBS, acquiring and checkpoints use it; a renewal gets its own, shorter timeout
	 * (bounded by the lease, see the engine's renewal-timeout).
	 */
	static Duration defaultTimeout(Duration hbInterval) {
		Duration half = hbInterval.dividedBy(2);
		return (half.compareTo(Duration.ofSeconds(3)) > 0) ? half : Duration.ofSeconds(3);
	}

	/**
	 * A Redisson configuration for this connection. The command timeout is {@code spring.data.redis.timeout}, else
	 * {@link #defaultTimeout(Duration)}; the client connects lazily (on its first command, so that a Redis that is
	 * down or slow never fails the creation of the client: the engine retries) and does not retry by itself (the
	 * engine retries with its own back-off, and a script must not run twice because its reply was late).
	 */
	Config toRedissonConfig(Duration hbInterval) {
		return toRedissonConfig(hbInterval, Role.LEASE);
	}

	/**
	 * A Redisson configuration for this connection and role: as {@link #toRedissonConfig(Duration)}, with the
	 * role's connection pool ({@link Role#minimumIdle()} to {@link Role#poolSize()} connections per node); a
	 * configured client name is the lease client's, and the data client's with {@code -data} appended, so that
	 * {@code CLIENT LIST} tells them apart.
	 */
	Config toRedissonConfig(Duration hbInterval, Role role) {
		Config config = new Config();
		config.setLazyInitialization(true);
		int timeout = (int) ((this.timeout != null) ? this.timeout : defaultTimeout(hbInterval)).toMillis();
		BaseConfig<?> base = switch (this.mode) {
			case CLUSTER -> config.useClusterServers().addNodeAddress(addresses());
			case SENTINEL -> {
				SentinelServersConfig sentinel = config.useSentinelServers()
					.setMasterName(this.sentinelMaster)
					.setDatabase(this.database)
					.addSentinelAddress(addresses())
					.setCheckSentinelsList(false);
				if (StringUtils.hasText(this.sentinelUsername)) {
					sentinel.setSentinelUsername(this.sentinelUsername);
				}
				if (StringUtils.hasText(this.sentinelPassword)) {
					sentinel.setSentinelPassword(this.sentinelPassword);
				}
				yield sentinel;
			}
			case STANDALONE -> config.useSingleServer()
				.setAddress(addresses()[0])
				.setDatabase(this.database)
				.setConnectionMinimumIdleSize(role.minimumIdle())
				.setConnectionPoolSize(role.poolSize());
		};
		if (base instanceof BaseMasterSlaveServersConfig<?> masterSlave) {
			// reads from the master: a replica's lag would hide an entry whose xadd event already arrived
			masterSlave.setReadMode(ReadMode.MASTER)
				.setMasterConnectionMinimumIdleSize(role.minimumIdle())
				.setMasterConnectionPoolSize(role.poolSize())
				.setSlaveConnectionMinimumIdleSize(role.minimumIdle())
				.setSlaveConnectionPoolSize(role.poolSize());
		}
		base.setTimeout(timeout).setRetryAttempts(0);
		if (this.connectTimeout != null) {
			base.setConnectTimeout((int) this.connectTimeout.toMillis());
		}
		if (StringUtils.hasText(this.username)) {
			config.setUsername(this.username);
		}
		if (StringUtils.hasText(this.password)) {
			config.setPassword(this.password);
		}
		if (StringUtils.hasText(this.clientName)) {
			base.setClientName(this.clientName + ((role == Role.LEASE) ? "" : "-" + role.tag()));
		}
		if (this.sslBundle != null) {
			if (this.sslBundle.getManagers().getTrustManagerFactory() != null) {
				base.setSslTrustManagerFactory(this.sslBundle.getManagers().getTrustManagerFactory());
			}
			if (this.sslBundle.getStores() != null && this.sslBundle.getStores().getKeyStore() != null) {
				base.setSslKeyManagerFactory(this.sslBundle.getManagers().getKeyManagerFactory());
			}
		}
		return config;
	}

	private String[] addresses() {
		List<String> addresses = new ArrayList<>();
		for (String node : this.nodes) {
			addresses.add((this.ssl ? "rediss://" : "redis://") + node);
		}
		return addresses.toArray(String[]::new);
	}

	@Override
	public String toString() {
		return "RedisConnection[" + this.mode + " " + this.nodes + ", ssl " + this.ssl + ", user "
				+ (StringUtils.hasText(this.username) ? this.username : "default") + ", password "
				+ (StringUtils.hasText(this.password) ? "(set)" : "(none)") + "]";
	}

}
