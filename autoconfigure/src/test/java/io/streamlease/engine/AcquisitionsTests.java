package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streamlease.Checkpoint;
import io.streamlease.ReleaseReason;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance of acquisition replies into held leases, without Redis: a new lease is held, counted and
 * announced; the same reply again returns the held lease; a stream acquired again under a new fencing token ends
 * the older lease (DISOWNED); a duplicate submission is counted and holds nothing.
 */
class AcquisitionsTests {

	private final EngineSettings settings = EngineSettings.builder("orders", "pod-1").build();

	private final HeldStreams held = new HeldStreams(10);

	private final EventChannel events = new EventChannel(10);

	private final EngineStatus status = new EngineStatus(EngineMetrics.NONE);

	private final Session session = new Session(Duration.ofSeconds(10));

	private Acquisitions acquisitions;

	@BeforeEach
	void openSession() {
		this.session.opened("7", System.nanoTime());
		EngineRuntime runtime = new EngineRuntime(this.settings, this.held::wakeAll);
		LeaseOwner owner = new LeaseOwner(this.settings, null, this.held, this.events, this.status, runtime,
				(what, failure) -> true);
		this.acquisitions = new Acquisitions(this.settings, null, this.session, this.held, owner, null, this.status,
				EngineMetrics.NONE, this.events, () -> true, () -> true);
	}

	@Test
	void anAcquiredStreamIsHeldCountedAndAnnounced() throws InterruptedException {
		List<Lease> toAnnounce = new ArrayList<>();
		Lease lease = this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.ACQUIRED, "a", 5, false),
				Map.of("user", "u1"), toAnnounce);

		assertThat(lease.name()).isEqualTo("a");
		assertThat(lease.fencingToken()).isEqualTo(5);
		assertThat(lease.consumerId()).isEqualTo("pod-1");
		assertThat(lease.info()).containsEntry("user", "u1");
		assertThat(lease.record()).isEqualTo(new OwnershipRecord(5, "7", "1-1"));
		assertThat(this.held.get("a")).isSameAs(lease);
		assertThat(toAnnounce).containsExactly(lease);
		assertThat(this.status.counters().added()).isEqualTo(1);

		this.acquisitions.announce(toAnnounce);
		StreamEvent event = this.events.poll(Duration.ZERO);
		assertThat(event.type()).isEqualTo(StreamEvent.Type.ADDED);
		assertThat(event.lease()).isSameAs(lease);
	}

	@Test
	void theSameReplyAgainReturnsTheHeldLease() {
		Lease first = this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.ACQUIRED, "a", 5, false),
				Map.of(), null);
		List<Lease> toAnnounce = new ArrayList<>();
		Lease again = this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.OWNED, "a", 5, false), Map.of(),
				toAnnounce);

		assertThat(again).isSameAs(first);
		assertThat(toAnnounce).as("announced once").isEmpty();
		assertThat(this.status.counters().added()).isEqualTo(1);
	}

	@Test
	void aStreamAcquiredAgainUnderANewTokenEndsTheOlderLease() throws InterruptedException {
		Lease older = this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.ACQUIRED, "a", 5, false),
				Map.of(), null);
		Lease newer = this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.ACQUIRED, "a", 6, true),
				Map.of(), null);

		assertThat(newer).isNotSameAs(older);
		assertThat(this.held.get("a")).isSameAs(newer);
		assertThat(older.state()).isEqualTo(Lease.State.DISOWNED);
		assertThat(older.released().toCompletableFuture().getNow(null)).isEqualTo(ReleaseReason.DISOWNED);
		StreamEvent event = this.events.poll(Duration.ZERO);
		assertThat(event.type()).isEqualTo(StreamEvent.Type.DISOWNED);
		assertThat(event.lease()).isSameAs(older);
		assertThat(event.reason()).contains("fencing token 6");
		assertThat(this.status.counters()).extracting(EngineCounters::added, EngineCounters::claimed,
				EngineCounters::disowned).containsExactly(1L, 1L, 1L);
	}

	@Test
	void aDuplicateSubmissionIsCountedAndHoldsNothing() {
		List<Lease> toAnnounce = new ArrayList<>();
		assertThat(this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.DUPLICATE, "a", 0, false),
				Map.of(), toAnnounce)).isNull();
		assertThat(this.acquisitions.accept(acquisition(LeaseStore.AcquisitionStatus.HELD, "b", 0, false), Map.of(),
				toAnnounce)).isNull();

		assertThat(toAnnounce).isEmpty();
		assertThat(this.held.size()).isZero();
		assertThat(this.status.counters().duplicates()).isEqualTo(1);
	}

	private static LeaseStore.Acquisition acquisition(LeaseStore.AcquisitionStatus status, String stream, long token,
			boolean recovered) {
		return new LeaseStore.Acquisition(status, stream, token, "1-1", recovered, "pod-2", Checkpoint.NONE, Map.of());
	}

}
