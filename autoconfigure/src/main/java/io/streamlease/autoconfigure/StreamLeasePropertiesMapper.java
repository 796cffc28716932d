package io.streamlease.autoconfigure;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;

import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.InvalidSettingException;
import io.streamlease.engine.KeyspaceNotifications;
import io.streamlease.engine.RebalanceSettings;
import io.streamlease.engine.RetrySettings;
import io.streamlease.listener.ContainerSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.core.env.Environment;
import org.springframework.util.StringUtils;

/**
 * Maps {@link StreamLeaseProperties} to engine and container settings, validating every value; an invalid one
 * fails startup naming the property, the value and the rule.
 */
final class StreamLeasePropertiesMapper {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeasePropertiesMapper.class);

	private static final String PREFIX = "stream-lease.";

	private final StreamLeaseProperties properties;

	private final String defaultService;

	private final String consumerId;

	StreamLeasePropertiesMapper(StreamLeaseProperties properties, Environment environment) {
		this(properties, environment, System::getenv);
	}

	StreamLeasePropertiesMapper(StreamLeaseProperties properties, Environment environment,
			Function<String, String> variables) {
		this.properties = properties;
		this.defaultService = StringUtils.hasText(properties.getServiceName()) ? properties.getServiceName()
				: environment.getProperty("spring.application.name");
		this.consumerId = (properties.getConsumerId() != null) ? properties.getConsumerId() : defaultConsumerId(variables);
		if (this.defaultService != null) {
			engineSettings(this.defaultService);
		}
		else {
			engineSettings("service");
		}
		containerSettings();
	}

	/** The service of handlers that name none; null if neither property is set. */
	String defaultService() {
		return this.defaultService;
	}

	String consumerId() {
		return this.consumerId;
	}

	EngineSettings engineSettings(String service) {
		return engineSettings(service, Integer.MAX_VALUE);
	}

	/**
	 * The engine settings of a service whose handler can process at most {@code streamLimit} streams at once:
	 * max-concurrent-streams, capped at that limit (a stream-level handler on a pool of handler.threads).
	 */
	EngineSettings engineSettings(String service, int streamLimit) {
		StreamLeaseProperties p = this.properties;
		int maxConcurrentStreams = p.getMaxConcurrentStreams();
		if (streamLimit > 0 && streamLimit < maxConcurrentStreams) {
			logger.info("Service '{}' holds at most {} streams instead of max-concurrent-streams {}: its @StreamHandler "
					+ "caps it (maxConcurrentStreams), or it is a stream-level handler that holds one of {} handler "
					+ "threads per stream, and streams beyond that would wait unprocessed while peers could take them "
					+ "(to hold more: raise stream-lease.handler.threads, run on Java 21 with virtual threads, or return "
					+ "a CompletableFuture from the handler)", service, streamLimit, maxConcurrentStreams, p.getHandler().getThreads());
			maxConcurrentStreams = streamLimit;
		}
		try {
			return EngineSettings.builder(service, this.consumerId)
				.hbInterval(p.getHbInterval())
				.outputChannelSize(p.getOutputChannelSize())
				.brokerInputSize(p.getBrokerInputSize())
				.keyspaceChannelSize(p.getKeyspaceChannelSize())
				.lbsIdleTime(p.getLbsIdleTime())
				.lbsRecoveryCount(p.getLbsRecoveryCount())
				.retry(new RetrySettings(p.getRetry().getMaxRetries(), p.getRetry().getInitialDelay(),
						p.getRetry().getMaxDelay()))
				.keyspaceNotifications(p.getKeyspaceNotifications())
				.maxConcurrentStreams(maxConcurrentStreams)
				.sweepInterval(p.getSweepInterval())
				.autoClaim(p.isAutoClaim())
				.handoffOnClose(p.getShutdown().isHandoff())
				.readBatchSize(p.getReadBatchSize())
				.claimStagger(p.getClaimStagger())
				.maxEntrySize(maxEntrySize())
				.deadLetterMaxLength(p.getDeadLetterMaxLength())
				.checkpointRetention(p.getCheckpointRetention())
				.renewalTimeout(p.getRenewalTimeout())
				.startupTimeout(p.getStartup().getTimeout())
				.failFast(p.getStartup().isFailFast())
				.rebalance(new RebalanceSettings(p.getRebalance().isEnabled(), p.getRebalance().getInterval(),
						p.getRebalance().getTolerance(), p.getRebalance().getMaxFractionPerRound(),
						p.getRebalance().getMaxMovesPerRound(), p.getRebalance().getGracePeriod(),
						p.getRebalance().getSettleTime()))
				.build();
		}
		catch (InvalidSettingException ex) {
			String name = ex.getSetting().equals("service-name") && !StringUtils.hasText(this.properties.getServiceName())
					? "spring.application.name" : PREFIX + ex.getSetting();
			throw new InvalidConfigurationPropertyValueException(name, ex.getValue(), ex.getMessage());
		}
	}

	ContainerSettings containerSettings() {
		StreamLeaseProperties.Handler handler = this.properties.getHandler();
		StreamLeaseProperties.Entry entry = this.properties.getEntry();
		positive("handler.max-attempts", handler.getMaxAttempts());
		positive("handler.initial-backoff", handler.getInitialBackoff());
		positive("handler.max-backoff", handler.getMaxBackoff());
		if (handler.getInitialBackoff().compareTo(handler.getMaxBackoff()) > 0) {
			invalid("handler.initial-backoff", handler.getInitialBackoff(),
					"it must not be greater than handler.max-backoff (" + handler.getMaxBackoff() + ")");
		}
		positive("handler.threads", handler.getThreads());
		if (handler.getTimeout() != null) {
			positive("handler.timeout", handler.getTimeout());
		}
		positive("entry.batch-size", entry.getBatchSize());
		positive("entry.checkpoint-every", entry.getCheckpointEvery());
		positive("entry.checkpoint-interval", entry.getCheckpointInterval());
		positive("entry.poll-interval", entry.getPollInterval());
		positive("entry.max-poll-interval", entry.getMaxPollInterval());
		if (entry.getPollInterval().compareTo(entry.getMaxPollInterval()) > 0) {
			invalid("entry.poll-interval", entry.getPollInterval(),
					"it must not be greater than entry.max-poll-interval (" + entry.getMaxPollInterval() + ")");
		}
		positive("entry.safety-poll-interval", entry.getSafetyPollInterval());
		positive("entry.max-in-flight-reads", entry.getMaxInFlightReads());
		positive("entry.max-in-flight-checkpoints", entry.getMaxInFlightCheckpoints());
		Duration grace = this.properties.getShutdown().getGracePeriod();
		if (grace == null || grace.isNegative()) {
			invalid("shutdown.grace-period", grace, "it must be 0 or more");
		}
		return new ContainerSettings(handler.getMaxAttempts(), handler.getInitialBackoff(), handler.getMaxBackoff(),
				entry.getBatchSize(), entry.getCheckpointEvery(), entry.getCheckpointInterval(), entry.getPollInterval(),
				entry.getMaxPollInterval(), grace, handler.getThreads(), handler.isVirtualThreads(),
				this.properties.getKeyspaceNotifications() != KeyspaceNotifications.OFF, entry.getSafetyPollInterval(),
				entry.getMaxInFlightReads(), entry.getMaxInFlightCheckpoints(), handler.getTimeout());
	}

	private int maxEntrySize() {
		long bytes = (this.properties.getMaxEntrySize() != null) ? this.properties.getMaxEntrySize().toBytes() : -1;
		if (bytes <= 0 || bytes > Integer.MAX_VALUE) {
			invalid("max-entry-size", this.properties.getMaxEntrySize(), "it must be between 1B and 2GB");
		}
		return (int) bytes;
	}

	private static void positive(String name, int value) {
		if (value <= 0) {
			invalid(name, value, "it must be greater than 0");
		}
	}

	private static void positive(String name, Duration value) {
		if (value == null || value.isZero() || value.isNegative()) {
			invalid(name, value, "it must be greater than 0");
		}
	}

	private static void invalid(String name, Object value, String rule) {
		throw new InvalidConfigurationPropertyValueException(PREFIX + name, value, name + " is " + value + " but " + rule);
	}

	/**
	 * POD_NAME, else POD_IP, else the host name, the process id and a random suffix.
	 */
	static String defaultConsumerId(Function<String, String> variables) {
		for (String variable : new String[] { "POD_NAME", "POD_IP" }) {
			String value = variables.apply(variable);
			if (StringUtils.hasText(value)) {
				return value;
			}
		}
		String host;
		try {
			host = InetAddress.getLocalHost().getHostName();
		}
		catch (UnknownHostException ex) {
			host = "localhost";
		}
		long pid = ManagementFactory.getRuntimeMXBean().getPid();
		return host + "-" + pid + "-" + UUID.randomUUID().toString().substring(0, 6);
	}

}
