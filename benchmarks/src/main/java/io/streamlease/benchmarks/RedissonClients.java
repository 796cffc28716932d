package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.List;

import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;

/**
 * The one Redisson configuration every approach uses, so that differences come from the approach and not from
 * the client: 4 listener threads, 8 Netty threads, 8 to 32 connections, 10 s command timeout.
 */
final class RedissonClients {

	static final int THREADS = 4;

	static final int NETTY_THREADS = 8;

	static final int MIN_IDLE_CONNECTIONS = 8;

	static final int POOL_SIZE = 32;

	private RedissonClients() {
	}

	static RedissonClient create(String uri) {
		return create(uri, null, null);
	}

	/**
	 * A client for the server at {@code uri}; its requests are counted by {@code counter} (may be null), and its lock
	 * watchdog uses {@code watchdogTimeout} (null for Redisson's default).
	 */
	static RedissonClient create(String uri, CommandCounter counter, Duration watchdogTimeout) {
		Config config = new Config();
		config.setThreads(THREADS);
		config.setNettyThreads(NETTY_THREADS);
		if (counter != null) {
			config.setNettyHook(counter);
		}
		if (watchdogTimeout != null) {
			config.setLockWatchdogTimeout(watchdogTimeout.toMillis());
		}
		config.useSingleServer()
			.setAddress(uri)
			.setConnectionMinimumIdleSize(MIN_IDLE_CONNECTIONS)
			.setConnectionPoolSize(POOL_SIZE)
			.setSubscriptionConnectionMinimumIdleSize(1)
			.setTimeout(10_000)
			.setConnectTimeout(5_000)
			.setRetryAttempts(2)
			.setRetryInterval(200);
		return Redisson.create(config);
	}

	/**
	 * A client of the Redis Cluster whose masters are at {@code addresses} ({@code host:port}), with the same threads
	 * and connections per master as {@link #create(String, CommandCounter, Duration)}; reads go to the masters.
	 */
	static RedissonClient createCluster(List<String> addresses, CommandCounter counter) {
		Config config = new Config();
		config.setThreads(THREADS);
		config.setNettyThreads(NETTY_THREADS);
		if (counter != null) {
			config.setNettyHook(counter);
		}
		config.useClusterServers()
			.addNodeAddress(addresses.stream().map((address) -> "redis://" + address).toArray(String[]::new))
			.setReadMode(ReadMode.MASTER)
			.setMasterConnectionMinimumIdleSize(MIN_IDLE_CONNECTIONS)
			.setMasterConnectionPoolSize(POOL_SIZE)
			.setSlaveConnectionMinimumIdleSize(0)
			.setSubscriptionConnectionMinimumIdleSize(1)
			.setTimeout(10_000)
			.setConnectTimeout(5_000)
			.setRetryAttempts(2)
			.setRetryInterval(200);
		return Redisson.create(config);
	}

	static String describe() {
		return THREADS + " listener threads, " + NETTY_THREADS + " Netty threads, " + MIN_IDLE_CONNECTIONS + " to "
				+ POOL_SIZE + " connections, 10 s command timeout";
	}

}
