package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.StreamEvent;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.redisson.api.RedissonClient;

/**
 * Fair share (issue 10): N streams held by 2 consumers, 2 more join at once; how long until every consumer holds
 * its share +- 10 %, how many streams moved, and what the rebalance cost Redis (commands, script calls, CPU) compared
 * with a window of the same length once everything is settled. Every consumer is an engine in this JVM with its own
 * Redisson client; its "handler" yields at once when asked (an entry-level handler between entries). Settings are
 * the defaults except hb-interval and the capacity N needs.
 * <pre>
 * ./mvnw -B -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/stream-lease-benchmarks.jar io.streamlease.benchmarks.RebalanceBenchmark --streams=10000
 * </pre>
 */
public final class RebalanceBenchmark {

	private RebalanceBenchmark() {
	}

	public static void main(String[] args) throws Exception {
		Map<String, String> options = new LinkedHashMap<>();
		for (String arg : args) {
			int eq = arg.indexOf('=');
			options.put(arg.substring(2, (eq < 0) ? arg.length() : eq), (eq < 0) ? "true" : arg.substring(eq + 1));
		}
		int streams = Integer.parseInt(options.getOrDefault("streams", "10000"));
		Duration hb = Duration.ofMillis(Long.parseLong(options.getOrDefault("hb-ms", "2000")));
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(30)))) {
			RedisProbe probe = new RedisProbe(redis);
			RedissonClient control = RedissonClients.create(redis.uri());
			List<RecordingEngine> engines = new ArrayList<>();
			try {
				engines.add(engine(redis, "c1", hb, streams));
				engines.add(engine(redis, "c2", hb, streams));
				new LbsLoad(control, "rebalance").submitAll(streams);
				awaitBalanced(engines, streams, Duration.ofSeconds(120));
				JvmProbe.pause(hb.multipliedBy(2).toMillis());
				long movedBefore = moved(engines);

				RedisProbe.Snapshot before = probe.snapshot();
				long joining = System.nanoTime();
				engines.add(engine(redis, "c3", hb, streams));
				engines.add(engine(redis, "c4", hb, streams));
				long joined = System.nanoTime();
				long converged = awaitBalanced(engines, streams, Duration.ofSeconds(120));
				// until nothing has moved for two hb-intervals: the rebalance is over
				long lastMoved = moved(engines);
				long quietSince = System.nanoTime();
				while (System.nanoTime() - quietSince < hb.multipliedBy(2).toNanos()) {
					JvmProbe.pause(50);
					long now = moved(engines);
					if (now != lastMoved) {
						lastMoved = now;
						quietSince = System.nanoTime();
					}
				}
				RedisProbe.Snapshot after = probe.snapshot();
				RedisProbe.Delta rebalance = RedisProbe.delta(before, after);
				long moves = moved(engines) - movedBefore;

				RedisProbe.Snapshot steadyStart = probe.snapshot();
				JvmProbe.pause((long) (rebalance.seconds() * 1000));
				RedisProbe.Delta steady = RedisProbe.delta(steadyStart, probe.snapshot());

				System.out.printf("rebalance of %,d streams, 2 -> 4 consumers, hb-interval %d ms%n", streams, hb.toMillis());
				System.out.printf("  joiners started (start() returned) in %d ms%n", (joined - joining) / 1_000_000);
				System.out.printf("  every consumer within its share +- 10 %%: %d ms after both joiners started%n",
						(converged - joined) / 1_000_000);
				System.out.printf("  streams moved: %,d (at least %,d must: each joiner 90 %% of its share; %,d reach the "
						+ "exact shares)%n", moves, 2 * (long) Math.ceil(0.9 * streams / 4), streams / 2);
				System.out.printf("  held at the end: %s%n", held(engines));
				System.out.printf("  Redis during the rebalance (%.1f s, joins included): %,d commands, %,d script calls, "
						+ "%.3f CPU s (%.1f %% of a core)%n", rebalance.seconds(), rebalance.commandsProcessed(),
						rebalance.scriptCalls(), rebalance.cpuSeconds(), rebalance.cpuPercent());
				System.out.printf("  Redis in a settled window as long: %,d commands, %,d script calls, %.3f CPU s "
						+ "(%.1f %% of a core)%n", steady.commandsProcessed(), steady.scriptCalls(), steady.cpuSeconds(),
						steady.cpuPercent());
				System.out.printf("  rebalance cost above the settled window: %,d commands, %,d script calls, %.3f CPU s; "
						+ "per moved stream %.1f commands, %.3f ms CPU%n",
						rebalance.commandsProcessed() - steady.commandsProcessed(),
						rebalance.scriptCalls() - steady.scriptCalls(), rebalance.cpuSeconds() - steady.cpuSeconds(),
						(rebalance.commandsProcessed() - steady.commandsProcessed()) / (double) Math.max(1, moves),
						1000 * (rebalance.cpuSeconds() - steady.cpuSeconds()) / Math.max(1, moves));
				long disowned = engines.stream().mapToLong(RecordingEngine::disowned).sum();
				System.out.printf("  DISOWNED events: %d; owners %s, released %s%n", disowned,
						redis.command("HLEN", "{rebalance-input}:owners"), redis.command("HLEN", "{rebalance-input}:released"));
			}
			finally {
				for (RecordingEngine engine : engines) {
					engine.close();
				}
				control.shutdown();
			}
		}
		System.exit(0);
	}

	/** An engine whose handler hands a stream off as soon as a rebalance asks it to yield. */
	private static RecordingEngine engine(RedisServer redis, String consumer, Duration hb, int streams) {
		AtomicReference<RecordingEngine> self = new AtomicReference<>();
		EngineSettings settings = EngineSettings.builder("rebalance", consumer)
			.hbInterval(hb)
			.maxConcurrentStreams(Math.max(streams, 10_000))
			.outputChannelSize(Math.max(streams, 500) + 100)
			.build();
		RecordingEngine engine = new RecordingEngine(redis.uri(), settings, (event) -> {
			if (event.type() == StreamEvent.Type.ADDED) {
				LeasedStream lease = event.lease();
				lease.released().thenAccept((reason) -> {
					if (reason == ReleaseReason.REBALANCE) {
						self.get().client().handOff(lease);
					}
				});
			}
		});
		self.set(engine);
		return engine.start();
	}

	/** Waits until every engine holds its share +- 10 % and all streams are held; returns when (nanoTime). */
	private static long awaitBalanced(List<RecordingEngine> engines, int streams, Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		double share = streams / (double) engines.size();
		while (System.nanoTime() - deadline < 0) {
			int total = 0;
			boolean within = true;
			for (RecordingEngine engine : engines) {
				int held = engine.client().ownedCount();
				total += held;
				within &= held >= share * 0.9 && held <= share * 1.1;
			}
			if (within && total == streams) {
				return System.nanoTime();
			}
			JvmProbe.pause(20);
		}
		throw new IllegalStateException("Not balanced within " + timeout + ": " + held(engines));
	}

	private static long moved(List<RecordingEngine> engines) {
		return engines.stream().mapToLong((engine) -> engine.client().fairShare().movedOff()).sum();
	}

	private static Map<String, Integer> held(List<RecordingEngine> engines) {
		Map<String, Integer> held = new LinkedHashMap<>();
		for (RecordingEngine engine : engines) {
			held.put(engine.client().id(), engine.client().ownedCount());
		}
		return held;
	}

}
