package io.streamlease.chaos;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;

/**
 * One Redis server started for the run, with the append-only file on (so that a restart keeps the data, and a wipe
 * has files to delete) and {@code notify-keyspace-events ""} (instances with {@code keyspace-notifications=auto}
 * turn the events on, those with {@code off} never do).
 */
final class StandaloneTopology implements RedisTopology {

	private final RedisServer server;

	StandaloneTopology() {
		this.server = RedisServers.start(RedisServerSpec.defaults().appendOnly(true).config("notify-keyspace-events", ""));
	}

	@Override
	public String describe() {
		return "Redis " + this.server.version() + " on " + this.server.host() + ":" + this.server.port() + " ("
				+ this.server.backend().name().toLowerCase(java.util.Locale.ROOT) + ", appendonly)";
	}

	@Override
	public Supplier<InetSocketAddress> master() {
		InetSocketAddress address = new InetSocketAddress(this.server.host(), this.server.port());
		return () -> address;
	}

	@Override
	public boolean followsMaster() {
		return false;
	}

	@Override
	public boolean replicated() {
		return false;
	}

	@Override
	public List<String> connectionArguments() {
		return List.of("--spring.data.redis.host=" + this.server.host(), "--spring.data.redis.port=" + this.server.port());
	}

	@Override
	public RedisServer server() {
		return this.server;
	}

	@Override
	public Map<String, RedisServer> servers() {
		return Map.of("server-" + this.server.port(), this.server);
	}

	@Override
	public Failover failOver() {
		throw new UnsupportedOperationException("A standalone Redis cannot fail over; run with the Sentinel topology");
	}

	@Override
	public void close() {
		this.server.close();
	}

}
