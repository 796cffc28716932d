package io.streamlease.autoconfigure;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamlease.engine.ClaimResult;
import io.streamlease.engine.DeadLetterReason;
import io.streamlease.engine.EngineMetrics;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How each signal of the engine becomes a meter, without Redis.
 */
class MicrometerEngineMetricsTests {

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private final EngineMetrics metrics = new MicrometerEngineMetricsFactory(this.registry).create("orders", () -> null);

	@Test
	void everyMeterExistsBeforeTheFirstEventTaggedWithTheServiceOnly() {
		Set<String> names = new TreeSet<>();
		for (Meter meter : this.registry.getMeters()) {
			names.add(meter.getId().getName());
			assertThat(meter.getId().getTag(StreamLeaseMeters.SERVICE)).as(meter.getId().toString()).isEqualTo("orders");
			assertThat(meter.getId().getTags()).hasSizeLessThanOrEqualTo(2);
		}
		assertThat(names).containsExactlyInAnyOrder(StreamLeaseMeters.OWNED, StreamLeaseMeters.LBS_PENDING,
				StreamLeaseMeters.EVENTS, StreamLeaseMeters.CLAIMS, StreamLeaseMeters.RENEWAL_DURATION,
				StreamLeaseMeters.RENEWAL_LOST, StreamLeaseMeters.HANDLER_DURATION, StreamLeaseMeters.PROCESSING_DURATION,
				StreamLeaseMeters.DEAD_LETTERS, StreamLeaseMeters.KEYSPACE_DROPPED, StreamLeaseMeters.SWEEP_ORPHANS,
				StreamLeaseMeters.DUPLICATES, StreamLeaseMeters.RENEWAL_AGE, StreamLeaseMeters.ENTRY_READS_ACTIVE,
				StreamLeaseMeters.ENTRY_CHECKPOINTS_ACTIVE, StreamLeaseMeters.HELD_OLDEST_AGE, StreamLeaseMeters.TERMINATED,
				StreamLeaseMeters.SHARE, StreamLeaseMeters.REBALANCE_MOVED);
		assertThat(this.registry.find(StreamLeaseMeters.EVENTS).counters()).hasSize(6);
		assertThat(this.registry.find(StreamLeaseMeters.CLAIMS).counters()).hasSize(ClaimResult.Status.values().length);
		assertThat(this.registry.find(StreamLeaseMeters.DEAD_LETTERS).counters()).hasSize(DeadLetterReason.values().length);
		assertThat(this.registry.find(StreamLeaseMeters.HANDLER_DURATION).timers()).hasSize(5);
	}

	@Test
	void gaugesReadZeroAndNaNUntilTheEngineExists() {
		assertThat(this.registry.get(StreamLeaseMeters.OWNED).tag("service", "orders").gauge().value()).isZero();
		assertThat(this.registry.get(StreamLeaseMeters.LBS_PENDING).tag("service", "orders").gauge().value()).isNaN();
		assertThat(this.registry.get(StreamLeaseMeters.RENEWAL_AGE).tag("service", "orders").gauge().value()).isNaN();
		assertThat(this.registry.get(StreamLeaseMeters.TERMINATED).tag("service", "orders").gauge().value()).isZero();

		assertThat(this.registry.get(StreamLeaseMeters.SHARE).tag("service", "orders").gauge().value()).isNaN();
		assertThat(this.registry.get(StreamLeaseMeters.ENTRY_READS_ACTIVE).tag("service", "orders").gauge().value())
			.isZero();
		assertThat(this.registry.get(StreamLeaseMeters.ENTRY_CHECKPOINTS_ACTIVE).tag("service", "orders").gauge().value())
			.isZero();
		assertThat(this.registry.get(StreamLeaseMeters.HELD_OLDEST_AGE).tag("service", "orders").gauge().value()).isZero();
	}

	@Test
	void leaseLifecycleSignalsCountAsEventsByType() {
		this.metrics.leaseAcquired("s1", false);
		this.metrics.leaseAcquired("s2", false);
		this.metrics.leaseAcquired("s3", true);
		this.metrics.leaseReleased("s1", "done");
		this.metrics.leaseReleased("s2", "dead-letter");
		this.metrics.disowned("s3", "renewal found the lease gone");
		this.metrics.handedOff(4);
		this.metrics.keyspaceNotification("s9");
		assertThat(event("added")).isEqualTo(2);
		assertThat(event("claimed")).isEqualTo(1);
		assertThat(event("completed")).isEqualTo(1);
		assertThat(event("disowned")).isEqualTo(1);
		assertThat(event("handoff")).isEqualTo(4);
		assertThat(event("expired")).isEqualTo(1);
	}

	@Test
	void claimsCountByResult() {
		this.metrics.claimAttempt("s1", ClaimResult.Status.CLAIMED, Duration.ofMillis(2));
		this.metrics.claimAttempt("s2", ClaimResult.Status.ALREADY_CLAIMED, Duration.ofMillis(2));
		this.metrics.claimAttempt("s3", ClaimResult.Status.ALREADY_CLAIMED, Duration.ofMillis(2));
		this.metrics.claimAttempt("s4", ClaimResult.Status.AT_CAPACITY, Duration.ofMillis(2));
		assertThat(counter(StreamLeaseMeters.CLAIMS, "result", "claimed")).isEqualTo(1);
		assertThat(counter(StreamLeaseMeters.CLAIMS, "result", "already-claimed")).isEqualTo(2);
		assertThat(counter(StreamLeaseMeters.CLAIMS, "result", "at-capacity")).isEqualTo(1);
		assertThat(counter(StreamLeaseMeters.CLAIMS, "result", "gone")).isZero();
	}

	@Test
	void everyRenewalTickIsTimedByResultAndLostLeasesAreCounted() {
		this.metrics.renewal(10, 0, true, Duration.ofMillis(3));
		this.metrics.renewal(10, 2, true, Duration.ofMillis(5));
		this.metrics.renewal(8, 0, false, Duration.ofMillis(500));
		assertThat(timer(StreamLeaseMeters.RENEWAL_DURATION, "result", "success").count()).isEqualTo(2);
		assertThat(timer(StreamLeaseMeters.RENEWAL_DURATION, "result", "success").totalTime(TimeUnit.MILLISECONDS))
			.isEqualTo(8);
		assertThat(timer(StreamLeaseMeters.RENEWAL_DURATION, "result", "failure").count()).isEqualTo(1);
		assertThat(this.registry.get(StreamLeaseMeters.RENEWAL_LOST).counter().count()).isEqualTo(2);
	}

	@Test
	void handlerInvocationsAreTimedByOutcome() {
		this.metrics.handlerInvocation("s1", "success", Duration.ofMillis(40));
		this.metrics.handlerInvocation("s2", "retried", Duration.ofMillis(10));
		this.metrics.handlerInvocation("s2", "dead-lettered", Duration.ofMillis(10));
		assertThat(timer(StreamLeaseMeters.HANDLER_DURATION, "outcome", "success").count()).isEqualTo(1);
		assertThat(timer(StreamLeaseMeters.HANDLER_DURATION, "outcome", "retried").count()).isEqualTo(1);
		assertThat(timer(StreamLeaseMeters.HANDLER_DURATION, "outcome", "dead-lettered").count()).isEqualTo(1);
		assertThat(timer(StreamLeaseMeters.HANDLER_DURATION, "outcome", "error").count()).isZero();
	}

	@Test
	void deadLettersCountByReasonAndTheOtherSignalsByName() {
		this.metrics.deadLettered(DeadLetterReason.INVALID_JSON);
		this.metrics.deadLettered(DeadLetterReason.HANDLER_FAILED);
		this.metrics.deadLettered(DeadLetterReason.HANDLER_FAILED);
		this.metrics.keyspaceNotificationDropped();
		this.metrics.sweepOrphansFound(3);
		this.metrics.duplicateSubmission("s1");
		this.metrics.streamProcessingEnded("s1", Duration.ofSeconds(2));
		assertThat(counter(StreamLeaseMeters.DEAD_LETTERS, "reason", "invalid-json")).isEqualTo(1);
		assertThat(counter(StreamLeaseMeters.DEAD_LETTERS, "reason", "handler-failed")).isEqualTo(2);
		assertThat(counter(StreamLeaseMeters.DEAD_LETTERS, "reason", "oversized")).isZero();
		assertThat(this.registry.get(StreamLeaseMeters.KEYSPACE_DROPPED).counter().count()).isEqualTo(1);
		assertThat(this.registry.get(StreamLeaseMeters.SWEEP_ORPHANS).counter().count()).isEqualTo(3);
		assertThat(this.registry.get(StreamLeaseMeters.DUPLICATES).counter().count()).isEqualTo(1);
		assertThat(this.registry.get(StreamLeaseMeters.PROCESSING_DURATION).timer().totalTime(TimeUnit.SECONDS))
			.isEqualTo(2);
	}

	@Test
	void theMetersOfTwoServicesAreSeparate() {
		EngineMetrics billing = new MicrometerEngineMetricsFactory(this.registry).create("billing", () -> null);
		billing.leaseAcquired("s1", false);
		assertThat(this.registry.get(StreamLeaseMeters.EVENTS).tags("service", "billing", "type", "added").counter().count())
			.isEqualTo(1);
		assertThat(event("added")).isZero();
	}

	private double event(String type) {
		return counter(StreamLeaseMeters.EVENTS, "type", type);
	}

	private double counter(String name, String tag, String value) {
		return this.registry.get(name).tags("service", "orders", tag, value).counter().count();
	}

	private io.micrometer.core.instrument.Timer timer(String name, String tag, String value) {
		return this.registry.get(name).tags("service", "orders", tag, value).timer();
	}

}
