package io.streamlease.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How a chaos run is set up: the fleet of sample-app processes, the load, and the size of each fault.
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
 * @param redisPause how long Redis stays stopped (SIGSTOP)
 * @param redisDowntime how long Redis stays down between stop and start in a restart
 * @param malformedBurst how many malformed LBS entries one burst writes
 * @param drainTimeout how long to wait for every submitted session to be finished
 * @param heap the instances' maximum heap ({@code -Xmx})
 * @param seed the seed of the session contents and of every random choice of the harness
 */
record ChaosSettings(Path sampleJar, Path workDir, int instances, Duration hbInterval, Duration gracePeriod,
		String keyspaceNotifications, Duration processingDelay, double sessionsPerSecond, int minEvents, int maxEvents,
		Duration instancePause, Duration redisPause, Duration redisDowntime, int malformedBurst, Duration drainTimeout,
		String heap, long seed) {

	/** The service of the sample application. */
	static final String SERVICE = "sessions";

	/** Its LBS. */
	static final String LBS = SERVICE + "-input";

	/** Its consumer group. */
	static final String GROUP = SERVICE + "-group";

	/** Its dead-letter stream. */
	static final String DEAD_LETTERS = "{" + LBS + "}:dead-letters";

	/** Its lease index. */
	static final String LEASE_INDEX = "{" + LBS + "}:leases";

	/** The audit stream the instances write to ({@code sample.audit.stream}). */
	static final String AUDIT = "chaos:audit";

	/** The instances' {@code stream-lease.max-entry-size}: small, so that an oversized entry is cheap to write. */
	static final String MAX_ENTRY_SIZE = "16KB";

	static final int MAX_ENTRY_BYTES = 16 * 1024;

	static String leaseKey(String stream) {
		return "{" + LBS + "}:lease:" + stream;
	}

	static String summaryKey(String stream) {
		return "summary:" + stream;
	}

	/**
	 * The defaults: 3 instances, hb-interval 2 s, 150 ms per entry, 6 sessions of 10 to 30 events per second.
	 */
	static ChaosSettings defaults(Path sampleJar, Path workDir) {
		Duration hb = Duration.ofSeconds(2);
		return new ChaosSettings(sampleJar, workDir, 3, hb, Duration.ofMillis(500), "auto", Duration.ofMillis(150), 6,
				10, 30, hb.multipliedBy(7).dividedBy(2), Duration.ofSeconds(3), Duration.ofSeconds(2), 10,
				Duration.ofSeconds(120), "256m", 42);
	}

	ChaosSettings withKeyspaceNotifications(String mode) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod, mode,
				this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents, this.instancePause,
				this.redisPause, this.redisDowntime, this.malformedBurst, this.drainTimeout, this.heap, this.seed);
	}

	ChaosSettings withSeed(long seed) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisDowntime, this.malformedBurst, this.drainTimeout, this.heap,
				seed);
	}

	ChaosSettings withInstances(int instances) {
		return new ChaosSettings(this.sampleJar, this.workDir, instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, this.sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisDowntime, this.malformedBurst, this.drainTimeout, this.heap,
				this.seed);
	}

	ChaosSettings withSessionsPerSecond(double sessionsPerSecond) {
		return new ChaosSettings(this.sampleJar, this.workDir, this.instances, this.hbInterval, this.gracePeriod,
				this.keyspaceNotifications, this.processingDelay, sessionsPerSecond, this.minEvents, this.maxEvents,
				this.instancePause, this.redisPause, this.redisDowntime, this.malformedBurst, this.drainTimeout, this.heap,
				this.seed);
	}

	boolean keyspaceOff() {
		return "off".equals(this.keyspaceNotifications);
	}

	/**
	 * The command line of one instance.
	 */
	List<String> command(String java, int redisPort, String consumerId) {
		List<String> command = new ArrayList<>(List.of(java, "-Xmx" + this.heap, "-XX:+UseSerialGC",
				"-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError", "-jar", this.sampleJar.toString()));
		command.addAll(List.of("--server.port=0", "--spring.main.banner-mode=off",
				"--spring.data.redis.host=127.0.0.1", "--spring.data.redis.port=" + redisPort,
				"--sample.producer.enabled=false", "--sample.embedded-redis.enabled=false",
				"--sample.processing-delay=" + this.processingDelay.toMillis() + "ms", "--sample.audit.enabled=true",
				"--sample.audit.stream=" + AUDIT, "--stream-lease.consumer-id=" + consumerId,
				"--stream-lease.hb-interval=" + this.hbInterval.toMillis() + "ms",
				"--stream-lease.shutdown.grace-period=" + this.gracePeriod.toMillis() + "ms",
				// Redis faults: the LBS reader must never give up (the default terminates it after 5 failed reads)
				"--stream-lease.retry.max-retries=-1",
				"--stream-lease.keyspace-notifications=" + this.keyspaceNotifications,
				"--stream-lease.max-entry-size=" + MAX_ENTRY_SIZE));
		return command;
	}

}
