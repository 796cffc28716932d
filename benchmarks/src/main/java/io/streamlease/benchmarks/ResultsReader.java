package io.streamlease.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads back what {@link ResultsWriter} wrote, so that the report and the charts can be rendered again from the raw
 * results of a run ({@code --report-only}) without measuring again. Percentiles that the raw results do not keep
 * (the fastest sample of a dispatch run, the p90 of renewal ticks) come back as NaN; the report does not use them.
 */
final class ResultsReader {

	private static final String JAR = "benchmarks/target/stream-lease-benchmarks.jar";

	private final Path directory;

	ResultsReader(Path directory) {
		this.directory = directory;
	}

	BenchmarkRun read(Path root) {
		try {
			JsonNode json = JsonMapper.builder().build().readTree(Files.readString(this.directory.resolve("run.json")));
			String command = json.path("command").asString();
			List<String> args = new ArrayList<>();
			String tail = command.substring(command.indexOf(JAR) + JAR.length()).trim();
			if (!tail.isEmpty()) {
				args.addAll(Arrays.asList(tail.split(" ")));
			}
			args.removeIf((arg) -> arg.startsWith("--root=") || arg.equals("--report-only") || arg.equals("--merge"));
			args.add("--root=" + root);
			BenchmarkOptions options = BenchmarkOptions.parse(args.toArray(String[]::new));
			Map<String, Double> load = new LinkedHashMap<>();
			json.path("load_averages").properties().forEach((entry) -> load.put(entry.getKey(), entry.getValue().asDouble()));
			return new BenchmarkRun(options, command, json.path("commit").asString(), strings(json.path("machine")),
					strings(json.path("redis")), Instant.parse(json.path("started_at").asString()), json.path("seconds").asDouble(),
					load, json.has("renewal") ? renewal(json) : null, json.has("failover") ? failover(json) : null,
					json.has("handoff") ? handoff(json) : null, json.has("dispatch_throughput") ? dispatch(json) : null,
					json.has("entry_level") ? entryLevel(json) : null, json.has("cluster") ? cluster(json) : null,
					json.has("reading") ? reading(json) : null, json.has("shipped") ? shipped(json) : null, mergedRuns(json));
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not read the results in " + this.directory, ex);
		}
	}

	private static List<EntryReadingCost.Row> reading(JsonNode json) {
		List<EntryReadingCost.Row> rows = new ArrayList<>();
		json.path("reading").forEach((row) -> rows.add(RecordRows.read(row, EntryReadingCost.Row.class)));
		return rows;
	}

	private static ShippedProductBenchmark.Results shipped(JsonNode json) {
		JsonNode section = json.path("shipped");
		List<ShippedProductBenchmark.Result> cases = new ArrayList<>();
		section.path("cases").forEach((row) -> cases.add(RecordRows.read(row, ShippedProductBenchmark.Result.class)));
		JsonNode throughput = section.path("throughput");
		return new ShippedProductBenchmark.Results(section.path("jar").asString(), cases,
				(throughput.isMissingNode() || throughput.isNull()) ? null
						: RecordRows.read(throughput, ShippedProductBenchmark.Throughput.class));
	}

	private static RenewalBenchmark.Results renewal(JsonNode json) {
		Map<String, List<JsonNode>> rowsByCase = new LinkedHashMap<>();
		for (JsonNode row : json.path("renewal")) {
			rowsByCase.computeIfAbsent(text(row, "approach") + "|" + row.path("hb_s").asDouble() + "|" + row.path("n").asInt(),
					(key) -> new ArrayList<>()).add(row);
		}
		List<RenewalBenchmark.Case> cases = new ArrayList<>();
		for (List<JsonNode> rows : rowsByCase.values()) {
			JsonNode first = rows.get(0);
			Duration hb = seconds(first, "hb_s");
			List<RenewalBenchmark.Window> windows = new ArrayList<>();
			for (JsonNode row : rows) {
				if (!row.path("window").isNull() && !row.path("window").isMissingNode()) {
					windows.add(new RenewalBenchmark.Window(row.path("window").asInt(), number(row, "window_s"),
							number(row, "redis_commands_per_s"), number(row, "redis_cpu_percent"), number(row, "redis_script_calls_per_s"),
							number(row, "client_requests_per_s"), number(row, "renewal_calls_per_s"), number(row, "ticks"),
							number(row, "renewal_calls_per_tick"), number(row, "max_renewal_calls_per_tick"), row.path("lost_in_window").asLong()));
				}
			}
			String approach = text(first, "approach");
			int n = first.path("n").asInt();
			Map<String, Long> mix = new LinkedHashMap<>();
			json.path("renewal_request_mix").path(approach + " N=" + n + " hb=" + BenchmarkOptions.format(hb)).properties()
				.forEach((entry) -> mix.put(entry.getKey(), entry.getValue().asLong()));
			cases.add(new RenewalBenchmark.Case(approach, hb, n, null, text(first, "error"), first.path("acquired").asInt(),
					first.path("held_at_heap_reading").asLong(), number(first, "acquire_s"), first.path("fixed_heap_bytes").asLong(),
					number(first, "heap_bytes_per_stream"), number(first, "redis_bytes_per_stream"),
					number(first, "ownership_bytes_per_stream"),
					first.path("jvm_threads_before").asInt(), first.path("jvm_threads_holding").asInt(), first.path("own_threads").asLong(),
					first.path("held_on_server_at_end").asLong(), first.path("lost_total").asLong(),
					number(first, "expected_calls_per_tick"), windows, mix));
		}
		RenewalBenchmark.Soak soak = null;
		JsonNode soakRow = json.path("renewal_soak").path(0);
		if (!soakRow.isMissingNode()) {
			soak = new RenewalBenchmark.Soak(soakRow.path("n").asInt(), seconds(soakRow, "hb_s"), number(soakRow, "held_s"),
					soakRow.path("disowned").asLong(), soakRow.path("lost_by_renewal").asLong(), soakRow.path("failed_ticks").asLong(),
					soakRow.path("ticks").asLong(), new Summary(soakRow.path("ticks").asLong(), Double.NaN, number(soakRow, "tick_p50_ms"),
							Double.NaN, number(soakRow, "tick_p99_ms"), number(soakRow, "tick_max_ms")),
					number(soakRow, "redis_cpu_percent"), number(soakRow, "redis_commands_per_s"),
					soakRow.path("held_on_server_at_end").asLong());
		}
		return new RenewalBenchmark.Results(cases, soak);
	}

	private List<FailoverBenchmark.Case> failover(JsonNode json) throws IOException {
		Map<String, List<Double>> latencies = samples("failover-samples.csv", List.of("n", "unrelated_ttl_keys", "detection",
				"repetition"), "latency_s");
		Map<String, List<Double>> afterLapse = samples("failover-after-lapse-samples.csv", List.of("n", "unrelated_ttl_keys",
				"detection", "repetition"), "after_lapse_s");
		Map<String, List<JsonNode>> rowsByCase = new LinkedHashMap<>();
		for (JsonNode row : json.path("failover")) {
			rowsByCase.computeIfAbsent(row.path("n").asInt() + "|" + row.path("unrelated_ttl_keys").asInt() + "|"
					+ text(row, "detection"), (key) -> new ArrayList<>()).add(row);
		}
		List<FailoverBenchmark.Case> cases = new ArrayList<>();
		for (List<JsonNode> rows : rowsByCase.values()) {
			JsonNode first = rows.get(0);
			List<FailoverBenchmark.Run> runs = new ArrayList<>();
			for (JsonNode row : rows) {
				String key = row.path("n").asInt() + "|" + row.path("unrelated_ttl_keys").asInt() + "|" + text(row, "detection") + "|"
						+ row.path("repetition").asInt();
				RecordingEngine.Signals signals = row.path("keyspace_events").isNull() ? null
						: new RecordingEngine.Signals(row.path("keyspace_events").asLong(), row.path("keyspace_events_dropped").asLong(),
								row.path("sweep_found").asLong(), row.path("recovered").asLong(), row.path("claims_lost_races").asLong());
				runs.add(new FailoverBenchmark.Run(row.path("repetition").asInt(), latencies.getOrDefault(key, List.of()),
						afterLapse.getOrDefault(key, List.of()), row.path("missing_at_timeout").asInt(), number(row, "timeout_s"), signals,
						text(row, "error")));
			}
			cases.add(new FailoverBenchmark.Case(first.path("n").asInt(), first.path("unrelated_ttl_keys").asInt(),
					text(first, "detection"), seconds(first, "hb_s"), runs));
		}
		return cases;
	}

	private List<HandoffBenchmark.Case> handoff(JsonNode json) throws IOException {
		Map<String, List<Double>> latencies = samples("handoff-samples.csv", List.of("n", "mode", "repetition"), "latency_s");
		Map<String, List<JsonNode>> rowsByCase = new LinkedHashMap<>();
		for (JsonNode row : json.path("handoff")) {
			rowsByCase.computeIfAbsent(row.path("n").asInt() + "|" + text(row, "mode"), (key) -> new ArrayList<>()).add(row);
		}
		List<HandoffBenchmark.Case> cases = new ArrayList<>();
		for (List<JsonNode> rows : rowsByCase.values()) {
			JsonNode first = rows.get(0);
			List<HandoffBenchmark.Run> runs = new ArrayList<>();
			for (JsonNode row : rows) {
				String key = row.path("n").asInt() + "|" + text(row, "mode") + "|" + row.path("repetition").asInt();
				runs.add(new HandoffBenchmark.Run(row.path("repetition").asInt(), latencies.getOrDefault(key, List.of()),
						row.path("missing_at_timeout").asInt(), number(row, "close_s"), number(row, "first_handoff_message_s"),
						text(row, "error")));
			}
			cases.add(new HandoffBenchmark.Case(first.path("n").asInt(), text(first, "mode"), seconds(first, "hb_s"), runs));
		}
		return cases;
	}

	private static DispatchBenchmark.Results dispatch(JsonNode json) {
		List<DispatchBenchmark.Throughput> throughput = new ArrayList<>();
		for (JsonNode row : json.path("dispatch_throughput")) {
			throughput.add(new DispatchBenchmark.Throughput(text(row, "mode"), row.path("repetition").asInt(),
					row.path("entries").asInt(), number(row, "assignments_per_s"), number(row, "seconds_to_drain"), text(row, "error")));
		}
		List<DispatchBenchmark.RateRun> rates = new ArrayList<>();
		for (JsonNode row : json.path("dispatch_latency")) {
			Summary latency = new Summary(row.path("recorded").asLong(), Double.NaN, number(row, "p50_ms"), number(row, "p90_ms"),
					number(row, "p99_ms"), number(row, "max_ms"));
			rates.add(new DispatchBenchmark.RateRun(row.path("rate").asInt(), row.path("repetition").asInt(),
					number(row, "achieved_rate"), row.path("recorded").asLong(), row.path("missing").asLong(), latency,
					number(row, "redis_cpu_percent"), number(row, "max_producer_lag_ms"), text(row, "error")));
		}
		return new DispatchBenchmark.Results(throughput, rates);
	}

	private static List<EntryLevelBenchmark.Run> entryLevel(JsonNode json) {
		List<EntryLevelBenchmark.Run> runs = new ArrayList<>();
		for (JsonNode row : json.path("entry_level")) {
			runs.add(new EntryLevelBenchmark.Run(row.path("checkpoint_every").asInt(), row.path("repetition").asInt(),
					row.path("streams").asInt(), row.path("entries_per_stream").asInt(), row.path("handled").asLong(),
					number(row, "seconds"), number(row, "entries_per_s"), row.path("checkpoints").asLong(),
					number(row, "checkpoints_per_s"), row.path("checkpoints_after_last_entry").asLong(),
					row.path("checkpointed_at_end").asInt(), number(row, "redis_cpu_percent"), number(row, "redis_commands_per_s"),
					number(row, "seconds_to_first_entry"), text(row, "error")));
		}
		return runs;
	}

	private ClusterBenchmark.Results cluster(JsonNode json) throws IOException {
		JsonNode section = json.path("cluster");
		List<String> nodes = new ArrayList<>();
		section.path("nodes").forEach((node) -> nodes.add(node.asString()));
		Map<String, String> serviceNodes = strings(section.path("service_nodes"));
		List<String> services = new ArrayList<>(serviceNodes.keySet());
		Map<String, List<JsonNode>> rowsByCase = new LinkedHashMap<>();
		for (JsonNode row : section.path("renewal")) {
			rowsByCase.computeIfAbsent(row.path("n_per_service").asInt() + "|" + row.path("hb_s").asDouble(), (key) -> new ArrayList<>())
				.add(row);
		}
		List<ClusterBenchmark.RenewalCase> renewal = new ArrayList<>();
		for (List<JsonNode> rows : rowsByCase.values()) {
			JsonNode first = rows.get(0);
			Map<Integer, List<JsonNode>> byWindow = new LinkedHashMap<>();
			for (JsonNode row : rows) {
				if (!row.path("window").isNull() && !row.path("window").isMissingNode()) {
					byWindow.computeIfAbsent(row.path("window").asInt(), (key) -> new ArrayList<>()).add(row);
				}
			}
			List<ClusterBenchmark.Window> windows = new ArrayList<>();
			byWindow.forEach((index, windowRows) -> {
				List<ClusterBenchmark.NodeWindow> nodeWindows = new ArrayList<>();
				for (JsonNode row : windowRows) {
					nodeWindows.add(new ClusterBenchmark.NodeWindow(text(row, "service"), row.path("node_port").asInt(),
							number(row, "renewal_calls_per_tick"), row.path("max_renewal_calls_per_tick").asLong(), number(row, "ticks"),
							number(row, "node_redis_commands_per_s"), number(row, "node_redis_cpu_percent")));
				}
				JsonNode w = windowRows.get(0);
				windows.add(new ClusterBenchmark.Window(index, number(w, "window_s"), number(w, "redis_commands_per_s_all_nodes"),
						number(w, "redis_cpu_percent_all_nodes"), number(w, "client_requests_per_s_all_engines"), nodeWindows));
			});
			renewal.add(new ClusterBenchmark.RenewalCase(first.path("n_per_service").asInt(), seconds(first, "hb_s"), services,
					first.path("acquired").asInt(), first.path("held_on_server_at_end").asLong(), first.path("lost_total").asLong(),
					number(first, "expected_calls_per_tick"), windows, text(first, "error")));
		}
		Map<String, Map<String, List<Double>>> samples = new HashMap<>();
		Path path = this.directory.resolve("cluster-failover-samples.csv");
		if (Files.exists(path)) {
			List<String> lines = Files.readAllLines(path);
			if (!lines.isEmpty()) {
				List<String> header = cells(lines.get(0));
				for (String line : lines.subList(1, lines.size())) {
					List<String> cells = cells(line);
					String key = cells.get(header.indexOf("n_per_service")) + "|" + cells.get(header.indexOf("repetition"));
					samples.computeIfAbsent(key, (k) -> new LinkedHashMap<>())
						.computeIfAbsent(cells.get(header.indexOf("service")), (k) -> new ArrayList<>())
						.add(Double.parseDouble(cells.get(header.indexOf("latency_s"))));
				}
			}
		}
		List<ClusterBenchmark.FailoverRun> failover = new ArrayList<>();
		for (JsonNode row : section.path("failover")) {
			String key = row.path("n_per_service").asInt() + "|" + row.path("repetition").asInt();
			failover.add(new ClusterBenchmark.FailoverRun(row.path("n_per_service").asInt(), row.path("services").asInt(),
					seconds(row, "hb_s"), row.path("repetition").asInt(), samples.getOrDefault(key, Map.of()),
					row.path("missing_at_timeout").asInt(), row.path("sweep_found").asLong(), row.path("keyspace_events").asLong(),
					text(row, "error")));
		}
		return new ClusterBenchmark.Results(nodes, serviceNodes, text(section, "redis_version"), renewal, failover);
	}

	private static List<Map<String, Object>> mergedRuns(JsonNode json) {
		List<Map<String, Object>> runs = new ArrayList<>();
		for (JsonNode merged : json.path("merged_runs")) {
			Map<String, Object> run = new LinkedHashMap<>();
			run.put("command", text(merged, "command"));
			run.put("commit", text(merged, "commit"));
			run.put("started_at", text(merged, "started_at"));
			run.put("seconds", number(merged, "seconds"));
			List<String> scenarios = new ArrayList<>();
			merged.path("scenarios").forEach((s) -> scenarios.add(s.asString()));
			run.put("scenarios", scenarios);
			Map<String, Double> load = new LinkedHashMap<>();
			merged.path("load_averages").properties().forEach((entry) -> load.put(entry.getKey(), entry.getValue().asDouble()));
			run.put("load_averages", load);
			run.put("redis", strings(merged.path("redis")));
			Map<String, String> options = new LinkedHashMap<>();
			merged.path("options").properties().forEach((entry) -> options.put(entry.getKey(),
					entry.getValue().isString() ? entry.getValue().asString() : entry.getValue().toString()));
			run.put("options", options);
			runs.add(run);
		}
		return runs;
	}

	/** Samples from a CSV file, grouped by the values of the key columns joined with '|'. */
	private Map<String, List<Double>> samples(String file, List<String> keyColumns, String valueColumn) throws IOException {
		Map<String, List<Double>> samples = new HashMap<>();
		Path path = this.directory.resolve(file);
		if (!Files.exists(path)) {
			return samples;
		}
		List<String> lines = Files.readAllLines(path);
		if (lines.isEmpty()) {
			return samples;
		}
		List<String> header = cells(lines.get(0));
		int value = header.indexOf(valueColumn);
		int[] keys = keyColumns.stream().mapToInt(header::indexOf).toArray();
		for (String line : lines.subList(1, lines.size())) {
			List<String> cells = cells(line);
			StringBuilder key = new StringBuilder();
			for (int k : keys) {
				key.append((key.length() > 0) ? "|" : "").append(cells.get(k));
			}
			samples.computeIfAbsent(key.toString(), (ignored) -> new ArrayList<>()).add(Double.parseDouble(cells.get(value)));
		}
		return samples;
	}

	/** The cells of one CSV line as {@link ResultsWriter} writes them (quotes around cells with commas or quotes). */
	static List<String> cells(String line) {
		List<String> cells = new ArrayList<>();
		StringBuilder cell = new StringBuilder();
		boolean quoted = false;
		for (int i = 0; i < line.length(); i++) {
			char c = line.charAt(i);
			if (quoted) {
				if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
					cell.append('"');
					i++;
				}
				else if (c == '"') {
					quoted = false;
				}
				else {
					cell.append(c);
				}
			}
			else if (c == '"') {
				quoted = true;
			}
			else if (c == ',') {
				cells.add(cell.toString());
				cell.setLength(0);
			}
			else {
				cell.append(c);
			}
		}
		cells.add(cell.toString());
		return cells;
	}

	private static Map<String, String> strings(JsonNode object) {
		Map<String, String> map = new LinkedHashMap<>();
		object.properties().forEach((entry) -> map.put(entry.getKey(), entry.getValue().asString()));
		return map;
	}

	private static double number(JsonNode row, String field) {
		JsonNode node = row.path(field);
		return (node.isNull() || node.isMissingNode()) ? Double.NaN : node.asDouble();
	}

	private static String text(JsonNode row, String field) {
		JsonNode node = row.path(field);
		return (node.isNull() || node.isMissingNode()) ? null : node.asString();
	}

	private static Duration seconds(JsonNode row, String field) {
		return Duration.ofMillis(Math.round(row.path(field).asDouble() * 1000));
	}

}
