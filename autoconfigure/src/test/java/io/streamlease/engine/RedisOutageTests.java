package io.streamlease.engine;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import io.streamlease.StreamLeaseException;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * Never give up: engines with the default retry settings ride out long Redis outages, start while Redis is down,
 * recreate a lost group, and terminate only for what no retry can fix (credentials, ACL), saying which.
 */
class RedisOutageTests extends EngineTestSupport {

	private RedisServer own;

	private RedissonClient lazy;

	@AfterEach
	void closeOwnServer() {
		if (this.lazy != null) {
			this.lazy.shutdown();
		}
		if (this.own != null) {
			this.own.close();
		}
	}

	@Override
	EngineSettings.Builder settings(String consumer) {
		// the shipped retry settings: unlimited, 100 ms doubling up to 30 s
		return super.settings(consumer).retry(RetrySettings.DEFAULT);
	}

	@Test
	void theDefaultRetrySettingsNeverGiveUp() {
		assertThat(RetrySettings.DEFAULT.maxRetries()).isEqualTo(-1);
		assertThat(RetrySettings.DEFAULT.exhausted(Integer.MAX_VALUE)).isFalse();
	}

	@Test
	void aThirtySecondRedisFreezeUnderLoadEndsNoEngineAndEverythingSubmittedIsProcessed() {
		Running first = start("first");
		Running second = start("second");
		LbsProducer producer = producer();
		for (int i = 0; i < 20; i++) {
			producer.submit("before-" + i, Map.of());
		}
		await().atMost(10, TimeUnit.SECONDS)
			.until(() -> first.owned().size() + second.owned().size() == 20);

		redis.pause();
		try {
			await().atMost(HB.multipliedBy(2)).until(() -> !first.client.isRedisReachable()
					&& !second.client.isRedisReachable());
			// the engines keep trying for the whole freeze: far longer than 5 retries of the reader
			await().during(Duration.ofSeconds(30)).atMost(Duration.ofSeconds(32))
				.until(() -> first.client.state() == EngineState.RUNNING && second.client.state() == EngineState.RUNNING);
			assertThat(first.owned()).as("disowned by the local safety deadline").isEmpty();
			assertThat(second.owned()).isEmpty();
		}
		finally {
			redis.resume();
		}
		for (int i = 0; i < 20; i++) {
			producer.submit("after-" + i, Map.of());
		}
		await().atMost(HB.multipliedBy(5)).untilAsserted(() -> {
			List<String> owned = new java.util.ArrayList<>(first.owned());
			owned.addAll(second.owned());
			assertThat(owned).as("every stream held again, by one consumer each").hasSize(40).doesNotHaveDuplicates();
		});
		await().atMost(HB.multipliedBy(2)).until(() -> first.client.isRedisReachable() && second.client.isRedisReachable());
		assertThat(first.events(StreamEvent.Type.TERMINATED)).isEmpty();
		assertThat(second.events(StreamEvent.Type.TERMINATED)).isEmpty();
		// nothing pending for a consumer that does not hold it
		await().atMost(HB.multipliedBy(3)).untilAsserted(() -> assertThat(pendingCount())
			.isEqualTo(first.client.ownedCount() + second.client.ownedCount()));
	}

	@Test
	void startsWhileRedisIsDownReportsItAndRunsAsSoonAsRedisAnswers() {
		this.own = RedisServers.start(RedisServerSpec.defaults());
		this.own.stop();
		Running consumer = new Running(StreamLeaseEngine.create(lazyClient(this.own),
				settings("early").startupTimeout(Duration.ofMillis(500)).build()), this.lazy);
		long started = System.nanoTime();
		consumer.start();
		assertThat(Duration.ofNanos(System.nanoTime() - started)).as("start returns after the startup timeout")
			.isLessThan(Duration.ofSeconds(5));
		assertThat(consumer.client.state()).isEqualTo(EngineState.STARTING);
		assertThat(consumer.client.isRedisReachable()).isFalse();
		assertThat(consumer.client.lastRedisFailure()).startsWith("connecting");

		this.own.start();
		await().atMost(HB.multipliedBy(3)).until(() -> consumer.client.state() == EngineState.RUNNING);
		assertThat(consumer.client.isRedisReachable()).isTrue();
		new LbsProducer(this.lazy, this.service).submit("late", Map.of());
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("late"));
		consumer.client.close();
	}

	@Test
	void failFastStartFailsWithinTheStartupTimeoutWhenRedisIsDown() {
		this.own = RedisServers.start(RedisServerSpec.defaults());
		this.own.stop();
		StreamLeaseEngine client = StreamLeaseEngine.create(lazyClient(this.own),
				settings("strict").startupTimeout(Duration.ofMillis(500)).failFast(true).build());
		assertThatExceptionOfType(RedisCallException.class).isThrownBy(client::start)
			.withMessageContaining("could not be reached within the startup timeout (PT0.5S")
			.withMessageContaining(String.valueOf(this.own.port()));
		assertThat(client.state()).isEqualTo(EngineState.TERMINATED);
	}

	@Test
	void aFinishThatFailsWhileRedisIsFrozenIsRetriedUntilTheStreamIsFinished() {
		Running consumer = start("finisher", (settings) -> settings.hbInterval(Duration.ofSeconds(10)));
		producer().submit("to-finish", Map.of());
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("to-finish"));
		redis.pause();
		try {
			assertThatExceptionOfType(RedisCallException.class)
				.isThrownBy(() -> consumer.client.doneStream("to-finish"))
				.withMessageContaining("finishes it as soon as Redis answers");
			assertThat(consumer.owned()).as("kept while the finish is retried").containsExactly("to-finish");
		}
		finally {
			redis.resume();
		}
		await().atMost(HB.multipliedBy(5)).untilAsserted(() -> {
			assertThat(redis.command("XLEN", keys().lbs())).isEqualTo(0L);
			assertThat(consumer.owned()).isEmpty();
		});
		assertThat(consumer.client.counters().completed()).isEqualTo(1);
	}

	@Test
	void aStreamHandedOffAloneIsTakenOverByAPeerFromItsCheckpoint() {
		Running first = start("first");
		producer().submit("moving", Map.of());
		await().atMost(5, TimeUnit.SECONDS).until(() -> first.added.containsKey("moving"));
		first.added.get("moving").checkpoint("1-1", Map.of("k", "v"));
		Running second = start("second");
		first.client.handOff(first.added.get("moving"));
		assertThat(first.owned()).isEmpty();
		await().atMost(HB.multipliedBy(2)).until(() -> second.added.containsKey("moving"));
		assertThat(second.added.get("moving").recovered()).isTrue();
		assertThat(second.added.get("moving").checkpoint().state()).containsEntry("k", "v");
		assertThat(redis.command("HLEN", keys().released())).isEqualTo(0L);
	}

	@Test
	void entriesAnnouncedBeforeTheFirstConsumerStartedAreProcessed() {
		producer().submit("early-bird", Map.of());
		Running consumer = start("late-starter");
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("early-bird"));
	}

	@Test
	void aLostGroupIsCreatedAgainAndReadFromTheStartOfTheLbs() {
		Running consumer = start("regrouped");
		producer().submit("one", Map.of());
		await().atMost(5, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("one"));
		redis.command("XGROUP", "DESTROY", keys().lbs(), keys().group());
		producer().submit("two", Map.of());
		await().atMost(10, TimeUnit.SECONDS).until(() -> consumer.added.containsKey("two"));
		assertThat(consumer.client.state()).isEqualTo(EngineState.RUNNING);
	}

	@Test
	void aCommandDeniedByTheAclTerminatesTheEngineNamingTheCommand() {
		String user = "limited-" + this.service;
		redis.command("ACL", "SETUSER", user, "on", ">pw", "~*", "&*", "+@all");
		try {
			Config config = new Config();
			config.useSingleServer().setAddress(redis.uri()).setUsername(user).setPassword("pw").setTimeout(1000);
			this.lazy = Redisson.create(config);
			Running consumer = new Running(StreamLeaseEngine.create(this.lazy, settings("denied").build()), this.lazy);
			consumer.start();
			redis.command("ACL", "SETUSER", user, "-evalsha", "-eval");
			await().atMost(HB.multipliedBy(3)).until(() -> consumer.client.state() == EngineState.TERMINATED);
			assertThat(consumer.client.terminationReason()).contains("may not run a command the engine needs")
				.containsIgnoringCase("evalsha");
		}
		finally {
			redis.command("ACL", "DELUSER", user);
		}
	}

	@Test
	void refusedCredentialsFailStartNamingThem() {
		String user = "rotated-" + this.service;
		redis.command("ACL", "SETUSER", user, "on", ">right", "~*", "&*", "+@all");
		try {
			Config config = new Config();
			config.setLazyInitialization(true);
			config.useSingleServer().setAddress(redis.uri()).setUsername(user).setPassword("wrong").setTimeout(1000);
			this.lazy = Redisson.create(config);
			StreamLeaseEngine client = StreamLeaseEngine.create(this.lazy, settings("refused").build());
			assertThatExceptionOfType(StreamLeaseException.class).isThrownBy(client::start)
				.withMessageContaining("Redis refused the credentials");
			assertThat(client.state()).isEqualTo(EngineState.TERMINATED);
		}
		finally {
			redis.command("ACL", "DELUSER", user);
		}
	}

	private long pendingCount() {
		Object summary = redis.command("XPENDING", keys().lbs(), keys().group());
		return ((Number) ((List<?>) summary).get(0)).longValue();
	}

	private RedissonClient lazyClient(RedisServer server) {
		Config config = new Config();
		config.setLazyInitialization(true);
		config.useSingleServer().setAddress(server.uri()).setTimeout(1000).setConnectTimeout(1000).setRetryAttempts(0);
		this.lazy = Redisson.create(config);
		return this.lazy;
	}

}
