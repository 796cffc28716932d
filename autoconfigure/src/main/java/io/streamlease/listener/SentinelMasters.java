package io.streamlease.listener;

import java.net.InetSocketAddress;

import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisMaster;
import org.redisson.api.redisnode.RedisNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the application's writes (through the data client) and the engine's fenced writes (through the lease
 * client) reach the same Redis master, checked before a checkpoint or a finish makes a handler's work final.
 * <p>
 * In Sentinel mode each Redisson client follows the Sentinels by itself, so after a failover the two clients of one
 * instance can use different masters for a second or more; meanwhile a restarted old master answers as a master,
 * with stale data, until the Sentinels demote it, and everything written to it then is lost. A handler's writes
 * there followed by a finish on the new master would lose the handler's work although every step succeeded. So a
 * checkpoint or finish is refused when the data client's master is not the lease client's, or when the data client
 * changed masters since the work began (its earlier writes may be on the old one).
 * <p>
 * The check reads each client's routing table (the master entry its writes go to, replaced by a new one on every
 * switch): no Redis command. Only two distinct clients in Sentinel mode are checked; one shared client, a
 * standalone server or a cluster cannot split this way ({@link #NONE}).
 */
class SentinelMasters {

	/** For clients that cannot disagree: every write is allowed. */
	static final SentinelMasters NONE = new SentinelMasters(null, null);

	private static final Logger logger = LoggerFactory.getLogger(SentinelMasters.class);

	private final RedissonClient data;

	private final RedissonClient lease;

	/** The data client's master last seen, so that every run started on it shares one object. */
	private volatile RedisMaster lastDataMaster;

	/** The last split logged at WARN (later refusals of the same split are logged at DEBUG). */
	private volatile String lastWarned;

	private SentinelMasters(RedissonClient data, RedissonClient lease) {
		this.data = data;
		this.lease = lease;
	}

	/**
	 * @param data the client of the application's data and the entry reads
	 * @param lease the client of the engine's scripts
	 */
	static SentinelMasters of(RedissonClient data, RedissonClient lease) {
		if (data == null || lease == null || data == lease || !data.getConfig().isSentinelConfig()
				|| !lease.getConfig().isSentinelConfig()) {
			return NONE;
		}
		return new SentinelMasters(data, lease);
	}

	/**
	 * Where the data client writes now: taken when a handler's work starts (a run, or the entries after a
	 * checkpoint), and passed to {@link #split(Object)} before that work is made final. Null when not checked, or
	 * while the data client has no master yet (it connects on its first command).
	 */
	Object dataMaster() {
		if (this.data == null) {
			return null;
		}
		RedisMaster current = master(this.data);
		RedisMaster last = this.lastDataMaster;
		if (current == null || current.equals(last)) {
			return (current != null) ? last : null;
		}
		this.lastDataMaster = current;
		return current;
	}

	/**
	 * Why a checkpoint or finish of work begun at {@code since} must not be written now, or null when it may: the
	 * data client changed masters since, or it uses another master than the lease client.
	 * @param since what {@link #dataMaster()} returned when the work began
	 */
	String split(Object since) {
		if (this.data == null) {
			return null;
		}
		RedisMaster data = master(this.data);
		RedisMaster lease = master(this.lease);
		if (data == null || lease == null) {
			// a client without a master has written nothing (and the lease client has just written)
			return null;
		}
		String reason = null;
		if (since != null && !since.equals(data)) {
			reason = "the data client switched masters from " + address(((RedisMaster) since).getAddr()) + " to "
					+ address(data.getAddr()) + " while the handler worked (its writes may be on the old master)";
		}
		else if (!data.getAddr().equals(lease.getAddr())) {
			reason = "the data client uses master " + address(data.getAddr()) + " while the lease client uses "
					+ address(lease.getAddr()) + " (they follow the Sentinels independently; a restarted old master "
					+ "answers as a master until the Sentinels demote it, and loses what was written to it)";
		}
		return reason;
	}

	/**
	 * Logs a refused checkpoint or finish: at WARN once per split, at DEBUG for the other streams it holds up.
	 */
	void logRefused(String what, String stream, String reason) {
		if (!reason.equals(this.lastWarned)) {
			this.lastWarned = reason;
			logger.warn("Not {} stream '{}' for now: {}. The stream is handed off and runs again from its last "
					+ "checkpoint once both clients use the same master (nothing is finished, nothing is lost, no "
					+ "attempt is counted); other streams held up by this split are logged at DEBUG", what, stream,
					reason);
		}
		else {
			logger.debug("Not {} stream '{}' for now: {}", what, stream, reason);
		}
	}

	private static RedisMaster master(RedissonClient client) {
		try {
			return client.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster();
		}
		catch (RuntimeException ex) {
			// shut down, or not initialised: nothing to compare
			return null;
		}
	}

	private static String address(InetSocketAddress address) {
		return address.getHostString() + ":" + address.getPort();
	}

}
