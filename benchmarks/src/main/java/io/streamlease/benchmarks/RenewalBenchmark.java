package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scenario 1: what holding N leases costs, for our engine and the two baselines, at each hb-interval. Each
 * approach in turn holds N streams on a flushed Redis; after one renewal period to settle, several measured
 * windows record Redis commands and CPU (INFO deltas) and the client's requests (counted on the client); the JVM
 * heap per held stream and the thread count are read while holding. Our engine also holds the largest N at the
 * longest hb-interval for the soak duration, counting disowned leases.
 */
final class RenewalBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(RenewalBenchmark.class);

	private final BenchmarkOptions options;

	private final RedisProbe probe;

	private final RedissonClient control;

	RenewalBenchmark(BenchmarkOptions options, RedisProbe probe, RedissonClient control) {
		this.options = options;
		this.probe = probe;
		this.control = control;
	}

	/** One measured window of one case. */
	record Window(int index, double seconds, double redisCommandsPerSecond, double redisCpuPercent,
			double redisScriptCallsPerSecond, double clientRequestsPerSecond, double renewalCallsPerSecond,
			double ticks, double renewalCallsPerTick, double maxRenewalCallsPerTick, long lost) {
	}

	/** One approach holding N leases at one hb-interval. */
	record Case(String approach, Duration hb, int n, String setup, String error, int acquired, long heldAtHeapReading,
			double acquireSeconds, long fixedHeapBytes, double heapBytesPerStream, double redisBytesPerStream,
			double ownershipBytesPerStream, int threadsBefore, int threadsHolding, long ownThreads,
			long heldOnServer, long lost, double expectedCallsPerTick, List<Window> windows, Map<String, Long> requestMix) {

		Spread spread(java.util.function.ToDoubleFunction<Window> metric) {
			return Spread.of(this.windows.stream().map((w) -> metric.applyAsDouble(w)).toList());
		}

	}

	/** Our engine holding the largest N for a long time. */
	record Soak(int n, Duration hb, double seconds, long disowned, long lostByRenewal, long failedTicks, long ticks,
			Summary tickMillis, double redisCpuPercent, double redisCommandsPerSecond, long heldOnServer) {
	}

	record Results(List<Case> cases, Soak soak) {
	}

	Results run() {
		List<Case> cases = new ArrayList<>();
		Soak soak = null;
		int largest = this.options.renewalSizes.stream().mapToInt(Integer::intValue).max().orElse(0);
		Duration longest = this.options.renewalHbIntervals.stream().max(Duration::compareTo).orElse(Duration.ZERO);
		for (Duration hb : this.options.renewalHbIntervals) {
			for (int n : this.options.renewalSizes) {
				List<String> streams = LbsLoad.names(n);
				for (String approach : List.of(Approach.ENGINE, Approach.GO_MODEL, Approach.REDISSON)) {
					boolean soaks = approach.equals(Approach.ENGINE) && n == largest && hb.equals(longest);
					Object[] soakHolder = new Object[1];
					cases.add(measure(approach, hb, streams, soaks ? soakHolder : null));
					if (soakHolder[0] != null) {
						soak = (Soak) soakHolder[0];
					}
				}
			}
		}
		return new Results(cases, soak);
	}

	private Case measure(String approach, Duration hb, List<String> streams, Object[] soakOut) {
		int n = streams.size();
		logger.info("Renewal: {} holding {} leases at hb-interval {}", approach, n, BenchmarkOptions.format(hb));
		this.probe.flush();
		JvmProbe.pause(1000);
		int threadsBefore = JvmProbe.threads();
		long heapEmpty = JvmProbe.usedHeapAfterGc();
		String tag = approach.equals(Approach.ENGINE) ? "renewal" : (approach.equals(Approach.GO_MODEL) ? "go:lock:" : "redisson:lock:");
		LeaseHolder holder = switch (approach) {
			case Approach.ENGINE -> new EngineLeaseHolder(this.probe.server().uri(), this.control, tag, hb);
			case Approach.GO_MODEL -> new PerStreamTimerHolder(this.probe.server().uri(), tag, hb);
			default -> new WatchdogLockHolder(this.probe.server().uri(), tag, hb);
		};
		// fixed costs (the client's connections and buffers, the engine's start) are not per stream: the baseline
		// includes them, and they are reported on their own
		try {
			holder.prepare(n);
		}
		catch (RuntimeException ex) {
			logger.error("Renewal: {} could not start: {}", approach, ex.toString(), ex);
			holder.close();
			return new Case(approach, hb, n, holder.setup(), ex.toString(), 0, 0, Double.NaN, 0, Double.NaN, Double.NaN,
					Double.NaN, threadsBefore, JvmProbe.threads(), 0, 0, -1, Double.NaN, List.of(), Map.of());
		}
		long heapBefore = JvmProbe.usedHeapAfterGc();
		long redisMemoryBefore = this.probe.snapshot().usedMemory();
		double expectedPerTick = switch (approach) {
			case Approach.ENGINE -> 1;
			case Approach.GO_MODEL -> n;
			default -> Math.ceil(n / 100.0);
		};
		try {
			long started = System.nanoTime();
			int acquired = holder.hold(streams, Duration.ofSeconds(Math.max(30, n / 2000)));
			double acquireSeconds = (System.nanoTime() - started) / 1e9;
			if (acquired < n) {
				logger.warn("Renewal: {} holds only {} of {} leases after {} s; measuring what it holds", approach, acquired, n,
						Math.round(acquireSeconds));
			}
			long holding = System.nanoTime();
			JvmProbe.pause(hb.dividedBy(2).toMillis() + 500);
			long heapHolding = JvmProbe.usedHeapAfterGc();
			int threadsHolding = JvmProbe.threads();
			long redisMemoryHolding = this.probe.snapshot().usedMemory();
			// what the approach's own per-stream state costs above the LBS entry and its pending entry (the floor any
			// LBS-based design pays): for the engine, its ownership records (one hash; no key per stream)
			long ownershipBytes = (holder.leaseHash() != null) ? memoryUsage(holder.leaseHash()) : -1;
			long heldAtReading = Math.max(1, held(holder));
			Map<String, Long> mixBefore = holder.counter().snapshot();
			List<Window> windows = new ArrayList<>();
			long windowMillis = Math.round(hb.toMillis() / 2.0 * this.options.renewalWindowTicks);
			for (int i = 0; i < this.options.renewalWindows; i++) {
				windows.add(window(i + 1, holder, windowMillis));
			}
			Map<String, Long> mix = CommandCounter.difference(mixBefore, holder.counter().snapshot());
			if (soakOut != null) {
				soakOut[0] = soak((EngineLeaseHolder) holder, n, hb, holding);
			}
			long heldOnServer = held(holder);
			long lost = holder.lost();
			if (holder instanceof EngineLeaseHolder engine) {
				Summary ticks = engine.allTickDurations();
				logger.info("Renewal: engine ticks so far {}: p50 {} ms, p99 {} ms, max {} ms; ADDED {}, owned {}, disowned {} "
						+ "(by renewal {}), failed ticks {}", engine.ticks(), Spread.number(ticks.p50(), 0), Spread.number(ticks.p99(), 0),
						Spread.number(ticks.max(), 0), engine.added(), engine.owned(), engine.lost(), engine.lostByRenewal(),
						engine.failedTicks());
			}
			double heapPerStream = (heapHolding - heapBefore) / (double) heldAtReading;
			logger.info("Renewal: {} at N={} hb={}: {} windows, heap {} B/stream, {} held on the server, lost {}", approach, n,
					BenchmarkOptions.format(hb), windows.size(), Math.round(heapPerStream), heldOnServer, lost);
			return new Case(approach, hb, n, holder.setup(), null, acquired, heldAtReading, acquireSeconds, heapBefore - heapEmpty,
					heapPerStream,
					(redisMemoryHolding - redisMemoryBefore) / (double) heldAtReading,
					(ownershipBytes >= 0) ? ownershipBytes / (double) heldAtReading : Double.NaN, threadsBefore, threadsHolding,
					holder.ownThreads(),
					heldOnServer, (lost < 0) ? n - heldOnServer : lost,
					expectedPerTick, windows, mix);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Renewal: {} at N={} hb={} failed: {}", approach, n, BenchmarkOptions.format(hb), ex.toString(), ex);
			return new Case(approach, hb, n, holder.setup(), ex.toString(), 0, 0, Double.NaN, heapBefore - heapEmpty, Double.NaN,
					Double.NaN, Double.NaN, threadsBefore,
					JvmProbe.threads(), holder.ownThreads(), held(holder), holder.lost(), expectedPerTick,
					List.of(), Map.of());
		}
		finally {
			holder.close();
		}
	}

	private Window window(int index, LeaseHolder holder, long millis) {
		Map<String, Long> counts = holder.counter().snapshot();
		long requests = holder.counter().requests();
		long lost = holder.lost();
		RedisProbe.Snapshot before = this.probe.snapshot();
		JvmProbe.pause(millis);
		RedisProbe.Snapshot after = this.probe.snapshot();
		long requestsAfter = holder.counter().requests();
		Map<String, Long> window = CommandCounter.difference(counts, holder.counter().snapshot());
		RedisProbe.Delta delta = RedisProbe.delta(before, after);
		double seconds = delta.seconds();
		long renewals = holder.renewalCalls(window);
		double tickCount;
		double perTick;
		double maxPerTick;
		if (holder instanceof EngineLeaseHolder engine) {
			// exact: the renewal calls each tick sent, counted when the tick completed
			List<EngineLeaseHolder.Tick> ticks = engine.ticksBetween(before.nanos(), after.nanos());
			tickCount = ticks.size();
			perTick = ticks.stream().mapToLong(EngineLeaseHolder.Tick::calls).average().orElse(Double.NaN);
			maxPerTick = ticks.stream().mapToLong(EngineLeaseHolder.Tick::calls).max().orElse(-1);
		}
		else {
			// the baselines renew each lease once per period
			tickCount = seconds / (holder.renewalPeriod().toNanos() / 1e9);
			perTick = renewals / tickCount;
			maxPerTick = Double.NaN;
		}
		return new Window(index, seconds, delta.commandsPerSecond(), delta.cpuPercent(), delta.scriptCallsPerSecond(),
				(requestsAfter - requests) / seconds, renewals / seconds, tickCount, perTick, maxPerTick,
				(lost >= 0) ? holder.lost() - lost : -1);
	}

	private Soak soak(EngineLeaseHolder holder, int n, Duration hb, long holdingSince) {
		RedisProbe.Snapshot before = this.probe.snapshot();
		long soakStart = System.nanoTime();
		long remaining = this.options.soak.toNanos() - (soakStart - holdingSince);
		logger.info("Soak: holding {} leases at hb {} for another {} s", n, BenchmarkOptions.format(hb),
				Math.max(0, remaining) / 1_000_000_000L);
		if (remaining > 0) {
			JvmProbe.pause(remaining / 1_000_000);
		}
		RedisProbe.Delta delta = RedisProbe.delta(before, this.probe.snapshot());
		Summary ticks = holder.allTickDurations();
		return new Soak(n, hb, (System.nanoTime() - holdingSince) / 1e9, holder.lost(), holder.lostByRenewal(),
				holder.failedTicks(), holder.ticks(), ticks, delta.cpuPercent(), delta.commandsPerSecond(),
				held(holder));
	}

	/** How many leases the approach holds on the server: its lease keys, or the fields of its lease hash. */
	long held(LeaseHolder holder) {
		if (holder.leaseHash() != null) {
			return ((Number) this.probe.server().command("HLEN", holder.leaseHash())).longValue();
		}
		return countKeys(holder.leaseKeyPattern());
	}

	/** {@code MEMORY USAGE key SAMPLES 0}: the exact bytes of one key. */
	long memoryUsage(String key) {
		Object reply = this.probe.server().command("MEMORY", "USAGE", key, "SAMPLES", "0");
		return (reply != null) ? ((Number) reply).longValue() : 0;
	}

	/** How many keys match the glob, by SCAN. */
	long countKeys(String pattern) {
		long count = 0;
		String cursor = "0";
		do {
			List<?> reply = (List<?>) this.probe.server().command("SCAN", cursor, "MATCH", pattern, "COUNT", "10000");
			cursor = (String) reply.get(0);
			count += ((List<?>) reply.get(1)).size();
		}
		while (!cursor.equals("0"));
		return count;
	}

	static Map<String, Object> row(Case c, Window w) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("approach", c.approach());
		row.put("hb_s", c.hb().toMillis() / 1000.0);
		row.put("n", c.n());
		row.put("window", (w != null) ? w.index() : null);
		row.put("window_s", (w != null) ? w.seconds() : null);
		row.put("redis_commands_per_s", (w != null) ? w.redisCommandsPerSecond() : null);
		row.put("redis_cpu_percent", (w != null) ? w.redisCpuPercent() : null);
		row.put("redis_script_calls_per_s", (w != null) ? w.redisScriptCallsPerSecond() : null);
		row.put("client_requests_per_s", (w != null) ? w.clientRequestsPerSecond() : null);
		row.put("renewal_calls_per_s", (w != null) ? w.renewalCallsPerSecond() : null);
		row.put("ticks", (w != null) ? w.ticks() : null);
		row.put("renewal_calls_per_tick", (w != null) ? w.renewalCallsPerTick() : null);
		row.put("max_renewal_calls_per_tick", (w != null) ? w.maxRenewalCallsPerTick() : null);
		row.put("expected_calls_per_tick", c.expectedCallsPerTick());
		row.put("lost_in_window", (w != null) ? w.lost() : null);
		row.put("acquired", c.acquired());
		row.put("held_at_heap_reading", c.heldAtHeapReading());
		row.put("acquire_s", c.acquireSeconds());
		row.put("fixed_heap_bytes", c.fixedHeapBytes());
		row.put("heap_bytes_per_stream", c.heapBytesPerStream());
		row.put("redis_bytes_per_stream", c.redisBytesPerStream());
		row.put("ownership_bytes_per_stream", c.ownershipBytesPerStream());
		row.put("jvm_threads_before", c.threadsBefore());
		row.put("jvm_threads_holding", c.threadsHolding());
		row.put("own_threads", c.ownThreads());
		row.put("held_on_server_at_end", c.heldOnServer());
		row.put("lost_total", c.lost());
		row.put("error", c.error());
		return row;
	}

}
