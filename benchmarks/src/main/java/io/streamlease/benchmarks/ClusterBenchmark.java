package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.engine.EngineSettings;
import io.streamlease.test.redis.RedisCluster;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The renewal and failover scenarios on a real Redis Cluster of 3 masters (no replicas) that the harness starts on
 * loopback, with one service per master (service names chosen so that their hash tag {@code {<service>-input}} lands
 * on that master). Our engine only: the baselines are single-node models. Renewal: one engine per service, each with
 * a cluster Redisson client of its own (so its round trips are counted apart: they all go to its service's master),
 * holding N streams each; Redis commands and CPU are summed over the masters. Failover: one owner process runs one
 * engine per service on one cluster client (a pod with several services) and is killed with SIGKILL; one peer engine
 * per service in this JVM takes the streams over.
 */
final class ClusterBenchmark {

	private static final Logger logger = LoggerFactory.getLogger(ClusterBenchmark.class);

	private final BenchmarkOptions options;

	ClusterBenchmark(BenchmarkOptions options) {
		this.options = options;
	}

	/** One service's engine during one renewal window. */
	record NodeWindow(String service, int port, double renewalCallsPerTick, long maxRenewalCallsPerTick, double ticks,
			double redisCommandsPerSecond, double redisCpuPercent) {
	}

	/** One measured renewal window over the whole cluster. */
	record Window(int index, double seconds, double redisCommandsPerSecond, double redisCpuPercent, double clientRequestsPerSecond,
			List<NodeWindow> nodes) {
	}

	/** Renewal: N streams per service, one service per master, at one hb-interval. */
	record RenewalCase(int nPerService, Duration hb, List<String> services, int acquired, long heldOnServer, long lost,
			double expectedCallsPerTick, List<Window> windows, String error) {

		Spread spread(java.util.function.ToDoubleFunction<Window> metric) {
			return Spread.of(this.windows.stream().map(metric::applyAsDouble).toList());
		}

		long maxCallsPerTick() {
			return this.windows.stream().flatMap((w) -> w.nodes().stream()).mapToLong(NodeWindow::maxRenewalCallsPerTick).max()
				.orElse(-1);
		}

	}

	/** Failover: one kill of an owner holding N streams per service. */
	record FailoverRun(int nPerService, int services, Duration hb, int repetition, Map<String, List<Double>> latenciesByService,
			int missing, long sweepFound, long keyspaceEvents, String error) {

		List<Double> latencies() {
			List<Double> all = new ArrayList<>();
			this.latenciesByService.values().forEach(all::addAll);
			return all;
		}

	}

	record Results(List<String> nodes, Map<String, String> serviceNodes, String redisVersion, List<RenewalCase> renewal,
			List<FailoverRun> failover) {
	}

	Results run() {
		try (RedisCluster cluster = RedisServers.startCluster(this.options.clusterMasters,
				RedisServerSpec.defaults().commandTimeout(Duration.ofSeconds(30)))) {
			List<String> services = new ArrayList<>();
			Map<String, String> serviceNodes = new LinkedHashMap<>();
			for (int master = 0; master < cluster.nodes().size(); master++) {
				RedisServer node = cluster.nodes().get(master);
				for (int suffix = 0;; suffix++) {
					String name = "bench" + (char) ('a' + master) + suffix;
					if (cluster.nodeForKey("{" + name + "-input}") == node) {
						services.add(name);
						serviceNodes.put(name, node.host() + ":" + node.port());
						break;
					}
				}
			}
			logger.info("Cluster: {} masters on {}; services {}", cluster.nodes().size(), cluster.nodeAddresses(), serviceNodes);
			RedissonClient control = RedissonClients.createCluster(cluster.nodeAddresses(), null);
			try {
				List<RenewalCase> renewal = new ArrayList<>();
				for (Duration hb : this.options.clusterRenewalHbIntervals) {
					for (int n : this.options.clusterRenewalSizes) {
						renewal.add(renewal(cluster, control, services, n, hb));
					}
				}
				List<FailoverRun> failover = new ArrayList<>();
				for (int n : this.options.clusterFailoverSizes) {
					for (int rep = 1; rep <= this.options.clusterFailoverRepetitions; rep++) {
						failover.add(failover(cluster, control, services, n, rep));
					}
				}
				return new Results(cluster.nodeAddresses(), serviceNodes, cluster.nodes().get(0).version(), renewal, failover);
			}
			finally {
				control.shutdown();
			}
		}
	}

	private static void flush(RedisCluster cluster) {
		for (RedisServer node : cluster.nodes()) {
			node.command("FLUSHALL");
		}
	}

	private RenewalCase renewal(RedisCluster cluster, RedissonClient control, List<String> services, int n, Duration hb) {
		logger.info("Cluster renewal: {} streams on each of {} services at hb-interval {}", n, services.size(),
				BenchmarkOptions.format(hb));
		flush(cluster);
		JvmProbe.pause(1000);
		List<EngineLeaseHolder> holders = new ArrayList<>();
		List<RedisProbe> probes = cluster.nodes().stream().map(RedisProbe::new).toList();
		double expected = Math.ceil(n / 1000.0);
		try {
			for (String service : services) {
				EngineLeaseHolder holder = new EngineLeaseHolder(null, cluster.nodeAddresses(), control, service, hb);
				holders.add(holder);
				holder.prepare(n);
			}
			int acquired = 0;
			for (EngineLeaseHolder holder : holders) {
				acquired += holder.hold(LbsLoad.names(n), Duration.ofSeconds(Math.max(30, n / 2000)));
			}
			JvmProbe.pause(hb.dividedBy(2).toMillis() + 500);
			List<Window> windows = new ArrayList<>();
			long windowMillis = Math.round(hb.toMillis() / 2.0 * this.options.renewalWindowTicks);
			for (int i = 0; i < this.options.renewalWindows; i++) {
				windows.add(window(i + 1, cluster, services, holders, probes, windowMillis));
			}
			long held = 0;
			for (String service : services) {
				held += ((Number) cluster.nodeForKey("{" + service + "-input}")
					.command("HLEN", "{" + service + "-input}:owners")).longValue();
			}
			long lost = holders.stream().mapToLong(EngineLeaseHolder::lost).sum();
			RenewalCase result = new RenewalCase(n, hb, services, acquired, held, lost, expected, windows, null);
			logger.info("Cluster renewal: {} per service: max renewal calls per tick on one node {} (bound {}), Redis CPU summed {} %, "
					+ "{} held on the servers, lost {}", n, result.maxCallsPerTick(), Spread.number(expected, 0),
					result.spread(Window::redisCpuPercent).format(1), held, lost);
			return result;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Cluster renewal at {} per service failed: {}", n, ex.toString(), ex);
			return new RenewalCase(n, hb, services, 0, 0, -1, expected, List.of(), ex.toString());
		}
		finally {
			holders.forEach(EngineLeaseHolder::close);
		}
	}

	private Window window(int index, RedisCluster cluster, List<String> services, List<EngineLeaseHolder> holders,
			List<RedisProbe> probes, long millis) {
		long requests = holders.stream().mapToLong((h) -> h.counter().requests()).sum();
		List<RedisProbe.Snapshot> before = probes.stream().map(RedisProbe::snapshot).toList();
		JvmProbe.pause(millis);
		List<RedisProbe.Snapshot> after = probes.stream().map(RedisProbe::snapshot).toList();
		long requestsAfter = holders.stream().mapToLong((h) -> h.counter().requests()).sum();
		double seconds = (after.get(0).nanos() - before.get(0).nanos()) / 1e9;
		double commands = 0;
		double cpu = 0;
		for (int i = 0; i < probes.size(); i++) {
			RedisProbe.Delta delta = RedisProbe.delta(before.get(i), after.get(i));
			commands += delta.commandsPerSecond();
			cpu += delta.cpuPercent();
		}
		List<NodeWindow> nodes = new ArrayList<>();
		for (int s = 0; s < services.size(); s++) {
			String service = services.get(s);
			RedisServer node = cluster.nodeForKey("{" + service + "-input}");
			int i = cluster.nodes().indexOf(node);
			RedisProbe.Delta delta = RedisProbe.delta(before.get(i), after.get(i));
			List<EngineLeaseHolder.Tick> ticks = holders.get(s).ticksBetween(before.get(i).nanos(), after.get(i).nanos());
			nodes.add(new NodeWindow(service, node.port(),
					ticks.stream().mapToLong(EngineLeaseHolder.Tick::calls).average().orElse(Double.NaN),
					ticks.stream().mapToLong(EngineLeaseHolder.Tick::calls).max().orElse(-1), ticks.size(),
					delta.commandsPerSecond(), delta.cpuPercent()));
		}
		return new Window(index, seconds, commands, cpu, (requestsAfter - requests) / seconds, nodes);
	}

	private FailoverRun failover(RedisCluster cluster, RedissonClient control, List<String> services, int n, int repetition) {
		Duration hb = this.options.failoverHb;
		Duration timeout = hb.multipliedBy(3).plusSeconds(30);
		logger.info("Cluster failover: {} streams on each of {} services, repetition {}", n, services.size(), repetition);
		flush(cluster);
		ChildProcess owner = null;
		List<RecordingEngine> peers = new ArrayList<>();
		try {
			owner = ChildProcess.start(OwnerProcess.class, "384m", OwnerProcess.CLUSTER + String.join(",", cluster.nodeAddresses()),
					String.join(",", services), "owner", Long.toString(hb.toMillis()), Integer.toString(n));
			owner.await("STARTED", Duration.ofSeconds(60));
			for (String service : services) {
				new LbsLoad(control, service).submitAll(n);
			}
			owner.await("HOLDING", Duration.ofSeconds(120));
			for (String service : services) {
				EngineSettings settings = EngineSettings.builder(service, "peer")
					.hbInterval(hb)
					.maxConcurrentStreams(Math.max(n, 10_000))
					.outputChannelSize(Math.max(n, 500) + 100)
					.handoffOnClose(false)
					.build();
				peers.add(new RecordingEngine(RedissonClients.createCluster(cluster.nodeAddresses(), null), settings, null).start());
			}
			JvmProbe.pause(hb.dividedBy(2).toMillis() + 500);
			long killed = System.nanoTime();
			owner.kill();
			List<Double> latencies = new ArrayList<>();
			Map<String, List<Double>> perService = new LinkedHashMap<>();
			long deadline = killed + timeout.toNanos();
			for (int s = 0; s < services.size(); s++) {
				RecordingEngine peer = peers.get(s);
				peer.awaitAdded(n, true, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
				List<Double> own = new ArrayList<>();
				for (RecordingEngine.Added added : peer.added().values()) {
					if (added.recovered()) {
						own.add((added.nanos() - killed) / 1e9);
					}
				}
				latencies.addAll(own);
				perService.put(services.get(s), own);
			}
			int missing = n * services.size() - latencies.size();
			long sweep = peers.stream().mapToLong((p) -> p.signals().sweepFound()).sum();
			long events = peers.stream().mapToLong((p) -> p.signals().keyspaceNotifications()).sum();
			Summary summary = Summary.of(latencies);
			logger.info("Cluster failover: recovered {} of {}; p50 {} s, p99 {} s, max {} s; keyspace events {}, sweep found {}",
					latencies.size(), n * services.size(), Spread.number(summary.p50(), 3), Spread.number(summary.p99(), 3),
					Spread.number(summary.max(), 3), events, sweep);
			return new FailoverRun(n, services.size(), hb, repetition, perService, missing, sweep, events, null);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
		catch (RuntimeException ex) {
			logger.error("Cluster failover run failed: {}", ex.toString(), ex);
			return new FailoverRun(n, services.size(), hb, repetition, Map.of(), n * services.size(), 0, 0, ex.toString());
		}
		finally {
			peers.forEach(RecordingEngine::close);
			if (owner != null) {
				owner.close();
			}
		}
	}

	private static long countKeys(RedisServer node, String pattern) {
		long count = 0;
		String cursor = "0";
		do {
			List<?> reply = (List<?>) node.command("SCAN", cursor, "MATCH", pattern, "COUNT", "10000");
			cursor = (String) reply.get(0);
			count += ((List<?>) reply.get(1)).size();
		}
		while (!cursor.equals("0"));
		return count;
	}

	static List<Map<String, Object>> renewalRows(RenewalCase c) {
		List<Map<String, Object>> rows = new ArrayList<>();
		List<Window> windows = c.windows().isEmpty() ? java.util.Collections.singletonList(null) : c.windows();
		for (Window w : windows) {
			List<NodeWindow> nodes = (w == null) ? java.util.Collections.singletonList(null) : w.nodes();
			for (NodeWindow node : nodes) {
				Map<String, Object> row = new LinkedHashMap<>();
				row.put("n_per_service", c.nPerService());
				row.put("services", c.services().size());
				row.put("hb_s", c.hb().toMillis() / 1000.0);
				row.put("window", (w != null) ? w.index() : null);
				row.put("window_s", (w != null) ? w.seconds() : null);
				row.put("redis_commands_per_s_all_nodes", (w != null) ? w.redisCommandsPerSecond() : null);
				row.put("redis_cpu_percent_all_nodes", (w != null) ? w.redisCpuPercent() : null);
				row.put("client_requests_per_s_all_engines", (w != null) ? w.clientRequestsPerSecond() : null);
				row.put("service", (node != null) ? node.service() : null);
				row.put("node_port", (node != null) ? node.port() : null);
				row.put("ticks", (node != null) ? node.ticks() : null);
				row.put("renewal_calls_per_tick", (node != null) ? node.renewalCallsPerTick() : null);
				row.put("max_renewal_calls_per_tick", (node != null) ? node.maxRenewalCallsPerTick() : null);
				row.put("node_redis_commands_per_s", (node != null) ? node.redisCommandsPerSecond() : null);
				row.put("node_redis_cpu_percent", (node != null) ? node.redisCpuPercent() : null);
				row.put("expected_calls_per_tick", c.expectedCallsPerTick());
				row.put("acquired", c.acquired());
				row.put("held_on_server_at_end", c.heldOnServer());
				row.put("lost_total", c.lost());
				row.put("error", c.error());
				rows.add(row);
			}
		}
		return rows;
	}

	static Map<String, Object> failoverRow(FailoverRun run) {
		Summary summary = Summary.of(run.latencies());
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("n_per_service", run.nPerService());
		row.put("services", run.services());
		row.put("hb_s", run.hb().toMillis() / 1000.0);
		row.put("repetition", run.repetition());
		row.put("recovered", run.latencies().size());
		row.put("missing_at_timeout", run.missing());
		row.put("p50_s", summary.p50());
		row.put("p90_s", summary.p90());
		row.put("p99_s", summary.p99());
		row.put("max_s", summary.max());
		row.put("sweep_found", run.sweepFound());
		row.put("keyspace_events", run.keyspaceEvents());
		row.put("error", run.error());
		return row;
	}

}
