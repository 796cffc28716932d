package io.streamlease.autoconfigure;

import java.time.Duration;

import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.KeyspaceNotifications;
import io.streamlease.engine.RebalanceSettings;
import io.streamlease.listener.ContainerSettings;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.DeprecatedConfigurationProperty;
import org.springframework.util.unit.DataSize;

/**
 * Configuration properties for Stream Lease.
 */
@ConfigurationProperties("stream-lease")
public class StreamLeaseProperties {

	/**
	 * Whether to run the @StreamHandler methods of the application.
	 */
	private boolean enabled = true;

	/**
	 * Service whose LBS ("<service>-input") the handlers read by default. Defaults to spring.application.name.
	 */
	private String serviceName;

	/**
	 * Unique name of this instance in the consumer group. Defaults to the POD_NAME environment variable, else
	 * POD_IP, else the host name, process id and a random suffix.
	 */
	private String consumerId;

	/**
	 * Lease TTL. Leases are renewed every half of it; a crashed owner is replaced after about 1.25 times it.
	 */
	private Duration hbInterval = Duration.ofSeconds(10);

	/**
	 * Capacity of the engine's event channel (ADDED and EXPIRED events waiting for a handler).
	 */
	private int outputChannelSize = 500;

	/**
	 * Capacity of the queue of claim candidate batches (one per sweep page or handoff message).
	 */
	private int brokerInputSize = 500;

	/**
	 * Capacity of the queue of keyspace notifications; when full they are dropped and counted.
	 */
	private int keyspaceChannelSize = 100;

	/**
	 * How long an LBS entry must be idle before startup recovery takes it. Defaults to 4 x hb-interval; must be
	 * greater than 2 x hb-interval.
	 */
	private Duration lbsIdleTime;

	/**
	 * How many pending LBS entries startup recovery examines per batch.
	 */
	private int lbsRecoveryCount = 1000;

	/**
	 * Whether keyspace notifications are used to detect lapsed leases quickly: "auto" enables them when the
	 * server allows CONFIG SET (merging with the existing flags), "on" requires them, "off" leaves detection to
	 * the sweep.
	 */
	private KeyspaceNotifications keyspaceNotifications = KeyspaceNotifications.AUTO;

	/**
	 * How many data streams this instance holds at most per service; when full it stops reading the LBS so that
	 * peers get the new work. A service whose stream-level handler runs on a pool of handler.threads (no virtual
	 * threads) holds at most handler.threads streams.
	 */
	private int maxConcurrentStreams = EngineSettings.DEFAULT_MAX_CONCURRENT_STREAMS;

	/**
	 * How often the sweep looks for lapsed leases and orphaned LBS entries. Defaults to hb-interval / 4.
	 */
	private Duration sweepInterval;

	/**
	 * Whether streams whose owner lapsed are claimed automatically.
	 */
	private boolean autoClaim = true;

	/**
	 * How many LBS entries one read takes at most.
	 */
	private int readBatchSize = 100;

	/**
	 * Not used since engine v2: a consumer renews all its streams with one call per tick.
	 */
	private int renewalChunkSize = 1000;

	/**
	 * How long a consumer that is not the preferred claimer of a lapsed stream waits per rank before claiming it.
	 */
	private Duration claimStagger = Duration.ofMillis(50);

	/**
	 * Largest LBS entry accepted; larger ones go to the dead-letter stream.
	 */
	private DataSize maxEntrySize = DataSize.ofMegabytes(1);

	/**
	 * Approximate maximum length of the dead-letter stream.
	 */
	private int deadLetterMaxLength = 10_000;

	/**
	 * How long a finished stream's checkpoint is kept, so that a later submission of the same stream resumes
	 * from it.
	 */
	private Duration checkpointRetention = Duration.ofDays(1);

	private final Retry retry = new Retry();

	private final Handler handler = new Handler();

	private final Entry entry = new Entry();

	private final Shutdown shutdown = new Shutdown();

	private final Startup startup = new Startup();

	private final Observation observation = new Observation();

	private final Rebalance rebalance = new Rebalance();

	/**
	 * How long one renewal call waits for Redis before it is retried; less than 80% of hb-interval. Default
	 * hb-interval / 8, at most 3s. Every other call uses spring.data.redis.timeout, by default 3s or hb-interval / 2,
	 * whichever is longer.
	 */
	private Duration renewalTimeout;

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public String getServiceName() {
		return this.serviceName;
	}

	public void setServiceName(String serviceName) {
		this.serviceName = serviceName;
	}

	public String getConsumerId() {
		return this.consumerId;
	}

	public void setConsumerId(String consumerId) {
		this.consumerId = consumerId;
	}

	public Duration getHbInterval() {
		return this.hbInterval;
	}

	public void setHbInterval(Duration hbInterval) {
		this.hbInterval = hbInterval;
	}

	public int getOutputChannelSize() {
		return this.outputChannelSize;
	}

	public void setOutputChannelSize(int outputChannelSize) {
		this.outputChannelSize = outputChannelSize;
	}

	public int getBrokerInputSize() {
		return this.brokerInputSize;
	}

	public void setBrokerInputSize(int brokerInputSize) {
		this.brokerInputSize = brokerInputSize;
	}

	public int getKeyspaceChannelSize() {
		return this.keyspaceChannelSize;
	}

	public void setKeyspaceChannelSize(int keyspaceChannelSize) {
		this.keyspaceChannelSize = keyspaceChannelSize;
	}

	public Duration getLbsIdleTime() {
		return this.lbsIdleTime;
	}

	public void setLbsIdleTime(Duration lbsIdleTime) {
		this.lbsIdleTime = lbsIdleTime;
	}

	public int getLbsRecoveryCount() {
		return this.lbsRecoveryCount;
	}

	public void setLbsRecoveryCount(int lbsRecoveryCount) {
		this.lbsRecoveryCount = lbsRecoveryCount;
	}

	public KeyspaceNotifications getKeyspaceNotifications() {
		return this.keyspaceNotifications;
	}

	public void setKeyspaceNotifications(KeyspaceNotifications keyspaceNotifications) {
		this.keyspaceNotifications = keyspaceNotifications;
	}

	public int getMaxConcurrentStreams() {
		return this.maxConcurrentStreams;
	}

	public void setMaxConcurrentStreams(int maxConcurrentStreams) {
		this.maxConcurrentStreams = maxConcurrentStreams;
	}

	public Duration getSweepInterval() {
		return this.sweepInterval;
	}

	public void setSweepInterval(Duration sweepInterval) {
		this.sweepInterval = sweepInterval;
	}

	public boolean isAutoClaim() {
		return this.autoClaim;
	}

	public void setAutoClaim(boolean autoClaim) {
		this.autoClaim = autoClaim;
	}

	public int getReadBatchSize() {
		return this.readBatchSize;
	}

	public void setReadBatchSize(int readBatchSize) {
		this.readBatchSize = readBatchSize;
	}

	@Deprecated(since = "0.1.0")
	@DeprecatedConfigurationProperty(reason = "Not used since engine v2: a consumer renews all its streams with one call "
			+ "per tick, whatever their number", since = "0.1.0")
	public int getRenewalChunkSize() {
		return this.renewalChunkSize;
	}

	@Deprecated(since = "0.1.0")
	public void setRenewalChunkSize(int renewalChunkSize) {
		this.renewalChunkSize = renewalChunkSize;
	}

	public Duration getClaimStagger() {
		return this.claimStagger;
	}

	public void setClaimStagger(Duration claimStagger) {
		this.claimStagger = claimStagger;
	}

	public DataSize getMaxEntrySize() {
		return this.maxEntrySize;
	}

	public void setMaxEntrySize(DataSize maxEntrySize) {
		this.maxEntrySize = maxEntrySize;
	}

	public int getDeadLetterMaxLength() {
		return this.deadLetterMaxLength;
	}

	public void setDeadLetterMaxLength(int deadLetterMaxLength) {
		this.deadLetterMaxLength = deadLetterMaxLength;
	}

	public Duration getCheckpointRetention() {
		return this.checkpointRetention;
	}

	public void setCheckpointRetention(Duration checkpointRetention) {
		this.checkpointRetention = checkpointRetention;
	}

	public Retry getRetry() {
		return this.retry;
	}

	public Handler getHandler() {
		return this.handler;
	}

	public Entry getEntry() {
		return this.entry;
	}

	public Shutdown getShutdown() {
		return this.shutdown;
	}

	public Startup getStartup() {
		return this.startup;
	}

	public Observation getObservation() {
		return this.observation;
	}

	public Rebalance getRebalance() {
		return this.rebalance;
	}

	public Duration getRenewalTimeout() {
		return this.renewalTimeout;
	}

	public void setRenewalTimeout(Duration renewalTimeout) {
		this.renewalTimeout = renewalTimeout;
	}

	/**
	 * Micrometer Observation of handler invocations and submissions (tracing, and timers where metrics observe).
	 */
	public static class Observation {

		/**
		 * Whether handler invocations and StreamLeaseTemplate submissions are observed when the application has an
		 * ObservationRegistry; the template then writes the trace context into the entry's Info and the handler
		 * continues that trace. Off by default, as spring-kafka's and Spring AMQP's listener observation: an
		 * entry-level handler is observed once per entry, which halves the entries a pod handles per second.
		 */
		private boolean enabled = false;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * What happens when Redis is down or slow while the application starts.
	 */
	public static class Startup {

		/**
		 * Whether the application fails to start when Redis cannot be reached within the startup timeout. By
		 * default it starts, reports the streamLease health DOWN, and keeps connecting in the background.
		 */
		private boolean failFast = false;

		/**
		 * How long each service's engine waits for Redis while the application starts. Default 2 x hb-interval, at
		 * least 10s.
		 */
		private Duration timeout;

		public boolean isFailFast() {
			return this.failFast;
		}

		public void setFailFast(boolean failFast) {
			this.failFast = failFast;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/**
	 * Back-off (exponential, with jitter) of the engine's calls when Redis fails.
	 */
	public static class Retry {

		/**
		 * Consecutive failures of the LBS reader (or of the first connection) tolerated before the engine terminates;
		 * -1 for unlimited, so that no transient Redis fault ever stops the engine. Set it only to fail-stop on
		 * purpose.
		 */
		private int maxRetries = -1;

		/**
		 * First delay after a failure, doubled after each further failure.
		 */
		private Duration initialDelay = Duration.ofMillis(100);

		/**
		 * Longest delay between retries.
		 */
		private Duration maxDelay = Duration.ofSeconds(30);

		public int getMaxRetries() {
			return this.maxRetries;
		}

		public void setMaxRetries(int maxRetries) {
			this.maxRetries = maxRetries;
		}

		public Duration getInitialDelay() {
			return this.initialDelay;
		}

		public void setInitialDelay(Duration initialDelay) {
			this.initialDelay = initialDelay;
		}

		public Duration getMaxDelay() {
			return this.maxDelay;
		}

		public void setMaxDelay(Duration maxDelay) {
			this.maxDelay = maxDelay;
		}

	}

	/**
	 * How @StreamHandler methods run and what happens when they throw.
	 */
	public static class Handler {

		/**
		 * Attempts of a handler on one stream (stream-level) or one entry (entry-level) before the stream goes to
		 * the dead-letter stream. The count survives a failover.
		 */
		private int maxAttempts = 3;

		/**
		 * Delay before the first retry, doubled after each further failure.
		 */
		private Duration initialBackoff = Duration.ofMillis(500);

		/**
		 * Longest delay between retries.
		 */
		private Duration maxBackoff = Duration.ofSeconds(30);

		/**
		 * Threads running handlers when virtual threads are not available (Java 17 to 20) or not wanted.
		 * Stream-level handlers hold a thread while they run, so a service with a stream-level handler (one that
		 * does not return a CompletionStage) holds at most this many streams, whatever max-concurrent-streams says;
		 * entry-level handlers hold a thread only while they process an entry.
		 */
		private int threads = 64;

		/**
		 * Whether handlers run on virtual threads when the JVM has them (Java 21 and later).
		 */
		private boolean virtualThreads = true;

		/**
		 * Longest time one handler invocation (stream-level: a whole run; entry-level: one entry) may take; one that
		 * takes longer is cancelled (interrupted, or its returned CompletableFuture cancelled) and counts as a failed
		 * attempt, retried and then dead-lettered like any failure. Not set (the default) for no limit.
		 */
		private Duration timeout;

		public int getMaxAttempts() {
			return this.maxAttempts;
		}

		public void setMaxAttempts(int maxAttempts) {
			this.maxAttempts = maxAttempts;
		}

		public Duration getInitialBackoff() {
			return this.initialBackoff;
		}

		public void setInitialBackoff(Duration initialBackoff) {
			this.initialBackoff = initialBackoff;
		}

		public Duration getMaxBackoff() {
			return this.maxBackoff;
		}

		public void setMaxBackoff(Duration maxBackoff) {
			this.maxBackoff = maxBackoff;
		}

		public int getThreads() {
			return this.threads;
		}

		public void setThreads(int threads) {
			this.threads = threads;
		}

		public boolean isVirtualThreads() {
			return this.virtualThreads;
		}

		public void setVirtualThreads(boolean virtualThreads) {
			this.virtualThreads = virtualThreads;
		}

		public Duration getTimeout() {
			return this.timeout;
		}

		public void setTimeout(Duration timeout) {
			this.timeout = timeout;
		}

	}

	/**
	 * How entry-level handlers are fed and checkpointed.
	 */
	public static class Entry {

		/**
		 * How many entries of one data stream are read at a time.
		 */
		private int batchSize = 100;

		/**
		 * Checkpoint the position and the state after this many entries.
		 */
		private int checkpointEvery = 100;

		/**
		 * Checkpoint the position and the state at least this often while entries are processed.
		 */
		private Duration checkpointInterval = Duration.ofSeconds(1);

		/**
		 * How often a data stream that had no new entries is polled again at first; the delay doubles while it
		 * stays empty, up to max-poll-interval.
		 */
		private Duration pollInterval = Duration.ofMillis(50);

		/**
		 * Longest delay between polls of an idle data stream while keyspace xadd events do not arrive (turned off
		 * with keyspace-notifications, or the server refuses CONFIG).
		 */
		private Duration maxPollInterval = Duration.ofSeconds(1);

		/**
		 * How often an idle data stream is read anyway while keyspace xadd events arrive (they wake the reader as
		 * soon as an entry is added, but are at-most-once).
		 */
		private Duration safetyPollInterval = ContainerSettings.DEFAULT_SAFETY_POLL_INTERVAL;

		/**
		 * How many XREAD commands (each over up to 500 data streams) one service's entry reader has in flight at
		 * once.
		 */
		private int maxInFlightReads = ContainerSettings.DEFAULT_MAX_IN_FLIGHT_READS;

		/**
		 * How many checkpoint and finishing calls one service's entry-level handlers have in flight at once. They
		 * share the engine's Redis client with lease renewals, so this bound keeps connections free for renewals.
		 */
		private int maxInFlightCheckpoints = ContainerSettings.DEFAULT_MAX_IN_FLIGHT_CHECKPOINTS;

		public int getBatchSize() {
			return this.batchSize;
		}

		public void setBatchSize(int batchSize) {
			this.batchSize = batchSize;
		}

		public int getCheckpointEvery() {
			return this.checkpointEvery;
		}

		public void setCheckpointEvery(int checkpointEvery) {
			this.checkpointEvery = checkpointEvery;
		}

		public Duration getCheckpointInterval() {
			return this.checkpointInterval;
		}

		public void setCheckpointInterval(Duration checkpointInterval) {
			this.checkpointInterval = checkpointInterval;
		}

		public Duration getPollInterval() {
			return this.pollInterval;
		}

		public void setPollInterval(Duration pollInterval) {
			this.pollInterval = pollInterval;
		}

		public Duration getMaxPollInterval() {
			return this.maxPollInterval;
		}

		public void setMaxPollInterval(Duration maxPollInterval) {
			this.maxPollInterval = maxPollInterval;
		}

		public Duration getSafetyPollInterval() {
			return this.safetyPollInterval;
		}

		public void setSafetyPollInterval(Duration safetyPollInterval) {
			this.safetyPollInterval = safetyPollInterval;
		}

		public int getMaxInFlightReads() {
			return this.maxInFlightReads;
		}

		public void setMaxInFlightReads(int maxInFlightReads) {
			this.maxInFlightReads = maxInFlightReads;
		}

		public int getMaxInFlightCheckpoints() {
			return this.maxInFlightCheckpoints;
		}

		public void setMaxInFlightCheckpoints(int maxInFlightCheckpoints) {
			this.maxInFlightCheckpoints = maxInFlightCheckpoints;
		}

	}

	/**
	 * Fair share: an instance that holds more than its share of a service's streams (by max-concurrent-streams)
	 * hands the excess off to instances below their share, cooperatively and a bounded part per round.
	 */
	public static class Rebalance {

		/**
		 * Whether this instance hands off streams above its fair share to instances below theirs (for example to
		 * pods that joined). When off it still publishes its load, and claims handed-off streams as before.
		 */
		private boolean enabled = RebalanceSettings.DEFAULT.enabled();

		/**
		 * Least time between two rounds that moved streams. Defaults to hb-interval / 2 (one round per renewal at
		 * most).
		 */
		private Duration interval;

		/**
		 * How far above its share an instance may be before it moves anything, as a fraction of the share.
		 */
		private double tolerance = RebalanceSettings.DEFAULT_TOLERANCE;

		/**
		 * Most streams one round moves, as a fraction of the streams this instance holds (greater than 0, at most 1).
		 */
		private double maxFractionPerRound = RebalanceSettings.DEFAULT_MAX_FRACTION_PER_ROUND;

		/**
		 * Most streams one round moves.
		 */
		private int maxMovesPerRound = RebalanceSettings.DEFAULT_MAX_MOVES_PER_ROUND;

		/**
		 * How long a handler asked to yield a stream may go on (entry-level: the entry in hand; stream-level: until
		 * it returns) before it is interrupted and the stream handed off.
		 */
		private Duration gracePeriod = RebalanceSettings.DEFAULT_GRACE_PERIOD;

		/**
		 * How long an instance must have been live before its peers count it for the share, so that a pod that
		 * joins and leaves at once moves nothing. Defaults to hb-interval (two renewals).
		 */
		private Duration settleTime;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getInterval() {
			return this.interval;
		}

		public void setInterval(Duration interval) {
			this.interval = interval;
		}

		public double getTolerance() {
			return this.tolerance;
		}

		public void setTolerance(double tolerance) {
			this.tolerance = tolerance;
		}

		public double getMaxFractionPerRound() {
			return this.maxFractionPerRound;
		}

		public void setMaxFractionPerRound(double maxFractionPerRound) {
			this.maxFractionPerRound = maxFractionPerRound;
		}

		public int getMaxMovesPerRound() {
			return this.maxMovesPerRound;
		}

		public void setMaxMovesPerRound(int maxMovesPerRound) {
			this.maxMovesPerRound = maxMovesPerRound;
		}

		public Duration getGracePeriod() {
			return this.gracePeriod;
		}

		public void setGracePeriod(Duration gracePeriod) {
			this.gracePeriod = gracePeriod;
		}

		public Duration getSettleTime() {
			return this.settleTime;
		}

		public void setSettleTime(Duration settleTime) {
			this.settleTime = settleTime;
		}

	}

	/**
	 * What happens when the application stops.
	 */
	public static class Shutdown {

		/**
		 * Whether held streams are handed off to peers at shutdown (they claim at once) instead of lapsing after
		 * hb-interval.
		 */
		private boolean handoff = true;

		/**
		 * How long running handlers may go on after the LBS reader stopped, before they are cancelled and their
		 * streams handed off.
		 */
		private Duration gracePeriod = Duration.ofSeconds(10);

		public boolean isHandoff() {
			return this.handoff;
		}

		public void setHandoff(boolean handoff) {
			this.handoff = handoff;
		}

		public Duration getGracePeriod() {
			return this.gracePeriod;
		}

		public void setGracePeriod(Duration gracePeriod) {
			this.gracePeriod = gracePeriod;
		}

	}

}
