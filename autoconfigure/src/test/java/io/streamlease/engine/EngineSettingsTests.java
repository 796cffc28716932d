package io.streamlease.engine;

import java.time.Duration;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Every rule of the engine settings, and the defaults derived from hb-interval.
 */
class EngineSettingsTests {

	@Test
	void defaultsFollowTheSpecification() {
		EngineSettings settings = EngineSettings.builder("svc", "c1").build();
		assertThat(settings.hbInterval()).isEqualTo(Duration.ofSeconds(10));
		assertThat(settings.lbsIdleTime()).isEqualTo(Duration.ofSeconds(40));
		assertThat(settings.sweepInterval()).isEqualTo(Duration.ofMillis(2500));
		assertThat(settings.outputChannelSize()).isEqualTo(500);
		assertThat(settings.brokerInputSize()).isEqualTo(500);
		assertThat(settings.keyspaceChannelSize()).isEqualTo(100);
		assertThat(settings.lbsRecoveryCount()).isEqualTo(1000);
		assertThat(settings.retry()).isEqualTo(RetrySettings.DEFAULT);
		assertThat(settings.keyspaceNotifications()).isEqualTo(KeyspaceNotifications.AUTO);
		assertThat(settings.autoClaim()).isTrue();
		assertThat(settings.handoffOnClose()).isTrue();
		assertThat(settings.rebalance()).isEqualTo(RebalanceSettings.DEFAULT);
		assertThat(settings.rebalance().enabled()).isTrue();
		assertThat(settings.rebalance().tolerance()).isEqualTo(0.1);
		assertThat(settings.rebalance().maxFractionPerRound()).isEqualTo(0.25);
		assertThat(settings.rebalance().maxMovesPerRound()).isEqualTo(1000);
		assertThat(settings.rebalance().gracePeriod()).isEqualTo(Duration.ofSeconds(5));
		assertThat(settings.rebalanceInterval()).isEqualTo(Duration.ofSeconds(5));
		assertThat(settings.rebalanceSettleTime()).isEqualTo(Duration.ofSeconds(10));
	}

	@Test
	void derivedDefaultsFollowHbInterval() {
		EngineSettings settings = EngineSettings.builder("svc", "c1").hbInterval(Duration.ofSeconds(2)).build();
		assertThat(settings.lbsIdleTime()).isEqualTo(Duration.ofSeconds(8));
		assertThat(settings.sweepInterval()).isEqualTo(Duration.ofMillis(500));
	}

	@Test
	void retryDelaysDoubleUpToTheMaximumWithJitterInTheirUpperHalf() {
		RetrySettings retry = new RetrySettings(5, Duration.ofMillis(100), Duration.ofMillis(1000));
		assertThat(retry.cappedDelay(1)).isEqualTo(100);
		assertThat(retry.cappedDelay(2)).isEqualTo(200);
		assertThat(retry.cappedDelay(4)).isEqualTo(800);
		assertThat(retry.cappedDelay(5)).isEqualTo(1000);
		assertThat(retry.cappedDelay(80)).isEqualTo(1000);
		java.util.Set<Long> seen = new java.util.HashSet<>();
		for (int i = 0; i < 200; i++) {
			long delay = retry.delay(4).toMillis();
			assertThat(delay).isBetween(400L, 800L);
			seen.add(delay);
		}
		assertThat(seen).as("jittered delays").hasSizeGreaterThan(10);
		assertThat(retry.exhausted(5)).isFalse();
		assertThat(retry.exhausted(6)).isTrue();
		assertThat(new RetrySettings(-1, Duration.ofMillis(1), Duration.ofMillis(1)).exhausted(Integer.MAX_VALUE)).isFalse();
	}

	@Test
	void blankServiceName() {
		assertRejected(EngineSettings.builder(" ", "c1"), "service-name", "must not be blank");
	}

	@Test
	void serviceNameWithBraces() {
		assertRejected(EngineSettings.builder("a{b}", "c1"), "service-name", "hash tag");
	}

	@Test
	void blankConsumerId() {
		assertRejected(EngineSettings.builder("svc", ""), "consumer-id", "must not be blank");
	}

	@Test
	void nonPositiveValues() {
		assertRule((b) -> b.hbInterval(Duration.ZERO), "hb-interval", "greater than 0");
		assertRule((b) -> b.hbInterval(Duration.ofMillis(5)), "hb-interval", "at least 10ms");
		assertRule((b) -> b.outputChannelSize(0), "output-channel-size", "greater than 0");
		assertRule((b) -> b.brokerInputSize(-1), "broker-input-size", "greater than 0");
		assertRule((b) -> b.keyspaceChannelSize(0), "keyspace-channel-size", "greater than 0");
		assertRule((b) -> b.lbsRecoveryCount(0), "lbs-recovery-count", "greater than 0");
		assertRule((b) -> b.maxConcurrentStreams(0), "max-concurrent-streams", "greater than 0");
		assertRule((b) -> b.sweepInterval(Duration.ofMillis(-1)), "sweep-interval", "greater than 0");
		assertRule((b) -> b.readBatchSize(0), "read-batch-size", "greater than 0");
		assertRule((b) -> b.maxEntrySize(0), "max-entry-size", "greater than 0");
		assertRule((b) -> b.deadLetterMaxLength(0), "dead-letter-max-length", "greater than 0");
		assertRule((b) -> b.claimStagger(Duration.ofMillis(-1)), "claim-stagger", "0 or more");
		assertRule((b) -> b.checkpointRetention(Duration.ofMillis(-1)), "checkpoint-retention", "0 or more");
		assertRule((b) -> b.keyspaceNotifications(null), "keyspace-notifications", "auto, on, off");
	}

	@Test
	void lbsIdleTimeMustExceedTwiceTheHbInterval() {
		assertRule((b) -> b.hbInterval(Duration.ofSeconds(10)).lbsIdleTime(Duration.ofSeconds(20)), "lbs-idle-time",
				"greater than 2 x hb-interval (PT20S)");
		EngineSettings ok = EngineSettings.builder("svc", "c1").lbsIdleTime(Duration.ofSeconds(21)).build();
		assertThat(ok.lbsIdleTime()).isEqualTo(Duration.ofSeconds(21));
	}

	@Test
	void retryRules() {
		assertRule((b) -> b.retry(new RetrySettings(-2, Duration.ofMillis(1), Duration.ofMillis(2))), "retry.max-retries",
				"-1 (unlimited) or at least 0");
		assertRule((b) -> b.retry(new RetrySettings(1, Duration.ZERO, Duration.ofMillis(2))), "retry.initial-delay",
				"greater than 0");
		assertRule((b) -> b.retry(new RetrySettings(1, Duration.ofMillis(5), Duration.ofMillis(2))), "retry.initial-delay",
				"not be greater than retry.max-delay");
	}

	@Test
	void rebalanceRules() {
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, Duration.ZERO, 0.1, 0.25, 10, Duration.ZERO, null)),
				"rebalance.interval", "greater than 0");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, -0.1, 0.25, 10, Duration.ZERO, null)),
				"rebalance.tolerance", "between 0 and 10");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, Double.NaN, 0.25, 10, Duration.ZERO, null)),
				"rebalance.tolerance", "between 0 and 10");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, 0.1, 0, 10, Duration.ZERO, null)),
				"rebalance.max-fraction-per-round", "greater than 0 and at most 1");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, 0.1, 1.01, 10, Duration.ZERO, null)),
				"rebalance.max-fraction-per-round", "greater than 0 and at most 1");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, 0.1, 0.25, 0, Duration.ZERO, null)),
				"rebalance.max-moves-per-round", "greater than 0");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, 0.1, 0.25, 10, Duration.ofMillis(-1), null)),
				"rebalance.grace-period", "0 or more");
		assertRule((b) -> b.rebalance(new RebalanceSettings(true, null, 0.1, 0.25, 10, Duration.ZERO,
				Duration.ofMillis(-1))), "rebalance.settle-time", "0 or more");
	}

	@Test
	void rebalanceMovesAreDividedByWhatEachPeerLacks() {
		java.util.Map<String, Long> deficits = new java.util.LinkedHashMap<>();
		deficits.put("b", 300L);
		deficits.put("c", 100L);
		deficits.put("d", 1L);
		assertThat(Rebalancer.divide(100, deficits, 401)).isEqualTo(java.util.Map.of("b", 75, "c", 25));
		assertThat(Rebalancer.divide(401, deficits, 401)).isEqualTo(java.util.Map.of("b", 300, "c", 100, "d", 1));
		assertThat(Rebalancer.divide(3, deficits, 401).values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(3);
	}

	private static void assertRule(Consumer<EngineSettings.Builder> change, String setting, String rule) {
		EngineSettings.Builder builder = EngineSettings.builder("svc", "c1");
		change.accept(builder);
		assertRejected(builder, setting, rule);
	}

	private static void assertRejected(EngineSettings.Builder builder, String setting, String rule) {
		assertThatExceptionOfType(InvalidSettingException.class).isThrownBy(builder::build)
			.withMessageStartingWith(setting + " is ")
			.withMessageContaining(rule)
			.satisfies((ex) -> assertThat(ex.getSetting()).isEqualTo(setting));
	}

}
