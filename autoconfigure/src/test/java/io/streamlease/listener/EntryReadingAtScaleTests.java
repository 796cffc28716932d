package io.streamlease.listener;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamLeaseEvent;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.autoconfigure.StreamLeaseRedis;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.event.EventListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Entry-level reading on a real Redis with many busy data streams: renewals are not starved by the flood of reads
 * and checkpoints (separate clients, bounded in-flight calls), every entry is handled exactly once and in order,
 * and the reader works with and without keyspace xadd events.
 */
class EntryReadingAtScaleTests {

	private static final int STREAMS = 10_000;

	private static final int ENTRIES = 3;

	static RedisServer redis;

	@BeforeAll
	static void startRedis() {
		redis = RedisServers.start();
	}

	@AfterAll
	static void stopRedis() {
		redis.close();
	}

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.shutdown.grace-period=1s");
	}

	@Test
	void renewalsKeepUpWhileTenThousandBusyStreamsAreReadAndEveryEntryIsHandledOnceInOrder() {
		String service = "flood";
		// the defaults (hb-interval 10 s: a renewal every 5 s, every lease disowned locally when none is confirmed
		// for 8 s), entries read two at a time and checkpointed after each: as many reads and checkpoints as can be
		runner(service).withBean(Sequenced.class)
			.withPropertyValues("stream-lease.max-concurrent-streams=" + STREAMS, "stream-lease.entry.batch-size=2",
					"stream-lease.entry.checkpoint-every=1")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				StreamLeaseRedis clients = context.getBean(StreamLeaseRedis.class);
				assertThat(clients.getLeaseClient()).as("lease traffic has a client of its own")
					.isNotSameAs(clients.getDataClient());
				RedissonClient data = clients.getDataClient();
				List<String> names = fill(data, service, STREAMS, ENTRIES);
				Sequenced handler = context.getBean(Sequenced.class);
				StreamLeaseContainer container = context.getBean(StreamHandlerEndpointRegistry.class)
					.getContainers()
					.iterator()
					.next();
				StreamLeaseEngine engine = container.getEngine();
				announce(data, service, names);

				List<Duration> renewalGaps = new ArrayList<>();
				Instant lastRenewal = engine.lastRenewal();
				Instant lastChange = Instant.now();
				int maxReads = 0;
				int maxCheckpoints = 0;
				long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
				while (handler.finished.size() < STREAMS && System.nanoTime() - deadline < 0) {
					Instant renewal = engine.lastRenewal();
					if (renewal != null && !renewal.equals(lastRenewal)) {
						renewalGaps.add(Duration.between(lastChange, Instant.now()));
						lastRenewal = renewal;
						lastChange = Instant.now();
					}
					maxReads = Math.max(maxReads, container.entryReadsInFlight());
					maxCheckpoints = Math.max(maxCheckpoints, container.entryCheckpointsInFlight());
					Thread.sleep(50); // sampling the engine's renewals, not waiting for a condition
				}
				renewalGaps.add(Duration.between(lastChange, Instant.now()));
				assertThat(handler.finished).as("streams finished").hasSize(STREAMS);
				assertThat(handler.errors).isEmpty();
				assertThat(handler.handled.get()).as("entries handled, each once").isEqualTo(STREAMS * ENTRIES);
				assertThat(handler.events).noneMatch((event) -> event.type() == StreamLeaseEvent.Type.DISOWNED);
				assertThat(engine.counters().disowned()).isZero();
				assertThat(renewalGaps).as("time between confirmed renewals (every hb-interval / 2 = 5 s)")
					.allSatisfy((gap) -> assertThat(gap).isLessThan(Duration.ofSeconds(7)));
				assertThat(maxReads).isLessThanOrEqualTo(ContainerSettings.DEFAULT_MAX_IN_FLIGHT_READS);
				assertThat(maxCheckpoints).isLessThanOrEqualTo(ContainerSettings.DEFAULT_MAX_IN_FLIGHT_CHECKPOINTS);
				await().atMost(10, TimeUnit.SECONDS).until(() -> (Long) redis.command("XLEN", service + "-input") == 0);
			});
	}

	@Test
	void withoutKeyspaceEventsIdleStreamsArePolledAndNewEntriesStillArrive() {
		String service = "polled";
		runner(service).withBean(Sequenced.class)
			.withPropertyValues("stream-lease.hb-interval=2s", "stream-lease.keyspace-notifications=off",
					"stream-lease.entry.max-poll-interval=200ms")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				RedissonClient data = context.getBean(StreamLeaseRedis.class).getDataClient();
				List<String> names = List.of(service + "-a", service + "-b");
				for (String name : names) {
					redis.command("XADD", name, "*", "n", "1");
				}
				announce(data, service, names);
				Sequenced handler = context.getBean(Sequenced.class);
				await().atMost(5, TimeUnit.SECONDS).until(() -> handler.handled.get() == 2);
				// idle now; an entry added later is found by the poll
				for (String name : names) {
					redis.command("XADD", name, "*", "n", "2");
					redis.command("XADD", name, "*", "end", "1");
				}
				await().atMost(5, TimeUnit.SECONDS).until(() -> handler.finished.size() == 2);
				assertThat(handler.handled.get()).isEqualTo(4);
				assertThat(handler.errors).isEmpty();
			});
	}

	@Test
	void withKeyspaceEventsAnEntryAddedToAnIdleStreamArrivesBeforeTheSafetyPoll() {
		String service = "notified";
		runner(service).withBean(Sequenced.class)
			.withPropertyValues("stream-lease.hb-interval=2s", "stream-lease.entry.safety-poll-interval=1h")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				RedissonClient data = context.getBean(StreamLeaseRedis.class).getDataClient();
				String name = service + "-a";
				redis.command("XADD", name, "*", "n", "1");
				announce(data, service, List.of(name));
				Sequenced handler = context.getBean(Sequenced.class);
				await().atMost(5, TimeUnit.SECONDS).until(() -> handler.handled.get() == 1);
				await().atMost(5, TimeUnit.SECONDS)
					.until(() -> String.valueOf(redis.command("CONFIG", "GET", "notify-keyspace-events")).contains("E"));
				String checkpoint = "{" + service + "-input}:checkpoint:" + name;
				await().atMost(5, TimeUnit.SECONDS).until(() -> redis.command("HGET", checkpoint, "position") != null);
				// idle, with no poll for an hour: only the xadd event can bring these
				redis.command("XADD", name, "*", "n", "2");
				redis.command("XADD", name, "*", "end", "1");
				await().atMost(5, TimeUnit.SECONDS).until(() -> handler.finished.containsKey(name));
				assertThat(handler.handled.get()).isEqualTo(2);
				assertThat(handler.errors).isEmpty();
			});
	}

	/** Writes {@code entries} numbered entries and an end marker to each of {@code count} data streams, pipelined. */
	private static List<String> fill(RedissonClient client, String service, int count, int entries) {
		List<String> names = new ArrayList<>(count);
		for (int i = 0; i < count; i++) {
			names.add(service + ":session:" + i);
		}
		for (int from = 0; from < count; from += 500) {
			RBatch batch = client.createBatch(BatchOptions.defaults());
			for (String name : names.subList(from, Math.min(count, from + 500))) {
				var stream = batch.<String, String>getStream(name, StringCodec.INSTANCE);
				for (int n = 1; n <= entries; n++) {
					stream.addAsync(StreamAddArgs.entry("n", Integer.toString(n)));
				}
				stream.addAsync(StreamAddArgs.entry("end", "1"));
			}
			batch.execute();
		}
		return names;
	}

	/** Announces the streams in the wire format, pipelined. */
	private static void announce(RedissonClient client, String service, List<String> names) {
		for (int from = 0; from < names.size(); from += 1000) {
			RBatch batch = client.createBatch(BatchOptions.defaults());
			var lbs = batch.<String, String>getStream(service + "-input", StringCodec.INSTANCE);
			for (String name : names.subList(from, Math.min(names.size(), from + 1000))) {
				lbs.addAsync(StreamAddArgs.entry("lbs-input", "{\"DataStreamName\":\"" + name + "\",\"Info\":{}}"));
			}
			batch.execute();
		}
	}

	/**
	 * Checks that each stream's entries arrive once and in order (entry n after n - 1, kept in the checkpointed
	 * state), and completes a stream at its end marker.
	 */
	static class Sequenced {

		final AtomicInteger handled = new AtomicInteger();

		final Map<String, Boolean> finished = new ConcurrentHashMap<>();

		final List<String> errors = new CopyOnWriteArrayList<>();

		final List<StreamLeaseEvent> events = new CopyOnWriteArrayList<>();

		@StreamHandler
		void on(StreamEntry entry, StreamState state) {
			if (entry.field("end") != null) {
				this.finished.put(entry.stream(), true);
				state.complete();
				return;
			}
			long n = Long.parseLong(entry.field("n"));
			long last = state.getLong("last", 0);
			if (n != last + 1) {
				this.errors.add(entry.stream() + ": entry " + n + " after " + last);
			}
			state.put("last", Long.toString(n));
			this.handled.incrementAndGet();
		}

		@EventListener
		void on(StreamLeaseEvent event) {
			this.events.add(event);
		}

	}

}
