package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import io.streamlease.engine.ClaimResult;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseEngine;
import org.redisson.api.RedissonClient;

/**
 * An engine in this JVM with a Redisson client of its own (as a separate pod would have), whose events are taken
 * by one thread that records when each stream was ADDED (System.nanoTime) and then hands the event to an optional
 * handler.
 */
final class RecordingEngine implements AutoCloseable {

	/** When a stream was added, and whether it was recovered from another consumer. */
	record Added(long nanos, boolean recovered) {
	}

	private final RedissonClient redisson;

	private final StreamLeaseEngine client;

	private final Map<String, Added> added = new ConcurrentHashMap<>();

	private final LongAdder addedCount = new LongAdder();

	private final LongAdder recoveredCount = new LongAdder();

	private final LongAdder disowned = new LongAdder();

	private final Consumer<StreamEvent> handler;

	private volatile boolean closed;

	private Thread taker;

	private final LongAdder keyspaceNotifications = new LongAdder();

	private final LongAdder keyspaceDropped = new LongAdder();

	private final LongAdder sweepFound = new LongAdder();

	private final LongAdder claimsWon = new LongAdder();

	private final LongAdder claimsLost = new LongAdder();

	RecordingEngine(String uri, EngineSettings settings, Consumer<StreamEvent> handler) {
		this(RedissonClients.create(uri), settings, handler);
	}

	/** With {@code redisson} as its own client (shut down on close), for example a Redis Cluster client. */
	RecordingEngine(RedissonClient redisson, EngineSettings settings, Consumer<StreamEvent> handler) {
		this.redisson = redisson;
		this.client = StreamLeaseEngine.create(this.redisson, settings, new EngineMetrics() {

			@Override
			public void keyspaceNotification(String stream) {
				RecordingEngine.this.keyspaceNotifications.increment();
			}

			@Override
			public void keyspaceNotificationDropped() {
				RecordingEngine.this.keyspaceDropped.increment();
			}

			@Override
			public void sweepOrphansFound(int count) {
				RecordingEngine.this.sweepFound.add(count);
			}

			@Override
			public void claimAttempt(String stream, ClaimResult.Status result, Duration duration) {
				if (result == ClaimResult.Status.CLAIMED) {
					RecordingEngine.this.claimsWon.increment();
				}
				else {
					RecordingEngine.this.claimsLost.increment();
				}
			}

		});
		this.handler = handler;
	}

	/** What the engine's metrics reported: keyspace notifications received and dropped, sweep findings, claims. */
	record Signals(long keyspaceNotifications, long keyspaceDropped, long sweepFound, long claimsWon, long claimsLost) {
	}

	Signals signals() {
		return new Signals(this.keyspaceNotifications.sum(), this.keyspaceDropped.sum(), this.sweepFound.sum(),
				this.claimsWon.sum(), this.claimsLost.sum());
	}

	RecordingEngine start() {
		StreamEvents events = this.client.start();
		this.taker = new Thread(() -> take(events), "events-" + this.client.id());
		this.taker.setDaemon(true);
		this.taker.start();
		return this;
	}

	private void take(StreamEvents events) {
		try {
			while (!this.closed) {
				StreamEvent event = events.poll(Duration.ofMillis(200));
				if (event == null) {
					continue;
				}
				if (event.type() == StreamEvent.Type.ADDED) {
					long now = System.nanoTime();
					boolean recovered = event.lease().recovered();
					this.added.put(event.stream(), new Added(now, recovered));
					this.addedCount.increment();
					if (recovered) {
						this.recoveredCount.increment();
					}
				}
				else if (event.type() == StreamEvent.Type.DISOWNED) {
					this.disowned.increment();
				}
				if (this.handler != null) {
					this.handler.accept(event);
				}
				if (event.type() == StreamEvent.Type.TERMINATED) {
					return;
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Waits until {@code count} streams were added (recovered ones only if {@code recovered}); false on timeout. */
	boolean awaitAdded(int count, boolean recovered, Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while ((recovered ? this.recoveredCount.sum() : this.addedCount.sum()) < count) {
			if (System.nanoTime() - deadline > 0) {
				return false;
			}
			Thread.sleep(2);
		}
		return true;
	}

	Map<String, Added> added() {
		return this.added;
	}

	long addedCount() {
		return this.addedCount.sum();
	}

	long recoveredCount() {
		return this.recoveredCount.sum();
	}

	long disowned() {
		return this.disowned.sum();
	}

	StreamLeaseEngine client() {
		return this.client;
	}

	@Override
	public void close() {
		this.closed = true;
		try {
			this.client.close();
		}
		finally {
			this.redisson.shutdown();
		}
	}

}
