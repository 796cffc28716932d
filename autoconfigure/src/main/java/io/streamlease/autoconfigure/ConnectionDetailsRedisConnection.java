package io.streamlease.autoconfigure;

import java.time.Duration;
import java.util.List;

import io.streamlease.StreamLeaseException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails;

/**
 * Reads a {@link DataRedisConnectionDetails} bean (what Spring Boot builds from {@code spring.data.redis.*}, and
 * what Testcontainers {@code @ServiceConnection} and Docker Compose provide). Only loaded when Spring Boot's
 * data-redis module is on the class path.
 */
final class ConnectionDetailsRedisConnection {

	private ConnectionDetailsRedisConnection() {
	}

	/**
	 * The connection of the application's {@link DataRedisConnectionDetails} bean, or null if it has none.
	 */
	static RedisConnection find(BeanFactory beanFactory, RedisConnection.Properties properties) {
		DataRedisConnectionDetails details = beanFactory.getBeanProvider(DataRedisConnectionDetails.class).getIfAvailable();
		return (details != null) ? from(details, properties) : null;
	}

	static RedisConnection from(DataRedisConnectionDetails details, RedisConnection.Properties properties) {
		boolean ssl = details.getSslBundle() != null || (properties != null && properties.ssl() != null
				&& Boolean.TRUE.equals(properties.ssl().enabled()));
		Duration timeout = (properties != null) ? properties.timeout() : null;
		Duration connectTimeout = (properties != null) ? properties.connectTimeout() : null;
		String clientName = (properties != null) ? properties.clientName() : null;
		if (details.getSentinel() != null) {
			DataRedisConnectionDetails.Sentinel sentinel = details.getSentinel();
			return new RedisConnection(nodes(sentinel.getNodes()), RedisConnection.Mode.SENTINEL, sentinel.getMaster(),
					details.getUsername(), details.getPassword(), sentinel.getDatabase(), ssl, details.getSslBundle(),
					timeout, connectTimeout, clientName, sentinel.getUsername(), sentinel.getPassword());
		}
		if (details.getCluster() != null) {
			return new RedisConnection(nodes(details.getCluster().getNodes()), RedisConnection.Mode.CLUSTER, null,
					details.getUsername(), details.getPassword(), 0, ssl, details.getSslBundle(), timeout, connectTimeout,
					clientName, null, null);
		}
		if (details.getMasterReplica() != null) {
			throw new StreamLeaseException("The Redis connection details describe a master/replica setup, which Stream Lease "
					+ "cannot build a client for: define a RedissonClient bean (useMasterSlaveServers) for the engine");
		}
		DataRedisConnectionDetails.Standalone standalone = details.getStandalone();
		return new RedisConnection(List.of(standalone.getHost() + ":" + standalone.getPort()),
				RedisConnection.Mode.STANDALONE, null, details.getUsername(), details.getPassword(),
				standalone.getDatabase(), ssl, details.getSslBundle(), timeout, connectTimeout, clientName, null, null);
	}

	private static List<String> nodes(List<DataRedisConnectionDetails.Node> nodes) {
		return nodes.stream().map((node) -> node.host() + ":" + node.port()).toList();
	}

}
