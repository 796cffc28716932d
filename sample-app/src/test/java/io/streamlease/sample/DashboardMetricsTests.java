package io.streamlease.sample;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Keeps the Grafana dashboard ({@code docs/grafana/stream-lease.json}) and the Prometheus alert rules
 * ({@code docs/prometheus/stream-lease-alerts.yml}) true: the sample runs on a real Redis, gets a session and a
 * malformed LBS entry (a dead letter), and its {@code /actuator/prometheus} must export every metric that a panel
 * or a rule names; every Stream Lease metric it exports must be on a panel.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "stream-lease.consumer-id=sample-dashboard", "sample.processing-delay=1ms",
				"stream-lease.observation.enabled=true" })
@DirtiesContext
class DashboardMetricsTests {

	static final Path DOCS = Path.of(System.getProperty("basedir", "."), "..", "docs").normalize();

	static final Path DASHBOARD = DOCS.resolve("grafana/stream-lease.json");

	static final Path ALERTS = DOCS.resolve("prometheus/stream-lease-alerts.yml");

	/** PromQL words that look like metric names: keywords, aggregation modifiers and function names. */
	private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left",
			"group_right", "and", "or", "unless", "bool", "offset", "inf", "nan");

	private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'");

	private static final Pattern LABEL_MATCHERS = Pattern.compile("\\{[^}]*}");

	private static final Pattern LABEL_LISTS = Pattern
		.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");

	private static final Pattern RANGES = Pattern.compile("\\[[^]]*]");

	private static final Pattern VARIABLES = Pattern.compile("\\$\\{?\\w+}?");

	private static final Pattern NAME = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");

	// not closed by the test: @DirtiesContext closes the application after the class, and the application must
	// stop (hand off) while its Redis is up; test-support kills the server when the JVM exits
	static final RedisServer redis = RedisServers.start();

	@DynamicPropertySource
	static void redisProperties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", redis::host);
		registry.add("spring.data.redis.port", redis::port);
	}

	@Autowired
	private StreamLeaseTemplate template;

	@LocalServerPort
	private int port;

	@Test
	void everyMetricOfTheDashboardAndTheAlertRulesIsExportedAndEveryExportedMeterIsOnAPanel() throws Exception {
		String stream = "session:dashboard-1";
		redis.command("XADD", stream, "*", "type", "event", "amount", "5");
		redis.command("XADD", stream, "*", "type", "end");
		this.template.submit(stream, Map.of());
		redis.command("XADD", "sessions-input", "*", "lbs-input", "{not json");
		await().atMost(Duration.ofSeconds(30))
			.until(() -> redis.command("EXISTS", SessionSummaryWriter.key(stream)).equals(1L)
					&& sample(scrape(), "stream_lease_dead_letters_total", "reason=\"invalid-json\"") == 1);

		String exposition = scrape();
		Set<String> exported = exportedNames(exposition);
		assertThat(sample(exposition, "stream_lease_events_total", "type=\"added\"")).isEqualTo(1);
		assertThat(sample(exposition, "stream_lease_handler_duration_seconds_count", "outcome=\"success\""))
			.isPositive();

		Map<String, Set<String>> panels = panelMetrics();
		Map<String, Set<String>> rules = ruleMetrics();
		assertThat(panels).as("panels of %s", DASHBOARD).isNotEmpty();
		assertThat(rules).as("rules of %s", ALERTS).isNotEmpty();
		Map<String, Set<String>> missing = new TreeMap<>();
		panels.forEach((panel, names) -> notIn(exported, names).forEach(
				(name) -> missing.computeIfAbsent(name, (key) -> new TreeSet<>()).add("panel '" + panel + "'")));
		rules.forEach((rule, names) -> notIn(exported, names).forEach(
				(name) -> missing.computeIfAbsent(name, (key) -> new TreeSet<>()).add("alert '" + rule + "'")));
		assertThat(missing).as("metrics named in %s or %s that /actuator/prometheus does not export", DASHBOARD,
				ALERTS).isEmpty();

		Set<String> onPanels = new TreeSet<>();
		panels.values().forEach((names) -> names.forEach((name) -> onPanels.add(base(name))));
		Set<String> withoutPanel = new TreeSet<>();
		for (String name : exported) {
			if (name.startsWith("stream_lease_") && !onPanels.contains(base(name))) {
				withoutPanel.add(name);
			}
		}
		assertThat(withoutPanel).as("Stream Lease metrics exported but on no panel of %s", DASHBOARD).isEmpty();
	}

	@Test
	void findsTheMetricNamesOfAnExpression() {
		assertThat(metricNames("histogram_quantile(0.99, sum by (le, instance) "
				+ "(rate(stream_lease_renewal_duration_seconds_bucket{service=~\"$service\", result=\"success\"}"
				+ "[$__rate_interval])))"))
			.containsExactly("stream_lease_renewal_duration_seconds_bucket");
		assertThat(metricNames("max by (service) (stream_lease_lbs_pending) - on (service) "
				+ "sum by (service) (stream_lease_owned{instance=~\"$instance\"}) > 2 * 1e3"))
			.containsExactly("stream_lease_lbs_pending", "stream_lease_owned");
		assertThat(metricNames("min_over_time(stream_lease_redis_connections_pending{client=\"lease\"}[1m]) > 0 "
				+ "and on (instance) up == 1")).containsExactly("stream_lease_redis_connections_pending", "up");
	}

	/** Metric names used by each panel of the dashboard, by panel title. */
	static Map<String, Set<String>> panelMetrics() throws IOException {
		JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(DASHBOARD));
		Map<String, Set<String>> panels = new TreeMap<>();
		List<JsonNode> all = new ArrayList<>();
		collectPanels(dashboard.path("panels"), all);
		for (JsonNode panel : all) {
			if (panel.path("type").asString("").equals("row")) {
				continue;
			}
			Set<String> names = new TreeSet<>();
			for (JsonNode target : panel.path("targets")) {
				names.addAll(metricNames(target.path("expr").asString("")));
			}
			String title = panel.path("title").asString("");
			assertThat(names).as("metrics of panel '%s'", title).isNotEmpty();
			panels.put(title, names);
		}
		for (JsonNode variable : dashboard.path("templating").path("list")) {
			String query = variable.path("query").isObject() ? variable.path("query").path("query").asString("")
					: variable.path("query").asString("");
			Matcher values = Pattern.compile("label_values\\((\\w+)").matcher(query);
			if (values.find()) {
				panels.computeIfAbsent("variable " + variable.path("name").asString(""), (key) -> new TreeSet<>())
					.add(values.group(1));
			}
		}
		return panels;
	}

	private static void collectPanels(JsonNode panels, List<JsonNode> into) {
		for (JsonNode panel : panels) {
			into.add(panel);
			collectPanels(panel.path("panels"), into);
		}
	}

	/** Metric names used by each alert rule, by alert name. */
	@SuppressWarnings("unchecked")
	static Map<String, Set<String>> ruleMetrics() throws IOException {
		Map<String, Set<String>> rules = new TreeMap<>();
		try (InputStream in = Files.newInputStream(ALERTS)) {
			Map<String, Object> file = new Yaml().load(in);
			for (Map<String, Object> group : (List<Map<String, Object>>) file.get("groups")) {
				for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
					String name = String.valueOf(rule.get("alert"));
					assertThat(rule).as("alert '%s'", name).containsKeys("expr", "for", "labels", "annotations");
					assertThat((Map<String, Object>) rule.get("labels")).as("alert '%s'", name)
						.containsKey("severity");
					Set<String> names = metricNames(String.valueOf(rule.get("expr")));
					assertThat(names).as("metrics of alert '%s'", name).isNotEmpty();
					rules.put(name, names);
				}
			}
		}
		return rules;
	}

	/**
	 * The metric names of a PromQL expression, roughly: without strings, label matchers and lists, ranges,
	 * dashboard variables, numbers, keywords and function calls.
	 */
	static Set<String> metricNames(String expression) {
		String rest = STRING.matcher(expression).replaceAll(" ");
		rest = LABEL_MATCHERS.matcher(rest).replaceAll(" ");
		rest = LABEL_LISTS.matcher(rest).replaceAll(" ");
		rest = RANGES.matcher(rest).replaceAll(" ");
		rest = VARIABLES.matcher(rest).replaceAll(" ");
		Set<String> names = new TreeSet<>();
		Matcher matcher = NAME.matcher(rest);
		while (matcher.find()) {
			String name = matcher.group(1);
			boolean call = matcher.group(2) != null;
			boolean number = rest.substring(0, matcher.start()).matches("(?s).*\\d$");
			if (!call && !number && !PROMQL_WORDS.contains(name.toLowerCase())) {
				names.add(name);
			}
		}
		return names;
	}

	private static Set<String> notIn(Set<String> exported, Set<String> names) {
		Set<String> missing = new TreeSet<>(names);
		missing.removeAll(exported);
		return missing;
	}

	/** The metric of a sample name: without a timer's or histogram's _bucket, _count, _sum or _max. */
	private static String base(String name) {
		return name.replaceFirst("_(bucket|count|sum|max)$", "");
	}

	/** The names of every sample line of a Prometheus exposition. */
	static Set<String> exportedNames(String exposition) {
		Set<String> names = new TreeSet<>();
		for (String line : exposition.split("\n")) {
			if (!line.isBlank() && !line.startsWith("#")) {
				Matcher name = Pattern.compile("^[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(line);
				if (name.find()) {
					names.add(name.group());
				}
			}
		}
		return names;
	}

	/** The value of the first sample of a metric whose labels contain the given one, or NaN. */
	static double sample(String exposition, String name, String label) {
		for (String line : exposition.split("\n")) {
			if (line.startsWith(name + "{") && line.contains(label)) {
				return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
			}
		}
		return Double.NaN;
	}

	private String scrape() throws Exception {
		HttpResponse<String> response = HttpClient.newHttpClient()
			.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + "/actuator/prometheus"))
				.timeout(Duration.ofSeconds(10))
				.build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).as("GET /actuator/prometheus").isEqualTo(200);
		return response.body();
	}

}
