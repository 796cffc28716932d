package io.streamlease.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a chaos run is set up: the fleet of sample-app processes, the load, the Redis, and the size of each fault.
 *
 * @param sampleJar the sample-app jar to run
 * @param workDir where each run writes its instances' logs
 * @param instances how many sample-app processes run at once
 * @param hbInterval their {@code stream-lease.hb-interval} (lease TTL)
 * @param gracePeriod their {@code stream-lease.shutdown.grace-period}
 * @param keyspaceNotifications their {@code stream-lease.keyspace-notifications}: {@code auto}, or {@code off}
 * (then the harness also keeps {@code notify-keyspace-events} empty on the server, so the sweep alone recovers
 * orphans)
 * @param processingDelay their {@code sample.processing-delay} per entry, so that faults hit sessions mid-work
 * @param sessionsPerSecond how many sessions the feeder submits per second
 * @param minEvents fewest events per session
 * @param maxEvents most events per session
 * @param instancePause how long an instance stays stopped (SIGSTOP) before SIGCONT; more than 3 x hb-interval
 * @param redisPause how long Redis stays stopped (SIGSTOP) in a short freeze: 3 x hb-interval
 * @param redisLongPause how long Redis stays stopped in a long freeze: 30 s
 * @param redisDowntime how long Redis stays down between stop and start in a restart (or a wipe)
 * @param malformedBurst how many malformed LBS entries one burst writes
 * @param drainTimeout how long to wait for every submitted session to be finished
 * @param heap the instances' maximum heap ({@code -Xmx})
 * @param seed the seed of the session contents and of every random choice of the harness
 * @param topology a standalone Redis, or a Sentinel group (master, replica, three Sentinels)
 */
record ChaosSettings(Path sampleJar, Path workDir, int instances, Duration hbInterval, Duration gracePeriod,
		String keyspaceNotifications, Duration processingDelay, double sessionsPerSecond, int minEvents, int maxEvents,
		Duration instancePause, Duration redisPause, Duration redisLongPause, Duration redisDowntime, int malformedBurst,
		Duration drainTimeout, String heap, long seed, Topology topology) {

	/**
	 * The Redis a run starts.
	 */
	enum Topology {

		/** One server with the append-only file on. */
		STANDALONE,

		/** A master with one replica and three Sentinels; the instances connect through the Sentinels. */
		SENTINEL

	}

	/** The service of the sample application. */
	static final String SERVICE = "sessions";

	/** Its LBS. */
	static final String LBS = SERVICE + "-input";

	/** Its consumer group. */
	static final String GROUP = SERVICE + "-group";

	/** Its dead-letter stream. */
	static final String DEAD_LETTERS = "{" + LBS + "}:dead-letters";

	/** Its ownership records: stream → {@code <fencing token>:<session id>:<LBS entry id>}. */
	static final String OWNERS = "{" + LBS + "}:owners";

	/** Which consumer each session id belongs to. */
	static final String SESSION_CONSUMERS = "{" + LBS + "}:session-consumers";

	/** The current session id of each consumer. */
	static final String SESSIONS = "{" + LBS + "}:sessions";

	/** The audit stream the instances write to ({@code sample.audit.stream}). */
	static final String AUDIT = "chaos:audit";

	/** The instances' {@code stream-lease.max-entry-size}: small, so that an oversized entry is cheap to write. */
	static final String MAX_ENTRY_SIZE = "16KB";

	static final int MAX_ENTRY_BYTES = 16 * 1024;

	static String summaryKey(String stream) {
		return "summary:" + stream;
	}

	/**
	 * The defaults: 3 instances, hb-interval 2 s, 150 ms per entry, 6 sessions of 10 to 30 events per second, a
	 * standalone Redis; Redis frozen for 3 x hb-interval (short) or 30 s (long), down for 2 s in a restart.
	 */
	static ChaosSettings defaults(Path sampleJar, Path workDir) {
		Duration hb = Duration.ofSeconds(2);
		return new ChaosSettings(sampleJar, workDir, 3, hb, Duration.ofMillis(500), "auto", Duration.ofMillis(150), 6,
				10, 30, hb.multipliedBy(7).dividedBy(2), hb.multipliedBy(3), Duration.ofSeconds(30), Duration.ofSeconds(2),
				10, Duration.ofSeconds(120), "256m", 42, Topology.STANDALONE);
	}

	ChaosSettings withKeyspaceNotifications(String mode) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod, mode,
				this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents, this.instancePause,
				this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst, this.drainTimeout,
				this.heap, this.seed, this.topology);
	}

	ChaosSettings withSeed(long seed) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst,
				this.drainTimeout, this.heap, seed, this.topology);
	}

	ChaosSettings withInstances(int instances) {
		return new ChaosSettings(this.sampleJar, this.workDir, instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst,
				this.drainTimeout, this.heap, this.seed, this.topology);
	}

	ChaosSettings withSessionsPerSecond(double sessionsPerSecond) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst,
				this.drainTimeout, this.heap, this.seed, this.topology);
	}

	ChaosSettings withProcessingDelay(Duration processingDelay) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst,
				this.drainTimeout, this.heap, this.seed, this.topology);
	}

	ChaosSettings withTopology(Topology topology) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisLongPause, this.redisDowntime, this.malformedBurst,
				this.drainTimeout, this.heap, this.seed, topology);
	}

	boolean keyspaceOff() {
		return "off".equals(this.keyspaceNotifications);
	}

	/**
	 * The command line of one instance: the starter's defaults except hb-interval, the grace period, keyspace
	 * notifications and the entry size limit (retries are unlimited by default, so a Redis fault never ends an
	 * engine; the harness no longer sets {@code retry.max-retries}).
	 * @param redis the {@code --spring.data.redis.*} arguments ({@link RedisTopology#connectionArguments()})
	 */
	List<String> command(String java, List<String> redis, String consumerId) {
		List<String> command = new ArrayList<>(List.of(java, "-Xmx" + this.heap, "-XX:+UseSerialGC",
				"-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError", "-jar", this.sampleJar.toString()));
		command.addAll(List.of("--server.port=0", "--spring.main.banner-mode=off"));
		command.addAll(redis);
		command.addAll(List.of("--sample.producer.enabled=false", "--sample.embedded-redis.enabled=false",
				"--sample.processing-delay=" + this.processingDelay.toMillis() + "ms", "--sample.audit.enabled=true",
				"--sample.audit.stream=" + AUDIT, "--stream-lease.consumer-id=" + consumerId,
				"--stream-lease.hb-interval=" + this.hbInterval.toMillis() + "ms",
				"--stream-lease.shutdown.grace-period=" + this.gracePeriod.toMillis() + "ms",
				"--stream-lease.keyspace-notifications=" + this.keyspaceNotifications,
				"--stream-lease.max-entry-size=" + MAX_ENTRY_SIZE));
		return command;
	}

}
