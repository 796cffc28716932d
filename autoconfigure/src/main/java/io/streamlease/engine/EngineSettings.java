package io.streamlease.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of one engine (one service, one consumer). Built with {@link #builder(String, String)}; every
 * value is validated by {@link Builder#build()}, which names the setting, the value and the rule.
 */
public final class EngineSettings {

	/** The default of {@link #maxConcurrentStreams()}, for the engine and the starter's property alike. */
	public static final int DEFAULT_MAX_CONCURRENT_STREAMS = 10_000;

	private final String serviceName;

	private final String consumerId;

	private final Duration hbInterval;

	private final int outputChannelSize;

	private final int brokerInputSize;

	private final int keyspaceChannelSize;

	private final Duration lbsIdleTime;

	private final int lbsRecoveryCount;

	private final RetrySettings retry;

	private final KeyspaceNotifications keyspaceNotifications;

	private final int maxConcurrentStreams;

	private final Duration sweepInterval;

	private final boolean autoClaim;

	private final boolean handoffOnClose;

	private final int readBatchSize;

	private final Duration claimStagger;

	private final int maxEntrySize;

	private final int deadLetterMaxLength;

	private final Duration checkpointRetention;

	private final Duration renewalTimeout;

	private final Duration startupTimeout;

	private final boolean failFast;

	private final RebalanceSettings rebalance;

	private EngineSettings(Builder builder) {
		this.serviceName = builder.serviceName;
		this.consumerId = builder.consumerId;
		this.hbInterval = builder.hbInterval;
		this.outputChannelSize = builder.outputChannelSize;
		this.brokerInputSize = builder.brokerInputSize;
		this.keyspaceChannelSize = builder.keyspaceChannelSize;
		this.lbsIdleTime = (builder.lbsIdleTime != null) ? builder.lbsIdleTime : builder.hbInterval.multipliedBy(4);
		this.lbsRecoveryCount = builder.lbsRecoveryCount;
		this.retry = builder.retry;
		this.keyspaceNotifications = builder.keyspaceNotifications;
		this.maxConcurrentStreams = builder.maxConcurrentStreams;
		this.sweepInterval = (builder.sweepInterval != null) ? builder.sweepInterval : builder.hbInterval.dividedBy(4);
		this.autoClaim = builder.autoClaim;
		this.handoffOnClose = builder.handoffOnClose;
		this.readBatchSize = builder.readBatchSize;
		this.claimStagger = builder.claimStagger;
		this.maxEntrySize = builder.maxEntrySize;
		this.deadLetterMaxLength = builder.deadLetterMaxLength;
		this.checkpointRetention = builder.checkpointRetention;
		this.renewalTimeout = (builder.renewalTimeout != null) ? builder.renewalTimeout
				: defaultRenewalTimeout(builder.hbInterval);
		this.startupTimeout = (builder.startupTimeout != null) ? builder.startupTimeout
				: defaultStartupTimeout(builder.hbInterval);
		this.failFast = builder.failFast;
		this.rebalance = builder.rebalance;
	}

	/** The default renewal timeout for a lease TTL: an eighth of it, at most 3 s (see {@link #renewalTimeout()}). */
	public static Duration defaultRenewalTimeout(Duration hbInterval) {
		Duration eighth = hbInterval.dividedBy(8);
		return (eighth.compareTo(Duration.ofSeconds(3)) > 0) ? Duration.ofSeconds(3) : eighth;
	}

	/** The default startup timeout for a lease TTL: 2 x hb-interval, at least 10 s (see {@link #startupTimeout()}). */
	public static Duration defaultStartupTimeout(Duration hbInterval) {
		Duration twice = hbInterval.multipliedBy(2);
		return (twice.compareTo(Duration.ofSeconds(10)) < 0) ? Duration.ofSeconds(10) : twice;
	}

	/**
	 * Starts settings for a service and a consumer id, with every other value at its default.
	 */
	public static Builder builder(String serviceName, String consumerId) {
		return new Builder(serviceName, consumerId);
	}

	/** The service: names the LBS ({@code <service>-input}), the group and every key. */
	public String serviceName() {
		return this.serviceName;
	}

	/** The unique name of this consumer in the group. */
	public String consumerId() {
		return this.consumerId;
	}

	/** The lease TTL; leases are renewed every half of it. Default 10 s. */
	public Duration hbInterval() {
		return this.hbInterval;
	}

	/** Capacity of the event channel that the application reads. Default 500. */
	public int outputChannelSize() {
		return this.outputChannelSize;
	}

	/** Capacity of the queue of claim candidate batches (a sweep page, a handoff message). Default 500. */
	public int brokerInputSize() {
		return this.brokerInputSize;
	}

	/** Capacity of the queue of keyspace notifications; when full, notifications are dropped and counted. Default 100. */
	public int keyspaceChannelSize() {
		return this.keyspaceChannelSize;
	}

	/** How long an LBS entry must be idle before startup recovery takes it. Default 4 x hb-interval. */
	public Duration lbsIdleTime() {
		return this.lbsIdleTime;
	}

	/**
	 * How many pending entries one takeover call examines (and how many streams it takes at most): startup recovery,
	 * the streams of a lapsed or departed session, strays. Default 1000.
	 */
	public int lbsRecoveryCount() {
		return this.lbsRecoveryCount;
	}

	/** Back-off of the reader and the renewer. */
	public RetrySettings retry() {
		return this.retry;
	}

	/** Whether keyspace notifications are used as the fast path. Default AUTO. */
	public KeyspaceNotifications keyspaceNotifications() {
		return this.keyspaceNotifications;
	}

	/** How many streams this consumer holds at most; when full it stops reading the LBS. Default 10,000. */
	public int maxConcurrentStreams() {
		return this.maxConcurrentStreams;
	}

	/** How often the sweep looks for lapsed leases and orphans (jittered down by up to 20%). Default hb-interval / 4. */
	public Duration sweepInterval() {
		return this.sweepInterval;
	}

	/** Whether lapsed streams are claimed automatically (else EXPIRED events are delivered). Default true. */
	public boolean autoClaim() {
		return this.autoClaim;
	}

	/** Whether close hands off every held stream to peers. Default true. */
	public boolean handoffOnClose() {
		return this.handoffOnClose;
	}

	/** How many LBS entries one XREADGROUP reads at most. Default 100. */
	public int readBatchSize() {
		return this.readBatchSize;
	}

	/** How long a consumer that is not the preferred claimer of a stream waits per rank before claiming it. Default 50 ms. */
	public Duration claimStagger() {
		return this.claimStagger;
	}

	/** The largest LBS entry accepted, in bytes of field names and values; larger ones are dead-lettered. Default 1 MiB. */
	public int maxEntrySize() {
		return this.maxEntrySize;
	}

	/** The approximate maximum length of the dead-letter stream. Default 10,000. */
	public int deadLetterMaxLength() {
		return this.deadLetterMaxLength;
	}

	/** How long a finished stream's checkpoint is kept, so that a later submission resumes from it. Default 1 day. */
	public Duration checkpointRetention() {
		return this.checkpointRetention;
	}

	/**
	 * How long one renewal call may wait for Redis before it is retried: bounded by the lease, so that a lost
	 * reply leaves time for further attempts before the local safety deadline (80% of hb-interval). Every other
	 * call (connecting, reading, acquiring, checkpoints) uses the Redisson client's own, longer timeout. Default
	 * hb-interval / 8, at most 3 s.
	 */
	public Duration renewalTimeout() {
		return this.renewalTimeout;
	}

	/**
	 * How long {@code start()} waits for the first connection to Redis (creating the group, registering the
	 * consumer). When it passes, the engine goes on connecting in the background (STARTING, Redis reported
	 * unreachable) unless {@link #failFast()}. Default 2 x hb-interval, at least 10 s.
	 */
	public Duration startupTimeout() {
		return this.startupTimeout;
	}

	/**
	 * Whether {@code start()} fails when Redis cannot be reached within the startup timeout, instead of going on
	 * connecting in the background. Default false (start and keep trying, as messaging containers do).
	 */
	public boolean failFast() {
		return this.failFast;
	}

	/** Fair-share rebalancing. Default on ({@link RebalanceSettings#DEFAULT}). */
	public RebalanceSettings rebalance() {
		return this.rebalance;
	}

	/** The least time between two rounds of rebalancing that moved streams: hb-interval / 2 unless set. */
	public Duration rebalanceInterval() {
		return this.rebalance.interval(this.hbInterval);
	}

	/** How long a consumer must have been live before peers count it for fair share: hb-interval unless set. */
	public Duration rebalanceSettleTime() {
		return this.rebalance.settleTime(this.hbInterval);
	}

	/** The Redis keys of this service. */
	public StreamLeaseKeys keys() {
		return new StreamLeaseKeys(this.serviceName);
	}

	/**
	 * Builds validated {@link EngineSettings}.
	 */
	public static final class Builder {

		private final String serviceName;

		private final String consumerId;

		private Duration hbInterval = Duration.ofSeconds(10);

		private int outputChannelSize = 500;

		private int brokerInputSize = 500;

		private int keyspaceChannelSize = 100;

		private Duration lbsIdleTime;

		private int lbsRecoveryCount = 1000;

		private RetrySettings retry = RetrySettings.DEFAULT;

		private KeyspaceNotifications keyspaceNotifications = KeyspaceNotifications.AUTO;

		private int maxConcurrentStreams = DEFAULT_MAX_CONCURRENT_STREAMS;

		private Duration sweepInterval;

		private boolean autoClaim = true;

		private boolean handoffOnClose = true;

		private int readBatchSize = 100;

		private Duration claimStagger = Duration.ofMillis(50);

		private int maxEntrySize = 1024 * 1024;

		private int deadLetterMaxLength = 10_000;

		private Duration checkpointRetention = Duration.ofDays(1);

		private Duration renewalTimeout;

		private Duration startupTimeout;

		private boolean failFast;

		private RebalanceSettings rebalance = RebalanceSettings.DEFAULT;

		private Builder(String serviceName, String consumerId) {
			this.serviceName = serviceName;
			this.consumerId = consumerId;
		}

		public Builder hbInterval(Duration hbInterval) {
			this.hbInterval = hbInterval;
			return this;
		}

		public Builder outputChannelSize(int outputChannelSize) {
			this.outputChannelSize = outputChannelSize;
			return this;
		}

		public Builder brokerInputSize(int brokerInputSize) {
			this.brokerInputSize = brokerInputSize;
			return this;
		}

		public Builder keyspaceChannelSize(int keyspaceChannelSize) {
			this.keyspaceChannelSize = keyspaceChannelSize;
			return this;
		}

		/** Null for the default, 4 x hb-interval. */
		public Builder lbsIdleTime(Duration lbsIdleTime) {
			this.lbsIdleTime = lbsIdleTime;
			return this;
		}

		public Builder lbsRecoveryCount(int lbsRecoveryCount) {
			this.lbsRecoveryCount = lbsRecoveryCount;
			return this;
		}

		public Builder retry(RetrySettings retry) {
			this.retry = retry;
			return this;
		}

		public Builder keyspaceNotifications(KeyspaceNotifications keyspaceNotifications) {
			this.keyspaceNotifications = keyspaceNotifications;
			return this;
		}

		public Builder maxConcurrentStreams(int maxConcurrentStreams) {
			this.maxConcurrentStreams = maxConcurrentStreams;
			return this;
		}

		/** Null for the default, hb-interval / 4. */
		public Builder sweepInterval(Duration sweepInterval) {
			this.sweepInterval = sweepInterval;
			return this;
		}

		public Builder autoClaim(boolean autoClaim) {
			this.autoClaim = autoClaim;
			return this;
		}

		public Builder handoffOnClose(boolean handoffOnClose) {
			this.handoffOnClose = handoffOnClose;
			return this;
		}

		public Builder readBatchSize(int readBatchSize) {
			this.readBatchSize = readBatchSize;
			return this;
		}

		public Builder claimStagger(Duration claimStagger) {
			this.claimStagger = claimStagger;
			return this;
		}

		public Builder maxEntrySize(int maxEntrySize) {
			this.maxEntrySize = maxEntrySize;
			return this;
		}

		public Builder deadLetterMaxLength(int deadLetterMaxLength) {
			this.deadLetterMaxLength = deadLetterMaxLength;
			return this;
		}

		public Builder checkpointRetention(Duration checkpointRetention) {
			this.checkpointRetention = checkpointRetention;
			return this;
		}

		/** Null for the default, hb-interval / 8 (at most 3 s). */
		public Builder renewalTimeout(Duration renewalTimeout) {
			this.renewalTimeout = renewalTimeout;
			return this;
		}

		/** Null for the default, 2 x hb-interval (at least 10 s). */
		public Builder startupTimeout(Duration startupTimeout) {
			this.startupTimeout = startupTimeout;
			return this;
		}

		public Builder failFast(boolean failFast) {
			this.failFast = failFast;
			return this;
		}

		public Builder rebalance(RebalanceSettings rebalance) {
			this.rebalance = rebalance;
			return this;
		}

		/**
		 * Validates every value and builds the settings.
		 * @throws InvalidSettingException naming the first setting whose value breaks its rule
		 */
		public EngineSettings build() {
			if (this.serviceName == null || this.serviceName.isBlank()) {
				throw new InvalidSettingException("service-name", this.serviceName, "it must not be blank");
			}
			if (this.serviceName.indexOf('{') >= 0 || this.serviceName.indexOf('}') >= 0) {
				throw new InvalidSettingException("service-name", this.serviceName,
						"it must not contain '{' or '}': the service name is the Redis Cluster hash tag of every key of the service");
			}
			if (this.consumerId == null || this.consumerId.isBlank()) {
				throw new InvalidSettingException("consumer-id", this.consumerId, "it must not be blank");
			}
			positive("hb-interval", this.hbInterval);
			if (this.hbInterval.toMillis() < 10) {
				throw new InvalidSettingException("hb-interval", this.hbInterval, "it must be at least 10ms");
			}
			positive("output-channel-size", this.outputChannelSize);
			positive("broker-input-size", this.brokerInputSize);
			positive("keyspace-channel-size", this.keyspaceChannelSize);
			if (this.lbsIdleTime != null && this.lbsIdleTime.compareTo(this.hbInterval.multipliedBy(2)) <= 0) {
				throw new InvalidSettingException("lbs-idle-time", this.lbsIdleTime,
						"it must be greater than 2 x hb-interval (" + this.hbInterval.multipliedBy(2) + ")");
			}
			positive("lbs-recovery-count", this.lbsRecoveryCount);
			if (this.lbsRecoveryCount > 10_000) {
				throw new InvalidSettingException("lbs-recovery-count", this.lbsRecoveryCount,
						"it must be at most 10000 (one takeover call must stay short to keep Redis responsive)");
			}
			Objects.requireNonNull(this.retry, "retry");
			if (this.retry.maxRetries() < -1) {
				throw new InvalidSettingException("retry.max-retries", this.retry.maxRetries(),
						"it must be -1 (unlimited) or at least 0");
			}
			positive("retry.initial-delay", this.retry.initialDelay());
			positive("retry.max-delay", this.retry.maxDelay());
			if (this.retry.initialDelay().compareTo(this.retry.maxDelay()) > 0) {
				throw new InvalidSettingException("retry.initial-delay", this.retry.initialDelay(),
						"it must not be greater than retry.max-delay (" + this.retry.maxDelay() + ")");
			}
			if (this.keyspaceNotifications == null) {
				throw new InvalidSettingException("keyspace-notifications", null, "it must be one of auto, on, off");
			}
			positive("max-concurrent-streams", this.maxConcurrentStreams);
			if (this.sweepInterval != null) {
				positive("sweep-interval", this.sweepInterval);
			}
			positive("read-batch-size", this.readBatchSize);
			if (this.claimStagger == null || this.claimStagger.isNegative()) {
				throw new InvalidSettingException("claim-stagger", this.claimStagger, "it must be 0 or more");
			}
			positive("max-entry-size", this.maxEntrySize);
			positive("dead-letter-max-length", this.deadLetterMaxLength);
			if (this.checkpointRetention == null || this.checkpointRetention.isNegative()) {
				throw new InvalidSettingException("checkpoint-retention", this.checkpointRetention, "it must be 0 or more");
			}
			if (this.renewalTimeout != null) {
				positive("renewal-timeout", this.renewalTimeout);
				if (this.renewalTimeout.compareTo(Session.safetyWindow(this.hbInterval)) >= 0) {
					throw new InvalidSettingException("renewal-timeout", this.renewalTimeout,
							"it must be less than the local safety deadline, 80% of hb-interval ("
									+ Session.safetyWindow(this.hbInterval) + ")");
				}
			}
			if (this.startupTimeout != null) {
				positive("startup.timeout", this.startupTimeout);
			}
			Objects.requireNonNull(this.rebalance, "rebalance");
			this.rebalance.validate();
			return new EngineSettings(this);
		}

		private static void positive(String setting, int value) {
			if (value <= 0) {
				throw new InvalidSettingException(setting, value, "it must be greater than 0");
			}
		}

		private static void positive(String setting, Duration value) {
			if (value == null || value.isZero() || value.isNegative()) {
				throw new InvalidSettingException(setting, value, "it must be greater than 0");
			}
		}

	}

}
