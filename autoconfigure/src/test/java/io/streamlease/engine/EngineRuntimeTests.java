package io.streamlease.engine;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.awaitility.Awaitility.await;

/**
 * The engine's threads and lifecycle state without Redis: the state moves one way, the loops' sleeps end when the
 * engine stops, the takers park at a closed intake, stopping ends the threads it started, and background retries
 * run only while the scheduler does.
 */
class EngineRuntimeTests {

	private final AtomicInteger woken = new AtomicInteger();

	private final EngineRuntime runtime = new EngineRuntime(EngineSettings.builder("orders", "pod-1")
		.hbInterval(Duration.ofSeconds(2))
		.retry(new RetrySettings(-1, Duration.ofMillis(10), Duration.ofSeconds(5)))
		.build(), this.woken::incrementAndGet);

	@AfterEach
	void kill() {
		this.runtime.kill();
	}

	@Test
	void theStateMovesFromNewThroughStartingAndRunningToTerminatedOnce() {
		assertThat(this.runtime.state()).isEqualTo(EngineState.NEW);
		assertThat(this.runtime.isRunning()).isFalse();
		this.runtime.begin();
		assertThat(this.runtime.state()).isEqualTo(EngineState.STARTING);
		assertThat(this.runtime.isRunning()).isTrue();
		assertThatIllegalStateException().isThrownBy(this.runtime::begin)
			.withMessage("Engine of service 'orders' was already started (STARTING)");
		AtomicInteger started = new AtomicInteger();
		assertThat(this.runtime.startRunning(started::incrementAndGet)).isTrue();
		assertThat(started).hasValue(1);
		assertThat(this.runtime.state()).isEqualTo(EngineState.RUNNING);
		assertThat(this.runtime.isTaking()).isTrue();

		assertThat(this.runtime.beginStop()).isTrue();
		assertThat(this.runtime.state()).isEqualTo(EngineState.STOPPING);
		assertThat(this.runtime.isRunning()).isFalse();
		assertThat(this.runtime.isReading()).isFalse();
		assertThat(this.runtime.beginStop()).as("a second close").isFalse();
		assertThat(this.runtime.beginTermination("late")).as("a termination while stopping").isFalse();
		assertThat(this.runtime.startRunning(started::incrementAndGet)).as("components after the stop").isFalse();
		assertThat(started).hasValue(1);
		this.runtime.terminated("closed");
		assertThat(this.runtime.state()).isEqualTo(EngineState.TERMINATED);
		assertThat(this.runtime.terminationReason()).isEqualTo("closed");
	}

	@Test
	void aTerminationKeepsItsReasonFromTheStart() {
		this.runtime.begin();
		assertThat(this.runtime.beginTermination("the LBS reader gave up")).isTrue();
		assertThat(this.runtime.state()).isEqualTo(EngineState.STOPPING);
		assertThat(this.runtime.terminationReason()).isEqualTo("the LBS reader gave up");
		assertThat(this.runtime.beginTermination("again")).isFalse();
		this.runtime.terminated();
		assertThat(this.runtime.state()).isEqualTo(EngineState.TERMINATED);
		assertThat(this.runtime.terminationReason()).isEqualTo("the LBS reader gave up");
	}

	@Test
	void aSleepWhileRunningEndsSoonAfterTheEngineStops() throws Exception {
		this.runtime.begin();
		this.runtime.startRunning(() -> {
		});
		CompletableFuture<Boolean> sleeping = CompletableFuture.supplyAsync(() -> this.runtime.sleepWhileRunning(Duration.ofMinutes(1)));
		CompletableFuture<Boolean> backingOff = CompletableFuture.supplyAsync(() -> this.runtime.backOff(Duration.ofMinutes(1), () -> false));
		assertThat(sleeping).isNotDone();
		this.runtime.beginStop();
		assertThat(sleeping.get(2, TimeUnit.SECONDS)).isTrue();
		assertThat(backingOff.get(2, TimeUnit.SECONDS)).isTrue();
	}

	@Test
	void aBackOffEndsWhenItIsToldToWakeEarly() throws Exception {
		this.runtime.begin();
		CountDownLatch reachable = new CountDownLatch(1);
		CompletableFuture<Boolean> backingOff = CompletableFuture
			.supplyAsync(() -> this.runtime.backOff(Duration.ofMinutes(1), () -> reachable.getCount() == 0));
		assertThat(backingOff).isNotDone();
		reachable.countDown();
		assertThat(backingOff.get(2, TimeUnit.SECONDS)).isTrue();
	}

	@Test
	void pausingWaitsUntilTheTakersAreParkedAndStopReadingEndsThem() throws Exception {
		this.runtime.begin();
		this.runtime.startScheduler();
		this.runtime.startRunning(() -> {
		});
		AtomicInteger readerTurns = new AtomicInteger();
		AtomicInteger claimTurns = new AtomicInteger();
		this.runtime.startReader(() -> take(readerTurns));
		this.runtime.startClaims(() -> take(claimTurns));
		await().atMost(Duration.ofSeconds(2)).until(() -> readerTurns.get() > 0 && claimTurns.get() > 0);

		assertThat(this.runtime.closeIntake()).isTrue();
		assertThat(this.runtime.closeIntake()).as("closed already").isFalse();
		assertThat(this.runtime.isPaused()).isTrue();
		assertThat(this.runtime.isTaking()).isFalse();
		this.runtime.awaitTakersParked(Duration.ofSeconds(2));
		int reader = readerTurns.get();
		int claims = claimTurns.get();
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1))
			.until(() -> readerTurns.get() == reader && claimTurns.get() == claims);

		assertThat(this.runtime.openIntake()).isTrue();
		await().atMost(Duration.ofSeconds(2)).until(() -> readerTurns.get() > reader && claimTurns.get() > claims);

		this.runtime.stopReading();
		assertThat(this.woken).as("threads waiting for room were woken").hasPositiveValue();
		assertThat(this.runtime.isReading()).isFalse();
		assertThat(this.runtime.isRunning()).as("renewal goes on").isTrue();
		int finalTurns = readerTurns.get() + claimTurns.get();
		await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1))
			.until(() -> readerTurns.get() + claimTurns.get() == finalTurns);
	}

	@Test
	void aBackgroundRetryRunsAfterItsBackOffOnlyWhileTheSchedulerRuns() {
		Runnable never = () -> {
			throw new AssertionError("ran without a scheduler");
		};
		assertThat(this.runtime.retryLater(never, 1)).as("before the start").isFalse();
		this.runtime.startScheduler();
		CountDownLatch ran = new CountDownLatch(1);
		assertThat(this.runtime.retryLater(ran::countDown, 1)).isTrue();
		await().atMost(Duration.ofSeconds(2)).until(() -> ran.getCount() == 0);
		assertThat(this.runtime.backgroundRetryDelay(30)).as("capped at hb-interval / 2").isEqualTo(Duration.ofSeconds(1));
		this.runtime.shutdownScheduler();
		assertThat(this.runtime.retryLater(never, 1)).as("after the shutdown").isFalse();
	}

	@Test
	void aKilledRuntimeInterruptsItsThreadsAndReportsKilled() throws Exception {
		this.runtime.begin();
		this.runtime.startScheduler();
		CountDownLatch interrupted = new CountDownLatch(1);
		this.runtime.startReader(() -> {
			try {
				Thread.sleep(Duration.ofMinutes(1).toMillis());
			}
			catch (InterruptedException ex) {
				interrupted.countDown();
			}
		});
		this.runtime.kill();
		assertThat(interrupted.await(2, TimeUnit.SECONDS)).isTrue();
		assertThat(this.runtime.state()).isEqualTo(EngineState.TERMINATED);
		assertThat(this.runtime.terminationReason()).isEqualTo("killed");
		assertThat(this.runtime.scheduler().isShutdown()).isTrue();
	}

	/** A taking loop like the reader's: passes the intake between two turns, counting its turns. */
	private void take(AtomicInteger turns) {
		try {
			while (this.runtime.isReading()) {
				if (this.runtime.passIntake(Duration.ofMillis(50))) {
					turns.incrementAndGet();
					Thread.sleep(5);
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
