package io.streamlease.autoconfigure;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnection;
import org.redisson.connection.ClientConnectionsEntry;
import org.redisson.connection.ConnectionsHolder;
import org.redisson.connection.MasterSlaveEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the connection pool gauges of Stream Lease's Redisson clients ({@link StreamLeaseMeters}
 * {@code stream.lease.redis.connections.*}, tag {@code client}). Redisson has no public pool statistics, so the
 * gauges read its connection holders; if those internals are not there (another Redisson version), they read NaN.
 */
final class RedissonPoolMeters {

	private static final Logger logger = LoggerFactory.getLogger(RedissonPoolMeters.class);

	private RedissonPoolMeters() {
	}

	static void register(MeterRegistry registry, StreamLeaseRedis redis) {
		if (redis.getLeaseClient() == redis.getDataClient()) {
			register(registry, redis.getLeaseClient(), redis.isOwned() ? "lease" : "shared");
		}
		else {
			register(registry, redis.getLeaseClient(), "lease");
			register(registry, redis.getDataClient(), "data");
		}
	}

	private static void register(MeterRegistry registry, RedissonClient client, String tag) {
		gauge(registry, StreamLeaseMeters.REDIS_CONNECTIONS_ACTIVE, "Pooled Redis connections taken by a command",
				client, tag, (usage) -> usage.active);
		gauge(registry, StreamLeaseMeters.REDIS_CONNECTIONS_IDLE, "Pooled Redis connections open and free", client,
				tag, (usage) -> usage.idle);
		gauge(registry, StreamLeaseMeters.REDIS_CONNECTIONS_PENDING, "Commands waiting for a free pooled Redis connection",
				client, tag, (usage) -> usage.pending);
	}

	private static void gauge(MeterRegistry registry, String name, String description, RedissonClient client, String tag,
			ToDoubleFunction<Usage> value) {
		Gauge.builder(name, client, (redisson) -> {
			Usage usage = usage(redisson);
			return (usage != null) ? value.applyAsDouble(usage) : Double.NaN;
		}).description(description).tag(StreamLeaseMeters.CLIENT, tag).register(registry);
	}

	/** The pools' use summed over every node of the client, or null when it cannot be read. */
	static Usage usage(RedissonClient client) {
		if (!(client instanceof Redisson redisson) || client.isShutdown()) {
			return null;
		}
		try {
			Usage usage = new Usage();
			Map<ClientConnectionsEntry, Boolean> seen = new IdentityHashMap<>();
			for (MasterSlaveEntry node : redisson.getCommandExecutor().getConnectionManager().getEntrySet()) {
				if (node.getEntry() != null) {
					seen.put(node.getEntry(), true);
				}
				for (ClientConnectionsEntry entry : node.getAllEntries()) {
					seen.put(entry, true);
				}
			}
			for (ClientConnectionsEntry entry : seen.keySet()) {
				ConnectionsHolder<RedisConnection> holder = entry.getConnectionsHolder();
				int all = holder.getAllConnections().size();
				int free = holder.getFreeConnections().size();
				usage.active += Math.max(0, all - free);
				usage.idle += free;
				usage.pending += holder.getFreeConnectionsCounter().queueSize();
			}
			return usage;
		}
		catch (RuntimeException | LinkageError ex) {
			logger.debug("Could not read the connection pools of a Redisson client", ex);
			return null;
		}
	}

	/** Connections taken, free, and commands waiting for one. */
	static final class Usage {

		int active;

		int idle;

		int pending;

	}

}
