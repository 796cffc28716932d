package io.streamlease.engine;

import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A paused engine takes no new streams, neither from the LBS nor by claiming orphans, while its own leases stay
 * renewed; resumed, it takes work again; handing off its held streams keeps its session.
 */
class PauseTests extends EngineTestSupport {

	@Test
	void aPausedEngineClaimsNoOrphanUntilItIsResumed() {
		Running survivor = start("survivor");
		Running owner = start("owner");
		survivor.client.pause();
		assertThat(survivor.client.isPaused()).isTrue();
		LbsProducer producer = producer();
		for (int i = 0; i < 5; i++) {
			producer.submit("orphan-" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> owner.owned().size() == 5);
		assertThat(survivor.owned()).isEmpty();
		owner.crash();
		// the owner's session lapses after one hb-interval: the paused survivor claims none of its streams
		await().during(HB.multipliedBy(2)).atMost(HB.multipliedBy(3)).until(() -> survivor.owned().isEmpty());
		assertThat(survivor.client.state()).isEqualTo(EngineState.RUNNING);

		survivor.client.resume();
		assertThat(survivor.client.isPaused()).isFalse();
		await().atMost(10, TimeUnit.SECONDS).until(() -> survivor.owned().size() == 5);
		assertThat(survivor.added.values()).allMatch((lease) -> lease.recovered());
	}

	@Test
	void handingOffTheHeldStreamsOfAPausedEngineMovesThemToAPeerAndKeepsItsSession() {
		Running paused = start("paused");
		Running peer = start("peer");
		peer.client.pause();
		LbsProducer producer = producer();
		for (int i = 0; i < 3; i++) {
			producer.submit("moved-" + i, null);
		}
		await().atMost(5, TimeUnit.SECONDS).until(() -> paused.owned().size() == 3);
		peer.client.resume();
		paused.client.pause();

		assertThat(paused.client.handOffHeld()).isEqualTo(3);
		assertThat(paused.owned()).isEmpty();
		// well within one hb-interval: the peer is told, it does not wait for a lapse
		await().atMost(HB).until(() -> peer.owned().size() == 3);
		assertThat(paused.client.counters().handedOff()).isEqualTo(3);
		assertThat(paused.events(StreamEvent.Type.DISOWNED)).isEmpty();
		assertThat(paused.client.sessionId()).isNotNull();

		// still a live consumer with its session: resumed, it takes new work
		peer.client.pause();
		producer.submit("after", null);
		paused.client.resume();
		await().atMost(5, TimeUnit.SECONDS).until(() -> paused.owned().contains("after"));
	}

}
