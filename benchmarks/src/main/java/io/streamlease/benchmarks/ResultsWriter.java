package io.streamlease.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/**
 * Writes the raw results under {@code benchmarks/results/} (git-ignored): one CSV per table, the individual
 * latency samples of failover and handoff, and everything together in {@code run.json}.
 */
final class ResultsWriter {

	private final Path directory;

	ResultsWriter(Path directory) {
		this.directory = directory;
	}

	void write(BenchmarkRun run) {
		try {
			Files.createDirectories(this.directory);
			Map<String, Object> json = new LinkedHashMap<>();
			Path existing = this.directory.resolve("run.json");
			if (run.options().merge && Files.exists(existing)) {
				// keep the earlier run's header and the scenarios not run now; the scenarios run now replace theirs
				@SuppressWarnings("unchecked")
				Map<String, Object> previous = JsonMapper.builder().build().readValue(Files.readString(existing), LinkedHashMap.class);
				json.putAll(previous);
				Map<String, Object> merged = new LinkedHashMap<>();
				merged.put("command", run.command());
				merged.put("commit", run.commit());
				merged.put("started_at", run.startedAt().toString());
				merged.put("seconds", run.seconds());
				merged.put("scenarios", BenchmarkOptions.ORDER.stream().filter(run.options()::runs).toList());
				merged.put("load_averages", run.loadAverages());
				merged.put("machine", run.machine());
				merged.put("redis", run.redis());
				merged.put("options", run.options().describe());
				List<Object> all = new ArrayList<>();
				if (previous.get("merged_runs") instanceof List<?> list) {
					all.addAll(list);
				}
				all.add(merged);
				json.put("merged_runs", all);
				write(run, json);
				return;
			}
			json.put("command", run.command());
			json.put("commit", run.commit());
			json.put("started_at", run.startedAt().toString());
			json.put("seconds", run.seconds());
			json.put("machine", run.machine());
			json.put("redis", run.redis());
			json.put("load_averages", run.loadAverages());
			json.put("options", run.options().describe());
			write(run, json);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not write the results to " + this.directory, ex);
		}
	}

	private void write(BenchmarkRun run, Map<String, Object> json) {
		try {
			if (run.renewal() != null) {
				List<Map<String, Object>> rows = new ArrayList<>();
				for (RenewalBenchmark.Case c : run.renewal().cases()) {
					if (c.windows().isEmpty()) {
						rows.add(RenewalBenchmark.row(c, null));
					}
					for (RenewalBenchmark.Window w : c.windows()) {
						rows.add(RenewalBenchmark.row(c, w));
					}
				}
				csv("renewal.csv", rows);
				json.put("renewal", rows);
				Map<String, Object> mixes = new LinkedHashMap<>();
				for (RenewalBenchmark.Case c : run.renewal().cases()) {
					mixes.put(c.approach() + " N=" + c.n() + " hb=" + BenchmarkOptions.format(c.hb()), c.requestMix());
				}
				json.put("renewal_request_mix", mixes);
				if (run.renewal().soak() != null) {
					List<Map<String, Object>> soak = List.of(soakRow(run.renewal().soak()));
					csv("renewal-soak.csv", soak);
					json.put("renewal_soak", soak);
				}
			}
			if (run.failover() != null) {
				List<Map<String, Object>> rows = new ArrayList<>();
				List<Map<String, Object>> samples = new ArrayList<>();
				for (FailoverBenchmark.Case c : run.failover()) {
					for (FailoverBenchmark.Run r : c.runs()) {
						rows.add(FailoverBenchmark.row(c, r));
						for (double latency : r.latencies()) {
							Map<String, Object> sample = new LinkedHashMap<>();
							sample.put("n", c.n());
							sample.put("unrelated_ttl_keys", c.noiseKeys());
							sample.put("detection", c.detection());
							sample.put("repetition", r.repetition());
							sample.put("latency_s", latency);
							samples.add(sample);
						}
					}
				}
				csv("failover.csv", rows);
				List<Map<String, Object>> lapse = new ArrayList<>();
				for (FailoverBenchmark.Case c : run.failover()) {
					for (FailoverBenchmark.Run r : c.runs()) {
						for (double latency : r.afterLapse()) {
							Map<String, Object> sample = new LinkedHashMap<>();
							sample.put("n", c.n());
							sample.put("unrelated_ttl_keys", c.noiseKeys());
							sample.put("detection", c.detection());
							sample.put("repetition", r.repetition());
							sample.put("after_lapse_s", latency);
							lapse.add(sample);
						}
					}
				}
				csv("failover-after-lapse-samples.csv", lapse);
				csv("failover-samples.csv", samples);
				json.put("failover", rows);
			}
			if (run.handoff() != null) {
				List<Map<String, Object>> rows = new ArrayList<>();
				List<Map<String, Object>> samples = new ArrayList<>();
				for (HandoffBenchmark.Case c : run.handoff()) {
					for (HandoffBenchmark.Run r : c.runs()) {
						rows.add(HandoffBenchmark.row(c, r));
						for (double latency : r.latencies()) {
							Map<String, Object> sample = new LinkedHashMap<>();
							sample.put("n", c.n());
							sample.put("mode", c.mode());
							sample.put("repetition", r.repetition());
							sample.put("latency_s", latency);
							samples.add(sample);
						}
					}
				}
				csv("handoff.csv", rows);
				csv("handoff-samples.csv", samples);
				json.put("handoff", rows);
			}
			if (run.dispatch() != null) {
				List<Map<String, Object>> throughput = run.dispatch().throughput().stream().map(DispatchBenchmark::row).toList();
				List<Map<String, Object>> latency = run.dispatch().rates().stream().map(DispatchBenchmark::row).toList();
				csv("dispatch-throughput.csv", throughput);
				csv("dispatch-latency.csv", latency);
				json.put("dispatch_throughput", throughput);
				json.put("dispatch_latency", latency);
			}
			if (run.entryLevel() != null) {
				List<Map<String, Object>> rows = run.entryLevel().stream().map(EntryLevelBenchmark::row).toList();
				csv("entry-level.csv", rows);
				json.put("entry_level", rows);
			}
			if (run.cluster() != null) {
				ClusterBenchmark.Results cluster = run.cluster();
				List<Map<String, Object>> renewal = new ArrayList<>();
				cluster.renewal().forEach((c) -> renewal.addAll(ClusterBenchmark.renewalRows(c)));
				List<Map<String, Object>> failover = cluster.failover().stream().map(ClusterBenchmark::failoverRow).toList();
				List<Map<String, Object>> samples = new ArrayList<>();
				for (ClusterBenchmark.FailoverRun r : cluster.failover()) {
					r.latenciesByService().forEach((service, latencies) -> {
						for (double latency : latencies) {
							Map<String, Object> sample = new LinkedHashMap<>();
							sample.put("n_per_service", r.nPerService());
							sample.put("repetition", r.repetition());
							sample.put("service", service);
							sample.put("latency_s", latency);
							samples.add(sample);
						}
					});
				}
				csv("cluster-renewal.csv", renewal);
				csv("cluster-failover.csv", failover);
				csv("cluster-failover-samples.csv", samples);
				Map<String, Object> section = new LinkedHashMap<>();
				section.put("nodes", cluster.nodes());
				section.put("service_nodes", cluster.serviceNodes());
				section.put("redis_version", cluster.redisVersion());
				section.put("renewal", renewal);
				section.put("failover", failover);
				json.put("cluster", section);
			}
			if (run.reading() != null) {
				List<Map<String, Object>> rows = run.reading().stream().map(RecordRows::row).toList();
				csv("reading.csv", rows);
				json.put("reading", rows);
			}
			if (run.shipped() != null) {
				List<Map<String, Object>> rows = new ArrayList<>(run.shipped().cases().stream().map(RecordRows::row).toList());
				Object kept = json.get("shipped");
				if (run.options().merge && kept instanceof Map<?, ?> previous) {
					// with --merge a run of some sizes replaces those sizes only, and the throughput case only if it ran
					List<Object> sizes = rows.stream().map((row) -> row.get("streams")).toList();
					List<Map<String, Object>> merged = new ArrayList<>();
					if (previous.get("cases") instanceof List<?> cases) {
						for (Object c : cases) {
							if (c instanceof Map<?, ?> row && !sizes.contains(((Number) row.get("streams")).intValue())) {
								@SuppressWarnings("unchecked")
								Map<String, Object> typed = (Map<String, Object>) row;
								merged.add(typed);
							}
						}
					}
					merged.addAll(rows);
					merged.sort(java.util.Comparator.comparingInt((row) -> ((Number) row.get("streams")).intValue()));
					rows = merged;
				}
				csv("shipped.csv", rows);
				Map<String, Object> section = new LinkedHashMap<>();
				section.put("jar", run.shipped().jar());
				section.put("cases", rows);
				if (run.shipped().throughput() != null) {
					Map<String, Object> throughput = RecordRows.row(run.shipped().throughput());
					csv("shipped-throughput.csv", List.of(throughput));
					section.put("throughput", throughput);
				}
				else if (run.options().merge && kept instanceof Map<?, ?> previous && previous.get("throughput") != null) {
					section.put("throughput", previous.get("throughput"));
				}
				json.put("shipped", section);
			}
			String text = JsonMapper.builder().build().writerWithDefaultPrettyPrinter().writeValueAsString(clean(json));
			Files.writeString(this.directory.resolve("run.json"), text);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not write the results to " + this.directory, ex);
		}
	}

	static Map<String, Object> soakRow(RenewalBenchmark.Soak soak) {
		Map<String, Object> row = new LinkedHashMap<>();
		row.put("n", soak.n());
		row.put("hb_s", soak.hb().toMillis() / 1000.0);
		row.put("held_s", soak.seconds());
		row.put("disowned", soak.disowned());
		row.put("lost_by_renewal", soak.lostByRenewal());
		row.put("failed_ticks", soak.failedTicks());
		row.put("ticks", soak.ticks());
		row.put("tick_p50_ms", soak.tickMillis().p50());
		row.put("tick_p99_ms", soak.tickMillis().p99());
		row.put("tick_max_ms", soak.tickMillis().max());
		row.put("redis_cpu_percent", soak.redisCpuPercent());
		row.put("redis_commands_per_s", soak.redisCommandsPerSecond());
		row.put("held_on_server_at_end", soak.heldOnServer());
		return row;
	}

	private void csv(String name, List<Map<String, Object>> rows) throws IOException {
		StringBuilder out = new StringBuilder();
		if (!rows.isEmpty()) {
			out.append(String.join(",", rows.get(0).keySet())).append('\n');
			for (Map<String, Object> row : rows) {
				List<String> cells = new ArrayList<>();
				for (Object value : row.values()) {
					cells.add(cell(value));
				}
				out.append(String.join(",", cells)).append('\n');
			}
		}
		Files.writeString(this.directory.resolve(name), out);
	}

	private static String cell(Object value) {
		if (value == null) {
			return "";
		}
		if (value instanceof Double d) {
			return d.isNaN() ? "" : String.format(Locale.ROOT, "%.6g", d);
		}
		String text = value.toString();
		if (text.contains(",") || text.contains("\"") || text.contains("\n")) {
			return "\"" + text.replace("\"", "\"\"") + "\"";
		}
		return text;
	}

	/** NaN and infinities become null, so that the JSON is valid. */
	private static Object clean(Object value) {
		if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
			return null;
		}
		if (value instanceof Map<?, ?> map) {
			Map<Object, Object> copy = new LinkedHashMap<>();
			map.forEach((k, v) -> copy.put(k, clean(v)));
			return copy;
		}
		if (value instanceof List<?> list) {
			return list.stream().map(ResultsWriter::clean).toList();
		}
		return value;
	}

}
