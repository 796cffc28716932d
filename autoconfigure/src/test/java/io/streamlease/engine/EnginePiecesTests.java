package io.streamlease.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.streamlease.Checkpoint;
import io.streamlease.ReleaseReason;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;

/**
 * The pieces of the engine that need no Redis: the ownership record, the session's local safety deadline, the
 * table of held streams and its capacity, the classification of Redis faults.
 */
class EnginePiecesTests {

	@Test
	void notificationFlagsAreAddedToTheServersSettingAndNeverRemoved() {
		assertThat(NotifyKeyspaceEvents.merge("", 'K', 'x')).isEqualTo("Kx");
		assertThat(NotifyKeyspaceEvents.merge(null, 'E', 't')).isEqualTo("Et");
		assertThat(NotifyKeyspaceEvents.merge("Ex", 'K', 'x')).isEqualTo("ExK");
		assertThat(NotifyKeyspaceEvents.merge("KEA", 'E', 't')).isEqualTo("KEA");
		assertThat(NotifyKeyspaceEvents.merge("Kxg", 'E', 't')).isEqualTo("KxgEt");
	}

	@Test
	void anOwnershipRecordIsWrittenAndReadInOnePlace() {
		OwnershipRecord record = new OwnershipRecord(1839272896869376L, "17", "1700000000000-3");
		assertThat(record.value()).isEqualTo("1839272896869376:17:1700000000000-3");
		assertThat(OwnershipRecord.parse(record.value())).isEqualTo(record);
		assertThat(OwnershipRecord.parse(null)).isNull();
		assertThat(OwnershipRecord.parse("")).isNull();
		assertThatIllegalArgumentException().isThrownBy(() -> OwnershipRecord.parse("42")).withMessageContaining("'42'");
		assertThat(OwnershipRecord.describe(record.value(), "pod-2"))
			.isEqualTo("held by consumer 'pod-2' with fencing token 1839272896869376");
		assertThat(OwnershipRecord.describe(record.value(), null)).startsWith("held by a session that ended");
		assertThat(OwnershipRecord.describe("", null)).isEqualTo("gone");
	}

	@Test
	void releasedCompletesWithTheFirstReasonWhetherItWasAskedForBeforeOrAfterTheLeaseEnded() {
		Session session = new Session(Duration.ofSeconds(10));
		session.opened("5", System.nanoTime());
		Lease askedFirst = new Lease(null, "s1", "1-1", Map.of(), 7, false, new Checkpoint("", Map.of(), 7, 0), session);
		CompletableFuture<ReleaseReason> early = askedFirst.released().toCompletableFuture();
		assertThat(early).isNotDone();
		assertThat(askedFirst.released()).as("one future per lease").isSameAs(early);
		assertThat(askedFirst.end(Lease.State.DISOWNED)).isTrue();
		assertThat(early).isCompletedWithValue(ReleaseReason.DISOWNED);
		assertThat(askedFirst.end(Lease.State.HANDED_OFF)).as("ends once").isFalse();

		Lease askedLater = new Lease(null, "s2", "1-2", Map.of(), 8, false, new Checkpoint("", Map.of(), 8, 0), session);
		assertThat(askedLater.end(Lease.State.HANDED_OFF)).isTrue();
		assertThat(askedLater.released().toCompletableFuture()).isCompletedWithValue(ReleaseReason.HANDED_OFF);
		assertThat(askedLater.fencingToken()).isEqualTo(8);
		assertThat(askedLater.lbsEntryId()).isEqualTo("1-2");
		assertThat(askedLater.record()).isEqualTo(new OwnershipRecord(8, "5", "1-2"));

		Lease done = new Lease(null, "s3", "1-3", Map.of(), 9, false, new Checkpoint("", Map.of(), 9, 0), session);
		assertThat(done.end(Lease.State.DONE)).isTrue();
		assertThat(done.released().toCompletableFuture()).as("a finished stream is not released").isNotDone();
		assertThat(done.acquiredAt()).isBeforeOrEqualTo(Instant.now());
	}

	@Test
	void aSessionIsSafeFor80PercentOfTheTtlAfterTheRenewalWasSentAndNotAfterItWasAbandoned() {
		Session session = new Session(Duration.ofMillis(500));
		assertThat(session.isSafe()).as("before it opened").isFalse();
		assertThat(session.safetyWindow()).isEqualTo(Duration.ofMillis(400));
		long sent = System.nanoTime();
		session.opened("3", sent);
		assertThat(session.id()).isEqualTo("3");
		assertThat(session.isSafe()).isTrue();
		session.renewed(sent - TimeUnit.SECONDS.toNanos(10));
		assertThat(session.isSafe()).as("an older renewal never shortens the deadline").isTrue();
		await().atMost(Duration.ofSeconds(2)).until(() -> !session.isSafe());
		session.renewed(System.nanoTime());
		assertThat(session.isSafe()).isTrue();
		assertThat(session.abandon()).isEqualTo("3");
		assertThat(session.id()).isNull();
		assertThat(session.isSafe()).isFalse();
		assertThat(session.abandon()).isNull();
	}

	@Test
	void heldStreamsTrackRoomAndWakeWhoWaitsForIt() throws Exception {
		HeldStreams held = new HeldStreams(2);
		Session session = new Session(Duration.ofSeconds(10));
		session.opened("1", System.nanoTime());
		Lease a = lease("a", session);
		Lease b = lease("b", session);
		held.put(a);
		held.put(b);
		assertThat(held.room()).isZero();
		assertThat(held.holds("a")).isTrue();
		CompletableFuture<Void> waiting = CompletableFuture.runAsync(() -> {
			try {
				held.awaitRoom(Duration.ofSeconds(10), () -> true);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		});
		held.remove(lease("a", session));
		assertThat(held.holds("a")).as("only the lease object that is held is removed").isTrue();
		held.remove(a);
		waiting.get(5, TimeUnit.SECONDS);
		assertThat(held.room()).isEqualTo(1);
		assertThat(held.snapshot()).containsExactly(b);
	}

	@Test
	void faultsThatNoRetryFixesAreFatalAndEveryOtherIsRetried() {
		assertThat(RedisFault.of(new RuntimeException("WRONGPASS invalid username-password pair"))).isEqualTo(RedisFault.AUTHENTICATION);
		assertThat(RedisFault.of(new RuntimeException("x", new RuntimeException("NOPERM this user has no permissions to run the 'evalsha' command"))))
			.isEqualTo(RedisFault.PERMISSION);
		assertThat(RedisFault.of(new RuntimeException("NOGROUP No such key 'orders-input'"))).isEqualTo(RedisFault.MISSING_GROUP);
		for (String transient_ : new String[] { "LOADING Redis is loading", "BUSY Redis is busy", "READONLY You can't write",
				"MASTERDOWN Link with MASTER is down", "CLUSTERDOWN The cluster is down", "MOVED 3999 127.0.0.1:6381",
				"Connection refused" }) {
			assertThat(RedisFault.of(new RuntimeException(transient_))).as(transient_).isEqualTo(RedisFault.TRANSIENT);
			assertThat(RedisFault.of(new RuntimeException(transient_)).fatal()).isFalse();
		}
		assertThat(RedisFault.unreachable(new RuntimeException("LOADING Redis is loading"))).isTrue();
		assertThat(RedisFault.unreachable(new java.io.IOException("reset"))).isTrue();
		assertThat(RedisFault.unreachable(new RuntimeException("ERR unknown command 'CONFIG'"))).isFalse();
		assertThat(RedisFault.PERMISSION.reason("renewing", new RuntimeException("NOPERM no evalsha")))
			.contains("renewing").contains("NOPERM no evalsha");
	}

	private static Lease lease(String name, Session session) {
		return new Lease(null, name, "1-1", Map.of(), 1, false, Checkpoint.NONE, session);
	}

}
