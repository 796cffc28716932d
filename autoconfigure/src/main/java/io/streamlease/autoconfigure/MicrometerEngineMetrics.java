package io.streamlease.autoconfigure;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.streamlease.engine.ClaimResult;
import io.streamlease.engine.DeadLetterReason;
import io.streamlease.engine.EngineMetrics;

/**
 * Records the signals of one service's engine as the Micrometer meters listed in {@link StreamLeaseMeters}.
 * The counters and timers of every fixed tag value are registered up front, so that they read 0 before the first
 * event and nothing is looked up on the engine's threads. The gauges are registered by
 * {@link MicrometerEngineMetricsFactory}.
 */
final class MicrometerEngineMetrics implements EngineMetrics {

	/** The values of the {@code type} tag of {@link StreamLeaseMeters#EVENTS}. */
	static final List<String> EVENT_TYPES = List.of("added", "claimed", "completed", "disowned", "handoff", "expired");

	/** The values of the {@code outcome} tag of {@link StreamLeaseMeters#HANDLER_DURATION}. */
	static final List<String> HANDLER_OUTCOMES = List.of("success", "error", "cancelled", "retried", "dead-lettered");

	private final MeterRegistry registry;

	private final Tags tags;

	private final Counter added;

	private final Counter claimed;

	private final Counter completed;

	private final Counter disowned;

	private final Counter handoff;

	private final Counter expired;

	private final Map<ClaimResult.Status, Counter> claims = new EnumMap<>(ClaimResult.Status.class);

	private final Map<DeadLetterReason, Counter> deadLetters = new EnumMap<>(DeadLetterReason.class);

	private final Map<String, Timer> handlerDurations = new ConcurrentHashMap<>();

	private final Timer renewalSuccess;

	private final Timer renewalFailure;

	private final Counter renewalLost;

	private final Timer processingDuration;

	private final Counter keyspaceDropped;

	private final Counter sweepOrphans;

	private final Counter duplicates;

	private final Counter rebalanced;

	MicrometerEngineMetrics(MeterRegistry registry, String service) {
		this.registry = registry;
		this.tags = Tags.of(StreamLeaseMeters.SERVICE, service);
		this.added = event("added");
		this.claimed = event("claimed");
		this.completed = event("completed");
		this.disowned = event("disowned");
		this.handoff = event("handoff");
		this.expired = event("expired");
		for (ClaimResult.Status status : ClaimResult.Status.values()) {
			this.claims.put(status, Counter.builder(StreamLeaseMeters.CLAIMS)
				.description("Claim attempts of lapsed data streams")
				.tags(this.tags)
				.tag(StreamLeaseMeters.RESULT, status.tag())
				.register(registry));
		}
		for (DeadLetterReason reason : DeadLetterReason.values()) {
			this.deadLetters.put(reason, Counter.builder(StreamLeaseMeters.DEAD_LETTERS)
				.description("LBS entries moved to the dead-letter stream")
				.tags(this.tags)
				.tag(StreamLeaseMeters.REASON, reason.tag())
				.register(registry));
		}
		for (String outcome : HANDLER_OUTCOMES) {
			handlerDuration(outcome);
		}
		this.renewalSuccess = renewalTimer("success");
		this.renewalFailure = renewalTimer("failure");
		this.renewalLost = counter(StreamLeaseMeters.RENEWAL_LOST, "Leases that a renewal found gone or owned by another consumer");
		this.processingDuration = Timer.builder(StreamLeaseMeters.PROCESSING_DURATION)
			.description("How long finished data streams were held, from acquisition to done")
			.tags(this.tags)
			.register(registry);
		this.keyspaceDropped = counter(StreamLeaseMeters.KEYSPACE_DROPPED,
				"Keyspace notifications dropped because the keyspace channel was full");
		this.sweepOrphans = counter(StreamLeaseMeters.SWEEP_ORPHANS,
				"Lapsed leases and orphaned LBS entries found by the sweep");
		this.duplicates = counter(StreamLeaseMeters.DUPLICATES, "LBS entries that arrived for a data stream already held");
		this.rebalanced = counter(StreamLeaseMeters.REBALANCE_MOVED,
				"Data streams this consumer handed off to consumers below their fair share");
	}

	private Counter event(String type) {
		return Counter.builder(StreamLeaseMeters.EVENTS)
			.description("Lifecycle events of leases")
			.tags(this.tags)
			.tag(StreamLeaseMeters.TYPE, type)
			.register(this.registry);
	}

	private Counter counter(String name, String description) {
		return Counter.builder(name).description(description).tags(this.tags).register(this.registry);
	}

	private Timer renewalTimer(String result) {
		return Timer.builder(StreamLeaseMeters.RENEWAL_DURATION)
			.description("Renewal ticks: one batch renewal of every held lease")
			.tags(this.tags)
			.tag(StreamLeaseMeters.RESULT, result)
			.register(this.registry);
	}

	private Timer handlerDuration(String outcome) {
		return this.handlerDurations.computeIfAbsent(outcome, (key) -> Timer.builder(StreamLeaseMeters.HANDLER_DURATION)
			.description("Invocations of the @StreamHandler method")
			.tags(this.tags)
			.tag(StreamLeaseMeters.OUTCOME, key)
			.register(this.registry));
	}

	@Override
	public void claimAttempt(String stream, ClaimResult.Status result, Duration duration) {
		if (result != null) {
			this.claims.get(result).increment();
		}
	}

	@Override
	public void leaseAcquired(String stream, boolean recovered) {
		(recovered ? this.claimed : this.added).increment();
	}

	@Override
	public void renewal(int leases, int lost, boolean success, Duration duration) {
		(success ? this.renewalSuccess : this.renewalFailure).record(duration);
		if (lost > 0) {
			this.renewalLost.increment(lost);
		}
	}

	@Override
	public void leaseReleased(String stream, String how) {
		if ("done".equals(how)) {
			this.completed.increment();
		}
	}

	@Override
	public void streamProcessingEnded(String stream, Duration held) {
		this.processingDuration.record(held);
	}

	@Override
	public void keyspaceNotification(String consumer) {
		this.expired.increment();
	}

	@Override
	public void keyspaceNotificationDropped() {
		this.keyspaceDropped.increment();
	}

	@Override
	public void disowned(String stream, String reason) {
		this.disowned.increment();
	}

	@Override
	public void handedOff(int count) {
		this.handoff.increment(count);
	}

	@Override
	public void rebalanced(int count) {
		this.rebalanced.increment(count);
	}

	@Override
	public void sweepOrphansFound(int count) {
		this.sweepOrphans.increment(count);
	}

	@Override
	public void deadLettered(DeadLetterReason reason) {
		if (reason != null) {
			this.deadLetters.get(reason).increment();
		}
	}

	@Override
	public void duplicateSubmission(String stream) {
		this.duplicates.increment();
	}

	@Override
	public void handlerInvocation(String stream, String outcome, Duration duration) {
		handlerDuration((outcome != null) ? outcome : "unknown").record(duration);
	}

}
