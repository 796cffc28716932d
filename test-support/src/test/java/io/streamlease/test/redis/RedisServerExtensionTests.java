package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Tests for {@link SharedRedisServer} and {@link RedisServerExtension}: each runs an example test class with
 * the JUnit launcher and checks what the example saw and what is left running afterwards.
 */
class RedisServerExtensionTests {

	/** What the running example saw, reset before each run. */
	static final List<RedisServer> seen = new ArrayList<>();

	@Test
	void oneServerPerClassIsInjectedIntoEveryFieldAndParameterAndClosedAfterAllTests() {
		TestExecutionSummary summary = run(FieldsAndParameters.class);

		assertThat(summary.getFailures()).isEmpty();
		assertThat(summary.getTestsSucceededCount()).isEqualTo(3);
		assertThat(Set.copyOf(seen)).as("servers seen by the class").hasSize(1);
		RedisServer server = seen.get(0);
		assertThat(RedisVersion.defaultVersion().matches(server.version())).as("version %s", server.version()).isTrue();
		assertThat(server.isRunning()).isFalse();
		assertThat(LoopbackPorts.isFree(server.port())).isTrue();
	}

	@Test
	void eachTestClassGetsItsOwnServerAndSubclassesInheritTheField() {
		TestExecutionSummary first = run(FirstSubclass.class);
		List<RedisServer> servers = new ArrayList<>(seen);
		TestExecutionSummary second = run(SecondSubclass.class);
		servers.addAll(seen);

		assertThat(first.getFailures()).isEmpty();
		assertThat(second.getFailures()).isEmpty();
		assertThat(servers).hasSize(2).doesNotHaveDuplicates().noneMatch(RedisServer::isRunning);
	}

	@Test
	void aNestedClassSharesTheServerOfItsEnclosingClass() {
		TestExecutionSummary summary = run(Enclosing.class);

		assertThat(summary.getFailures()).isEmpty();
		assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
		assertThat(Set.copyOf(seen)).hasSize(1);
		assertThat(seen.get(0).isRunning()).isFalse();
	}

	@Test
	void aParameterAloneStartsTheServerOnFirstUse() {
		TestExecutionSummary summary = run(ParameterOnly.class);

		assertThat(summary.getFailures()).isEmpty();
		assertThat(Set.copyOf(seen)).hasSize(1);
		assertThat(seen.get(0).isRunning()).isFalse();
	}

	@Test
	void theServerRequiresThePasswordOfTheAnnotation() {
		TestExecutionSummary summary = run(WithPassword.class);

		assertThat(summary.getFailures()).isEmpty();
		assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
	}

	@Test
	void differentPasswordsInOneClassFailNamingTheRule() {
		TestExecutionSummary summary = run(ConflictingPasswords.class);

		assertThat(summary.getFailures()).singleElement()
			.satisfies((failure) -> assertThat(failure.getException())
				.hasMessageContaining("give every @SharedRedisServer of one test class the same password"));
		assertThat(seen).isEmpty();
	}

	@Test
	void aFieldOfAnotherTypeFailsNamingTheField() {
		TestExecutionSummary summary = run(WrongFieldType.class);

		assertThat(summary.getFailures()).singleElement()
			.satisfies((failure) -> assertThat(failure.getException())
				.hasMessageContaining("WrongFieldType.address is of type java.lang.String")
				.hasMessageContaining("declare it as " + RedisServer.class.getName()));
	}

	@Test
	void uniqueNamesNeverRepeatAndNameTheTest(TestInfo test) {
		Set<String> names = new HashSet<>();
		for (int i = 0; i < 100; i++) {
			names.add(RedisServerExtension.uniqueName("svc"));
		}
		assertThat(names).hasSize(100).allMatch((name) -> name.matches("svc\\d+"));
		assertThat(RedisServerExtension.uniqueName("svc", test)).matches("svc\\d+-uniqueNamesNeverRepeatAndNameTheTest")
			.isNotEqualTo(RedisServerExtension.uniqueName("svc", test));
	}

	private static TestExecutionSummary run(Class<?> testClass) {
		seen.clear();
		LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
			.selectors(selectClass(testClass))
			.build();
		Launcher launcher = LauncherFactory.create();
		SummaryGeneratingListener listener = new SummaryGeneratingListener();
		launcher.execute(request, listener);
		return listener.getSummary();
	}

	static class FieldsAndParameters {

		@SharedRedisServer
		static RedisServer redis;

		@SharedRedisServer
		RedisServer sameRedis;

		static RedisServer atBeforeAll;

		@BeforeAll
		static void fieldIsSetBeforeBeforeAllMethods(RedisServer parameter) {
			assertThat(redis).isNotNull().isSameAs(parameter);
			atBeforeAll = redis;
		}

		@BeforeEach
		void instanceFieldIsSetBeforeBeforeEachMethods() {
			assertThat(this.sameRedis).isSameAs(redis);
		}

		@Test
		void answers() {
			assertThat(redis.command("PING")).isEqualTo("PONG");
			assertThat(redis).isSameAs(atBeforeAll);
			seen.add(redis);
		}

		@Test
		void keepsDataBetweenTestsOfTheClass() {
			redis.command("INCR", "runs");
			seen.add(redis);
		}

		@Test
		void resolvesParameters(RedisServer parameter, @SharedRedisServer RedisServer annotated) {
			assertThat(parameter).isSameAs(redis).isSameAs(annotated);
			assertThat(redis.isRunning()).isTrue();
			seen.add(parameter);
		}

	}

	abstract static class Base {

		@SharedRedisServer
		static RedisServer redis;

		@Test
		void seesAServer() {
			assertThat(redis.command("PING")).isEqualTo("PONG");
			seen.add(redis);
		}

	}

	static class FirstSubclass extends Base {

	}

	static class SecondSubclass extends Base {

	}

	static class Enclosing {

		@SharedRedisServer
		static RedisServer redis;

		@Test
		void outer() {
			seen.add(redis);
		}

		@Nested
		class Inner {

			@Test
			void inner(RedisServer parameter) {
				assertThat(parameter).isSameAs(redis);
				seen.add(parameter);
			}

		}

	}

	@ExtendWith(RedisServerExtension.class)
	static class ParameterOnly {

		@Test
		void first(RedisServer redis) {
			redis.command("SET", "k", "v");
			seen.add(redis);
		}

		@Test
		void second(RedisServer redis) {
			seen.add(redis);
		}

	}

	static class WithPassword {

		@SharedRedisServer(password = "extension-s3cret")
		static RedisServer redis;

		@Test
		void authenticates() throws Exception {
			assertThat(redis.command("CONFIG", "GET", "requirepass")).isEqualTo(List.of("requirepass", "extension-s3cret"));
			try (RespConnection connection = RespConnection.open(redis.host(), redis.port(), Duration.ofSeconds(2))) {
				assertThatExceptionOfType(RedisReplyException.class).isThrownBy(() -> connection.call("PING"))
					.withMessageContaining("NOAUTH");
			}
		}

	}

	static class ConflictingPasswords {

		@SharedRedisServer
		static RedisServer redis;

		@Test
		void asksForAnother(@SharedRedisServer(password = "other") RedisServer other) {
			seen.add(other);
		}

	}

	static class WrongFieldType {

		@SharedRedisServer
		static String address;

		@Test
		void neverRuns() {
		}

	}

}
