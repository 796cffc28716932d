package io.streamlease.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.streamlease.test.redis.RedisSentinelGroup;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Sentinel group started for the run: a master with one replica (both with the append-only file on and
 * {@code notify-keyspace-events ""}) and three Sentinels. The instances connect through the Sentinels
 * ({@code spring.data.redis.sentinel.*}); the harness's own clients ask the Sentinels for the master on every
 * reconnection. A failover kills the master, waits until the Sentinels promoted the replica, and starts the killed
 * server again, as a restarted pod would: the Sentinels turn it into a replica of the new master some seconds later,
 * so that the next failover has a replica to promote.
 */
final class SentinelTopology implements RedisTopology {

	private static final Logger logger = LoggerFactory.getLogger(SentinelTopology.class);

	static final String MASTER_NAME = "chaos";

	private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(30);

	private final RedisSentinelGroup group;

	private final String version;

	SentinelTopology() {
		this.group = RedisServers.startSentinelGroup(MASTER_NAME, 1,
				RedisServerSpec.defaults().appendOnly(true).config("notify-keyspace-events", ""));
		this.version = this.group.master().version();
	}

	@Override
	public String describe() {
		return "Sentinel group '" + MASTER_NAME + "' of Redis " + this.version + " (master and 1 replica with "
				+ "appendonly, Sentinels " + this.group.sentinelAddresses() + "; the harness waits for a replica after "
				+ "each session it writes)";
	}

	@Override
	public Supplier<InetSocketAddress> master() {
		return () -> {
			try {
				RedisServer master = this.group.master();
				return new InetSocketAddress(master.host(), master.port());
			}
			catch (RuntimeException ex) {
				throw new UncheckedIOException(new IOException("no Sentinel reported the master: " + ex.getMessage(), ex));
			}
		};
	}

	@Override
	public boolean followsMaster() {
		return true;
	}

	@Override
	public boolean replicated() {
		return true;
	}

	@Override
	public List<String> connectionArguments() {
		return List.of("--spring.data.redis.sentinel.master=" + this.group.masterName(),
				"--spring.data.redis.sentinel.nodes=" + String.join(",", this.group.sentinelAddresses()));
	}

	@Override
	public RedisServer server() {
		throw new UnsupportedOperationException("The standalone Redis faults do not apply to a Sentinel group");
	}

	@Override
	public Map<String, RedisServer> servers() {
		Map<String, RedisServer> servers = new LinkedHashMap<>();
		List<RedisServer> dataNodes = this.group.dataNodes();
		for (int i = 0; i < dataNodes.size(); i++) {
			servers.put(((i == 0) ? "first-master-" : "first-replica-") + dataNodes.get(i).port(), dataNodes.get(i));
		}
		for (RedisServer sentinel : this.group.sentinels()) {
			servers.put("sentinel-" + sentinel.port(), sentinel);
		}
		return servers;
	}

	@Override
	public Failover failOver() {
		// the previous failover's old master must be a replica in sync again, or nothing can be promoted
		this.group.awaitReplicasInSync(FAILOVER_TIMEOUT);
		long killed = System.currentTimeMillis();
		RedisServer old = this.group.killMaster();
		RedisServer promoted = this.group.awaitFailover(FAILOVER_TIMEOUT);
		long promotedAt = System.currentTimeMillis();
		try {
			old.start();
		}
		catch (RuntimeException ex) {
			logger.warn("The killed master {}:{} did not start again: {}", old.host(), old.port(), ex.toString());
		}
		return new Failover(old.host() + ":" + old.port(), promoted.host() + ":" + promoted.port(), killed, promotedAt);
	}

	@Override
	public void close() {
		this.group.close();
	}

}
