package io.streamlease.chaos;

import java.util.Arrays;
import java.util.List;

/**
 * The faults the harness injects. Keyspace notifications off is not a fault of its own but a setting of the whole
 * fleet ({@link ChaosSettings#keyspaceNotifications()}), combined with these.
 */
enum FaultKind {

	/** SIGKILL of a random instance mid-work; a new process with the same consumer id replaces it. */
	KILL("kill -9 an instance", Target.INSTANCE),

	/**
	 * SIGSTOP of a random instance for {@link ChaosSettings#instancePause()} (more than 3 x hb-interval), then
	 * SIGCONT: it must find itself disowned and stop acting on the streams it held.
	 */
	PAUSE_INSTANCE("SIGSTOP an instance > 3 x hb", Target.INSTANCE),

	/** SIGTERM of a random instance: it hands its streams off and peers claim them at once; then restarted. */
	GRACEFUL_STOP("graceful stop (SIGTERM, handoff)", Target.INSTANCE),

	/** SIGSTOP of Redis for {@link ChaosSettings#redisPause()} (3 x hb-interval), then SIGCONT. */
	PAUSE_REDIS("Redis SIGSTOP 3 x hb", Target.STANDALONE_REDIS),

	/** SIGSTOP of Redis for {@link ChaosSettings#redisLongPause()} (30 s), then SIGCONT. */
	LONG_PAUSE_REDIS("Redis SIGSTOP 30 s", Target.STANDALONE_REDIS),

	/** Redis stopped (SIGTERM), down for {@link ChaosSettings#redisDowntime()}, started again with its AOF. */
	RESTART_REDIS("Redis restart (AOF)", Target.STANDALONE_REDIS),

	/**
	 * Redis killed (SIGKILL), its append-only files deleted, started again after {@link ChaosSettings#redisDowntime()}
	 * with nothing: as a Redis without persistence that crashed. Only sessions submitted after it can be verified
	 * (those finished before it are verified from what the harness read just before the kill).
	 */
	WIPE_REDIS("Redis SIGKILL, restart without persistence", Target.STANDALONE_REDIS),

	/** The master of a Sentinel group killed (SIGKILL) mid-work; the Sentinels promote its replica. */
	SENTINEL_FAILOVER("Sentinel failover (master SIGKILL)", Target.SENTINEL_MASTER),

	/** A burst of malformed LBS entries of every kind, in the middle of valid ones. */
	MALFORMED_BURST("malformed LBS entries", Target.LBS);

	/**
	 * What a fault hits.
	 */
	enum Target {

		/** One instance (which then needs a survivor). */
		INSTANCE,

		/** The standalone server. */
		STANDALONE_REDIS,

		/** The master of a Sentinel group. */
		SENTINEL_MASTER,

		/** The LBS, with bad entries. */
		LBS

	}

	private final String description;

	private final Target target;

	FaultKind(String description, Target target) {
		this.description = description;
		this.target = target;
	}

	String description() {
		return this.description;
	}

	/** Whether it takes Redis away (two of those cannot be combined). */
	boolean redisFault() {
		return this.target == Target.STANDALONE_REDIS || this.target == Target.SENTINEL_MASTER;
	}

	/** Whether it hits one instance (which then needs a survivor). */
	boolean instanceFault() {
		return this.target == Target.INSTANCE;
	}

	/** Whether the topology supports it. */
	boolean appliesTo(ChaosSettings.Topology topology) {
		return switch (this.target) {
			case STANDALONE_REDIS -> topology == ChaosSettings.Topology.STANDALONE;
			case SENTINEL_MASTER -> topology == ChaosSettings.Topology.SENTINEL;
			default -> true;
		};
	}

	/** The faults a soak on the topology draws from. */
	static List<FaultKind> mixFor(ChaosSettings.Topology topology) {
		return Arrays.stream(values()).filter((kind) -> kind.appliesTo(topology)).toList();
	}

}
