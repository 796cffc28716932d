package io.streamlease.test.redis;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests for {@link RedisServer}, against every {@link RedisVersion} this machine can run.
 */
class RedisServerTests {

	static RedisServerSpec specFor(RedisVersion version) {
		assumeTrue(RedisServers.isAvailable(version), () -> "Redis " + version.label() + " is not available here");
		return RedisServerSpec.defaults().version(version);
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void answersCommandsOnAFreeLoopbackPort(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version))) {
			assertThat(redis.host()).isEqualTo("127.0.0.1");
			assertThat(redis.port()).isPositive().isNotEqualTo(6379);
			assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.port());
			assertThat(redis.version()).startsWith(version.label() + ".");
			assertThat(redis.isRunning()).isTrue();
			assertThat(redis.command("PING")).isEqualTo("PONG");
			assertThat(redis.command("SET", "greeting", "grüß dich")).isEqualTo("OK");
			assertThat(redis.command("GET", "greeting")).isEqualTo("grüß dich");
			assertThat(redis.command("GET", "missing")).isNull();
			assertThat(redis.command("INCR", "counter")).isEqualTo(1L);
			redis.command("RPUSH", "list", "a", "b");
			assertThat(redis.command("LRANGE", "list", "0", "-1")).isEqualTo(List.of("a", "b"));
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void passesTheSpecConfigurationToTheServer(RedisVersion version) throws Exception {
		RedisServerSpec spec = specFor(version).config("notify-keyspace-events", "")
			.config("maxmemory-policy", "allkeys-lru")
			.requirePass("secret");
		try (RedisServer redis = RedisServers.start(spec)) {
			assertThat(redis.command("CONFIG", "GET", "notify-keyspace-events"))
				.isEqualTo(List.of("notify-keyspace-events", ""));
			assertThat(redis.command("CONFIG", "GET", "maxmemory-policy"))
				.isEqualTo(List.of("maxmemory-policy", "allkeys-lru"));
			assertThat(redis.command("CONFIG", "GET", "appendonly")).isEqualTo(List.of("appendonly", "no"));
			assertThat(redis.command("CONFIG", "GET", "save")).isEqualTo(List.of("save", ""));
			assertThat(redis.command("CONFIG", "GET", "bind")).asList().contains("127.0.0.1");
			try (RespConnection anonymous = RespConnection.open(redis.host(), redis.port(), Duration.ofSeconds(2))) {
				assertThatThrownBy(() -> anonymous.call("PING")).isInstanceOf(RedisReplyException.class)
					.hasMessageStartingWith("NOAUTH");
			}
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void throwsErrorRepliesAsRedisReplyException(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version))) {
			redis.command("SET", "text", "not a number");
			assertThatThrownBy(() -> redis.command("INCR", "text")).isInstanceOfSatisfying(RedisReplyException.class,
					(ex) -> {
						assertThat(ex.errorReply()).startsWith("ERR value is not an integer");
						assertThat(ex).hasMessageContaining("INCR").hasMessageContaining(":" + redis.port());
					});
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void restartsOnTheSamePortKeepingAppendOnlyData(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version).appendOnly(true))) {
			int port = redis.port();
			redis.command("SET", "kept", "yes");
			redis.pause();
			redis.restart();
			assertThat(redis.port()).isEqualTo(port);
			assertThat(redis.isPaused()).isFalse();
			assertThat(redis.command("GET", "kept")).isEqualTo("yes");
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void losesDataOnRestartWithoutAppendOnlyFile(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version))) {
			redis.command("SET", "lost", "yes");
			redis.restart();
			assertThat(redis.command("GET", "lost")).isNull();
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void startsAgainAfterKillWithItsAppendOnlyData(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version).appendOnly(true))) {
			redis.command("SET", "kept", "yes");
			redis.kill();
			assertThat(redis.isRunning()).isFalse();
			assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(UncheckedIOException.class);
			redis.start();
			assertThat(redis.isRunning()).isTrue();
			assertThat(redis.command("GET", "kept")).isEqualTo("yes");
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void timesOutCommandsWhilePausedAndAnswersAfterResume(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version).commandTimeout(Duration.ofMillis(300)))) {
			redis.pause();
			assertThat(redis.isRunning()).isTrue();
			assertThat(redis.isPaused()).isTrue();
			assertThatThrownBy(() -> redis.command("PING")).isInstanceOf(UncheckedIOException.class)
				.hasCauseInstanceOf(SocketTimeoutException.class);
			redis.resume();
			assertThat(redis.isPaused()).isFalse();
			assertThat(redis.command("PING")).isEqualTo("PONG");
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void closeKillsEvenAPausedServerAndFreesItsPort(RedisVersion version) {
		RedisServer redis = RedisServers.start(specFor(version));
		redis.pause();
		redis.close();
		assertThat(redis.isRunning()).isFalse();
		assertThat(LoopbackPorts.isFree(redis.port())).isTrue();
		assertThatIllegalStateException().isThrownBy(redis::start).withMessageContaining("closed");
		redis.close();
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void refusesToStartWhenAlreadyRunning(RedisVersion version) {
		try (RedisServer redis = RedisServers.start(specFor(version))) {
			assertThatIllegalStateException().isThrownBy(redis::start).withMessageContaining("already running");
			assertThatIllegalStateException().isThrownBy(() -> {
				redis.kill();
				redis.pause();
			}).withMessageContaining("not running");
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void failsToStartAgainWhenItsPortWasTakenMeanwhile(RedisVersion version) throws Exception {
		try (RedisServer redis = RedisServers.start(specFor(version))) {
			redis.stop();
			try (ServerSocket squatter = new ServerSocket(redis.port(), 1, InetAddress.getByName("127.0.0.1"))) {
				assertThatIllegalStateException().isThrownBy(redis::start)
					.withMessageContaining("its port is taken")
					.withMessageContaining("Address already in use");
			}
			assertThat(redis.isRunning()).isFalse();
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void reportsTheEndOfTheRedisLogWhenTheServerCannotStart(RedisVersion version) {
		RedisServerSpec spec = specFor(version).config("no-such-directive", "x");
		assertThatIllegalStateException().isThrownBy(() -> RedisServers.start(spec))
			.withMessageContaining("Redis " + version.label() + " on 127.0.0.1:")
			.withMessageContaining("exited during start-up")
			.withMessageContaining("no-such-directive");
	}

}
