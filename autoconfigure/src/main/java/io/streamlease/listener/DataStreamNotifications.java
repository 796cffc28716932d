package io.streamlease.listener;

import java.util.function.Consumer;

import io.streamlease.engine.NotifyKeyspaceEvents;
import org.redisson.api.RPatternTopic;
import org.redisson.api.RedissonClient;
import org.redisson.api.listener.PatternStatusListener;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fast path of entry-level reading: the keyspace {@code xadd} event of every data stream, from one pattern
 * subscription ({@code __keyevent@*__:xadd}, on every master), whose message is the name of the stream that got an
 * entry. Enables the flags it needs ({@code E}, key-event channel, and {@code t}, stream commands) by merging them
 * into the server's existing setting, never removing one. Events are at-most-once (lost while the subscription
 * reconnects, absent when the server refuses CONFIG): the reader's safety poll covers them, and {@link #active()}
 * tells the reader whether to rely on them at all.
 */
final class DataStreamNotifications {

	private static final Logger logger = LoggerFactory.getLogger(DataStreamNotifications.class);

	static final String CHANNEL_PATTERN = "__keyevent@*__:xadd";

	private final RedissonClient redisson;

	private final String service;

	private final Consumer<String> added;

	private final Runnable resubscribed;

	private RPatternTopic topic;

	private int listenerId = -1;

	private int statusListenerId = -1;

	private volatile boolean active;

	private volatile boolean warned;

	private volatile boolean stopped;

	/**
	 * @param added called with the name of a stream that got an entry (on Redisson's threads; must not block)
	 * @param resubscribed called when the subscription was established again (events may have been missed)
	 */
	DataStreamNotifications(RedissonClient redisson, String service, Consumer<String> added, Runnable resubscribed) {
		this.redisson = redisson;
		this.service = service;
		this.added = added;
		this.resubscribed = resubscribed;
	}

	/**
	 * Subscribes (once) and checks the server's flags; called again every few seconds, because a restarted server
	 * forgets a CONFIG SET. Waits for Redis (so not on the reader's thread); never throws.
	 */
	synchronized void check() {
		if (this.stopped) {
			return;
		}
		try {
			if (this.topic == null) {
				RPatternTopic subscribing = this.redisson.getPatternTopic(CHANNEL_PATTERN, StringCodec.INSTANCE);
				this.listenerId = subscribing.addListener(String.class, (pattern, channel, stream) -> this.added.accept(stream));
				this.statusListenerId = subscribing.addListener(new PatternStatusListener() {

					@Override
					public void onPSubscribe(String pattern) {
						DataStreamNotifications.this.resubscribed.run();
					}

					@Override
					public void onPUnsubscribe(String pattern) {
					}

				});
				this.topic = subscribing;
			}
			for (NotifyKeyspaceEvents.Change change : NotifyKeyspaceEvents.ensure(this.redisson, 'E', 't')) {
				if (change.changed()) {
					logger.info("Set notify-keyspace-events on {} from '{}' to '{}' so that entry-level handlers of service "
							+ "'{}' learn of new entries at once", change.node(), change.before(), change.after(), this.service);
				}
			}
			boolean enabled = NotifyKeyspaceEvents.enabled(this.redisson, 'E', 't');
			if (enabled && !this.active) {
				this.resubscribed.run();
			}
			this.active = enabled;
			this.warned = false;
		}
		catch (RuntimeException ex) {
			if (this.active || !this.warned) {
				logger.warn("Entry-level handlers of service '{}' cannot use keyspace xadd events ({}); every idle data "
						+ "stream is read every max-poll-interval instead. To use the fast path, allow CONFIG GET/SET or "
						+ "enable 'Et' in notify-keyspace-events on the server.", this.service, ex.getMessage());
				this.warned = true;
			}
			this.active = false;
		}
	}

	/** Whether the events arrive, as far as the last check knows. */
	boolean active() {
		return this.active;
	}

	synchronized void stop() {
		this.stopped = true;
		RPatternTopic subscribed = this.topic;
		if (subscribed == null) {
			return;
		}
		try {
			subscribed.removeListener(this.listenerId);
			subscribed.removeListener(this.statusListenerId);
		}
		catch (RuntimeException ex) {
			logger.debug("Could not unsubscribe from keyspace xadd events", ex);
		}
		this.active = false;
	}

}
