package io.streamlease.chaos;

/**
 * The faults the harness injects. Keyspace notifications off is not a fault of its own but a setting of the whole
 * fleet ({@link ChaosSettings#keyspaceNotifications()}), combined with these.
 */
enum FaultKind {

	/** SIGKILL of a random instance mid-work; a new process with the same consumer id replaces it. */
	KILL("kill -9 an instance", true),

	/**
	 * SIGSTOP of a random instance for {@link ChaosSettings#instancePause()} (more than 3 x hb-interval), then
	 * SIGCONT: it must find itself disowned and stop acting on the streams it held.
	 */
	PAUSE_INSTANCE("SIGSTOP an instance > 3 x hb", true),

	/** SIGTERM of a random instance: it hands its streams off and peers claim them at once; then restarted. */
	GRACEFUL_STOP("graceful stop (SIGTERM, handoff)", true),

	/** SIGSTOP of Redis for {@link ChaosSettings#redisPause()}, then SIGCONT. */
	PAUSE_REDIS("Redis SIGSTOP", false),

	/** Redis stopped (SIGTERM), down for {@link ChaosSettings#redisDowntime()}, started again with its AOF. */
	RESTART_REDIS("Redis restart (AOF)", false),

	/** A burst of malformed LBS entries of every kind, in the middle of valid ones. */
	MALFORMED_BURST("malformed LBS entries", false);

	private final String description;

	private final boolean instanceFault;

	FaultKind(String description, boolean instanceFault) {
		this.description = description;
		this.instanceFault = instanceFault;
	}

	String description() {
		return this.description;
	}

	/** Whether it stops Redis (two of those cannot be combined). */
	boolean redisFault() {
		return this == PAUSE_REDIS || this == RESTART_REDIS;
	}

	/** Whether it hits one instance (which then needs a survivor). */
	boolean instanceFault() {
		return this.instanceFault;
	}

}
