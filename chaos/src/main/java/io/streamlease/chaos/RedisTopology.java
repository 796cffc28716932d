package io.streamlease.chaos;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.streamlease.test.redis.RedisServer;

/**
 * The Redis of one run as the harness sees it: where its master is (the harness's own clients follow it), how the
 * sample instances connect to it, and what can be done to it. A standalone server can be frozen, restarted and
 * wiped; a Sentinel group can lose its master and fail over.
 */
interface RedisTopology extends AutoCloseable {

	/** For the report and the logs, such as {@code Redis 7.0.15 on 127.0.0.1:40123}. */
	String describe();

	/** The address of the master now; may throw {@link java.io.UncheckedIOException} while nobody can tell. */
	Supplier<InetSocketAddress> master();

	/** Whether the harness's clients must check that they talk to the master (a Sentinel group). */
	boolean followsMaster();

	/**
	 * Whether replication can lose acknowledged writes in a failover, so that the feeder, as a careful producer,
	 * waits for a replica after each session ({@code WAIT}).
	 */
	boolean replicated();

	/** The {@code --spring.data.redis.*} arguments of a sample instance. */
	List<String> connectionArguments();

	/**
	 * The standalone server, for the Redis faults that freeze, restart or wipe it.
	 * @throws UnsupportedOperationException for a Sentinel group
	 */
	RedisServer server();

	/**
	 * Every server of the topology, named for its role as started (such as {@code master-40123},
	 * {@code sentinel-40125}), so that their logs can be kept with the run's.
	 */
	Map<String, RedisServer> servers();

	/**
	 * Kills the master (SIGKILL) and waits until the Sentinels have promoted a replica.
	 * @return when the new master was reported (epoch millis)
	 * @throws UnsupportedOperationException for a standalone server
	 */
	Failover failOver();

	/**
	 * A failover as it happened.
	 *
	 * @param oldMaster the address of the killed master
	 * @param newMaster the address of the promoted replica
	 * @param killedMillis when the master was killed
	 * @param promotedMillis when the Sentinels reported the new master
	 */
	record Failover(String oldMaster, String newMaster, long killedMillis, long promotedMillis) {
	}

	@Override
	void close();

}
