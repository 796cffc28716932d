package io.streamlease.engine;

import java.util.concurrent.BlockingQueue;

import io.streamlease.StreamLeaseException;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fast path of lapse detection: keyspace {@code expired} events of session keys (one per consumer, whatever
 * the number of streams it held), subscribed on every master.
 * Enables the notification flags it needs by merging them into the server's existing setting (never removing
 * a flag); when the server refuses CONFIG, it logs one warning and leaves detection to the sweep.
 */
final class KeyspaceListener {

	private static final Logger logger = LoggerFactory.getLogger(KeyspaceListener.class);

	private final RedissonClient redisson;

	private final EngineSettings settings;

	private final StreamLeaseKeys keys;

	private final EngineMetrics metrics;

	private final BlockingQueue<String> queue;

	private final Runnable queued;

	private final Runnable dropped;

	private RPatternTopic topic;

	private int listenerId;

	private volatile boolean configured;

	KeyspaceListener(RedissonClient redisson, EngineSettings settings, EngineMetrics metrics, BlockingQueue<String> queue,
			Runnable queued, Runnable dropped) {
		this.redisson = redisson;
		this.settings = settings;
		this.keys = settings.keys();
		this.metrics = metrics;
		this.queue = queue;
		this.queued = queued;
		this.dropped = dropped;
	}

	/**
	 * Configures the server and subscribes; may be called again after a failure (it subscribes once).
	 */
	void start() {
		if (this.settings.keyspaceNotifications() == KeyspaceNotifications.OFF) {
			logger.info("Keyspace notifications are off for service '{}': the sweep alone detects lapsed leases",
					this.settings.serviceName());
			return;
		}
		ensureConfigured(true);
		if (this.topic != null) {
			return;
		}
		RPatternTopic subscribing = this.redisson.getPatternTopic(this.keys.keyspacePattern(), StringCodec.INSTANCE);
		this.listenerId = subscribing.addListener(String.class, (pattern, channel, message) -> {
			if (!"expired".equals(message)) {
				return;
			}
			String consumer = this.keys.consumerOfKeyspaceChannel(channel.toString());
			if (consumer == null) {
				return;
			}
			this.metrics.keyspaceNotification(consumer);
			if (this.queue.offer(consumer)) {
				this.queued.run();
			}
			else {
				this.metrics.keyspaceNotificationDropped();
				this.dropped.run();
			}
		});
		this.topic = subscribing;
	}

	/**
	 * Makes sure every master sends the events we need; run at start and again after Redis came back (a restarted
	 * server forgets a CONFIG SET).
	 */
	void ensureConfigured(boolean atStart) {
		if (this.settings.keyspaceNotifications() == KeyspaceNotifications.OFF) {
			return;
		}
		try {
			for (NotifyKeyspaceEvents.Change change : NotifyKeyspaceEvents.ensure(this.redisson, 'K', 'x')) {
				if (change.changed()) {
					logger.info("Set notify-keyspace-events on {} from '{}' to '{}' for lapsed-lease detection",
							change.node(), change.before(), change.after());
				}
			}
			this.configured = true;
		}
		catch (RuntimeException ex) {
			if (RedisFault.unreachable(ex)) {
				// not a refusal: Redis is down, restarting or failing over; configured again once it answers
				if (atStart) {
					throw ex;
				}
				logger.debug("Could not check keyspace notifications: {}", ex.getMessage());
				return;
			}
			if (this.settings.keyspaceNotifications() == KeyspaceNotifications.ON) {
				if (atStart) {
					throw new StreamLeaseException("keyspace-notifications is 'on' but notify-keyspace-events could not be "
							+ "enabled on the Redis server (" + ex.getMessage() + "). Grant CONFIG GET/SET to the Redis user, "
							+ "enable 'Kx' in the server configuration, or set keyspace-notifications to 'auto'.", ex);
				}
				logger.warn("Could not re-enable keyspace notifications: {}", ex.getMessage());
			}
			else if (atStart || this.configured) {
				logger.warn("Keyspace notifications could not be enabled for service '{}' ({}); lapsed leases will be "
						+ "found by the sweep every {} instead. To use the fast path, enable 'Kx' in notify-keyspace-events "
						+ "on the server.", this.settings.serviceName(), ex.getMessage(), this.settings.sweepInterval());
				this.configured = false;
			}
		}
	}

	void stop() {
		if (this.topic != null) {
			try {
				this.topic.removeListener(this.listenerId);
			}
			catch (RuntimeException ex) {
				logger.debug("Could not unsubscribe from keyspace notifications", ex);
			}
		}
	}

}
