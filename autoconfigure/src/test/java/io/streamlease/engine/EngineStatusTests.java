package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streamlease.Checkpoint;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's counts without Redis: each event is counted once in {@link EngineCounters} and reported to the
 * metrics listener as it is counted.
 */
class EngineStatusTests {

	private final List<String> signals = new ArrayList<>();

	private final EngineStatus status = new EngineStatus(new EngineMetrics() {

		@Override
		public void leaseAcquired(String stream, boolean recovered) {
			EngineStatusTests.this.signals.add("acquired " + stream + (recovered ? " recovered" : ""));
		}

		@Override
		public void streamProcessingStarted(String stream) {
			EngineStatusTests.this.signals.add("started " + stream);
		}

		@Override
		public void streamProcessingEnded(String stream, Duration held) {
			EngineStatusTests.this.signals.add("ended " + stream);
		}

		@Override
		public void leaseReleased(String stream, String how) {
			EngineStatusTests.this.signals.add("released " + stream + " " + how);
		}

		@Override
		public void disowned(String stream, String reason) {
			EngineStatusTests.this.signals.add("disowned " + stream);
		}

		@Override
		public void handedOff(int count) {
			EngineStatusTests.this.signals.add("handed off " + count);
		}

		@Override
		public void rebalanced(int count) {
			EngineStatusTests.this.signals.add("rebalanced " + count);
		}

		@Override
		public void deadLettered(DeadLetterReason reason) {
			EngineStatusTests.this.signals.add("dead-lettered " + reason.tag());
		}

		@Override
		public void duplicateSubmission(String stream) {
			EngineStatusTests.this.signals.add("duplicate " + stream);
		}

	});

	@Test
	void everyEventIsCountedOnceAndReportedToTheMetrics() {
		Session session = new Session(Duration.ofSeconds(10));
		session.opened("1", System.nanoTime());
		Lease added = new Lease(null, "a", "1-1", Map.of(), 1, false, Checkpoint.NONE, session);
		Lease claimed = new Lease(null, "b", "1-2", Map.of(), 2, true, Checkpoint.NONE, session);

		this.status.acquired(added);
		this.status.acquired(claimed);
		this.status.duplicate("a");
		this.status.completed(added);
		this.status.disowned(claimed, "lost");
		this.status.handedOff(3);
		this.status.rebalanced(2);
		this.status.deadLettered(DeadLetterReason.HANDLER_FAILED);

		assertThat(this.status.counters()).isEqualTo(new EngineCounters(1, 1, 1, 1, 5, 1, 1));
		assertThat(this.signals).containsExactly("acquired a", "started a", "acquired b recovered", "started b",
				"duplicate a", "released a done", "ended a", "disowned b", "handed off 3", "handed off 2", "rebalanced 2",
				"dead-lettered " + DeadLetterReason.HANDLER_FAILED.tag());
	}

	@Test
	void whatTheLastRenewalAndSweepSawIsKept() {
		assertThat(this.status.counters()).isEqualTo(new EngineCounters(0, 0, 0, 0, 0, 0, 0));
		assertThat(this.status.lastRenewal()).isNull();
		assertThat(this.status.liveConsumers()).isEmpty();
		List<String> live = new ArrayList<>(List.of("pod-1", "pod-2"));
		this.status.liveConsumers(live);
		live.clear();
		assertThat(this.status.liveConsumers()).as("a copy").containsExactly("pod-1", "pod-2");
		this.status.lbsPending(42);
		assertThat(this.status.lbsPending()).isEqualTo(42);
		this.status.renewed();
		assertThat(this.status.lastRenewal()).isNotNull();
	}

}
