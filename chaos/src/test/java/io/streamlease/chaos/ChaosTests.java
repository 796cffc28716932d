package io.streamlease.chaos;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The short chaos configuration, run by {@code ./mvnw verify}: three sample-app processes per run against a Redis of
 * their own, sessions submitted in the wire format, one round per fault, each drained before the next, then
 * everything verified from Redis alone. Fails on any lost or double-counted entry, fencing violation, LBS entry left
 * behind or wrong dead letter. The reports are written to {@code chaos/target/chaos/ci-report.md}.
 */
class ChaosTests {

	private static final Duration ROUND = Duration.ofSeconds(8);

	private static final Duration FAULT_AT = Duration.ofSeconds(3);

	private ChaosRun run;

	@AfterEach
	void killEveryProcess() {
		if (this.run != null) {
			this.run.close();
		}
	}

	@Test
	void instanceFaultsAndAMalformedBurstLoseNothingCountNothingTwiceAndKeepFencing() throws IOException {
		this.run = ChaosRun.start("ci, instance faults, keyspace notifications auto", settings());
		round("kill -9 an instance", FaultKind.KILL);
		round("SIGSTOP an instance > 3 x hb", FaultKind.PAUSE_INSTANCE);
		round("graceful stop (SIGTERM, handoff)", FaultKind.GRACEFUL_STOP);
		round("malformed LBS entries", FaultKind.MALFORMED_BURST);

		RunReport report = finish();
		assertThat(report.scenarios.get("kill -9 an instance").failovers).as("sessions taken over after kill -9")
			.isPositive();
		assertThat(report.scenarios.get("SIGSTOP an instance > 3 x hb").failovers).as("sessions taken over after SIGSTOP")
			.isPositive();
		assertThat(report.scenarios.get("graceful stop (SIGTERM, handoff)").failovers)
			.as("sessions handed off on SIGTERM and taken over").isPositive();
		assertThat(report.scenarios.get("malformed LBS entries").deadLettered).isEqualTo(settings().malformedBurst());
	}

	@Test
	void redisFaultsWithKeyspaceNotificationsOffLoseNothingCountNothingTwiceAndKeepFencing() throws IOException {
		this.run = ChaosRun.start("ci, Redis faults, keyspace notifications off",
				settings().withKeyspaceNotifications("off"));
		round("keyspace notifications off + kill -9 an instance", FaultKind.KILL);
		round("Redis SIGSTOP", FaultKind.PAUSE_REDIS);
		round("Redis restart (AOF) + malformed LBS entries", FaultKind.RESTART_REDIS, FaultKind.MALFORMED_BURST);

		RunReport report = finish();
		assertThat(report.scenarios.get("keyspace notifications off + kill -9 an instance").failovers)
			.as("sessions taken over by the sweep alone").isPositive();
		assertThat(report.faults).filteredOn((fault) -> fault.kind() != FaultKind.MALFORMED_BURST)
			.allSatisfy((fault) -> assertThat(fault.held()).as("leases at stake in " + fault.describe()).isNotEmpty());
	}

	private void round(String scenario, FaultKind... faults) {
		this.run.round(scenario, List.of(faults), ROUND, FAULT_AT, true);
	}

	private RunReport finish() throws IOException {
		RunReport report = this.run.finish();
		String markdown = report.markdown();
		System.out.println(markdown);
		Path file = this.run.settings().workDir().resolve("ci-report.md");
		Files.createDirectories(file.getParent());
		Files.writeString(file, markdown + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
		assertThat(report.total().sessions).as("sessions submitted").isPositive();
		assertThat(report.violations).as("violations (see " + file + ")").isEmpty();
		assertThat(report.unmetExpectations).as("unmet expectations (see " + file + ")").isEmpty();
		assertThat(report.total().lostEntries).isZero();
		assertThat(report.total().doubleCountedEntries).isZero();
		return report;
	}

	private static ChaosSettings settings() {
		String jar = System.getProperty("chaos.sample-app.jar");
		String workDir = System.getProperty("chaos.work-dir", "target/chaos");
		assertThat(jar).as("system property chaos.sample-app.jar (set by the chaos module's pom)").isNotNull();
		return ChaosSettings.defaults(Path.of(jar), Path.of(workDir));
	}

}
