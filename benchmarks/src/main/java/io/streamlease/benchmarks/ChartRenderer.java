package io.streamlease.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws the report's charts as PNG files with JFreeChart, from the run's measurements.
 */
final class ChartRenderer {

	private static final Map<String, Color> APPROACH_COLORS = Map.of(Approach.ENGINE, new Color(0x1f77b4),
			Approach.GO_MODEL, new Color(0xd62728), Approach.REDISSON, new Color(0x2ca02c));

	private static final Color[] PALETTE = { new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
			new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f) };

	private static final java.awt.Shape[] SHAPES = { new java.awt.geom.Rectangle2D.Double(-4, -4, 8, 8),
			new java.awt.geom.Ellipse2D.Double(-4, -4, 8, 8), new java.awt.Polygon(new int[] { 0, 5, -5 }, new int[] { -5, 4, 4 }, 3) };

	private final Path directory;

	ChartRenderer(Path directory) {
		this.directory = directory;
	}

	/** Renders every chart the run has data for; returns the file names by chart, for the report. */
	Map<String, String> render(BenchmarkRun run) {
		Map<String, String> files = new LinkedHashMap<>();
		try {
			Files.createDirectories(this.directory);
			if (run.renewal() != null) {
				for (Duration hb : run.options().renewalHbIntervals) {
					String name = "renewal-cost-hb" + hb.toSeconds() + "s.png";
					save(renewal(run.renewal().cases(), hb), name, 900, 1000);
					files.put("renewal " + hb.toSeconds(), name);
				}
			}
			if (run.failover() != null && run.failover().stream().anyMatch((c) -> !c.pooled().isEmpty())) {
				save(failover(run.failover(), run.options().failoverHb), "failover-latency.png", 1000, 650);
				files.put("failover", "failover-latency.png");
			}
			if (run.handoff() != null && run.handoff().stream().anyMatch((c) -> !c.pooled().isEmpty())) {
				save(handoff(run.handoff()), "handoff-latency.png", 900, 550);
				files.put("handoff", "handoff-latency.png");
			}
			if (run.entryLevel() != null && run.entryLevel().stream().anyMatch((r) -> r.error() == null)) {
				save(entryLevel(run.entryLevel()), "entry-level-throughput.png", 900, 500);
				files.put("entry", "entry-level-throughput.png");
			}
			if (run.dispatch() != null && !run.dispatch().rates().isEmpty()) {
				save(dispatch(run.dispatch().rates()), "dispatch-latency.png", 900, 550);
				files.put("dispatch", "dispatch-latency.png");
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not write the charts to " + this.directory, ex);
		}
		return files;
	}

	private JFreeChart renewal(List<RenewalBenchmark.Case> cases, Duration hb) {
		ValueAxis domain = logAxis("held streams N (log scale)");
		int smallest = cases.stream().mapToInt(RenewalBenchmark.Case::n).min().orElse(1);
		int largest = cases.stream().mapToInt(RenewalBenchmark.Case::n).max().orElse(10);
		domain.setRange(smallest / 1.5, largest * 1.5);
		CombinedDomainXYPlot plot = new CombinedDomainXYPlot(domain);
		plot.setGap(12);
		XYPlot first = renewalPlot(cases, hb, "Redis CPU, % of one core", false,
				(c) -> c.spread(RenewalBenchmark.Window::redisCpuPercent).median());
		plot.add(first, 1);
		plot.add(renewalPlot(cases, hb, "renewal requests / s (log)", true,
				(c) -> c.spread(RenewalBenchmark.Window::renewalCallsPerSecond).median()), 1);
		plot.add(renewalPlot(cases, hb, "Redis commands / s incl. in scripts (log)", true,
				(c) -> c.spread(RenewalBenchmark.Window::redisCommandsPerSecond).median()), 1);
		plot.add(renewalPlot(cases, hb, "JVM heap per held stream, bytes", false, RenewalBenchmark.Case::heapBytesPerStream), 1);
		// one legend entry per approach (every subplot has the same three series)
		plot.setFixedLegendItems(first.getLegendItems());
		JFreeChart chart = new JFreeChart("Renewal cost against N, hb-interval " + BenchmarkOptions.format(hb),
				new Font("SansSerif", Font.BOLD, 16), plot, true);
		List<String> overloaded = cases.stream().filter((c) -> c.hb().equals(hb) && c.lost() > 0)
			.map((c) -> c.approach() + " at N=" + c.n() + " lost " + c.lost())
			.toList();
		if (!overloaded.isEmpty()) {
			chart.addSubtitle(new TextTitle("Leases lost (overloaded, see the report's table): " + String.join("; ", overloaded),
					new Font("SansSerif", Font.PLAIN, 11)));
		}
		return style(chart);
	}

	private XYPlot renewalPlot(List<RenewalBenchmark.Case> cases, Duration hb, String label, boolean log,
			ToDoubleFunction<RenewalBenchmark.Case> metric) {
		XYSeriesCollection dataset = new XYSeriesCollection();
		XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
		int index = 0;
		for (String approach : List.of(Approach.ENGINE, Approach.GO_MODEL, Approach.REDISSON)) {
			XYSeries series = new XYSeries(approach);
			for (RenewalBenchmark.Case c : cases) {
				if (c.approach().equals(approach) && c.hb().equals(hb) && c.error() == null) {
					double value = metric.applyAsDouble(c);
					if (!Double.isNaN(value) && (!log || value > 0)) {
						series.add(c.n(), value);
					}
				}
			}
			dataset.addSeries(series);
			renderer.setSeriesPaint(index, APPROACH_COLORS.get(approach));
			renderer.setSeriesStroke(index, new BasicStroke(2f));
			renderer.setSeriesShape(index, SHAPES[index]);
			index++;
		}
		ValueAxis axis = log ? logAxis(label) : new NumberAxis(label);
		if (axis instanceof NumberAxis number) {
			number.setAutoRangeIncludesZero(true);
		}
		XYPlot plot = new XYPlot(dataset, null, axis, renderer);
		grid(plot);
		return plot;
	}

	private JFreeChart failover(List<FailoverBenchmark.Case> cases, Duration hb) {
		Map<String, Integer> conditions = new LinkedHashMap<>();
		XYSeriesCollection dataset = new XYSeriesCollection();
		XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
		int index = 0;
		for (FailoverBenchmark.Case c : cases) {
			List<Double> latencies = new ArrayList<>(c.pooled());
			if (latencies.isEmpty()) {
				continue;
			}
			Collections.sort(latencies);
			String name = "N=" + c.n() + ", " + ((c.noiseKeys() > 0) ? c.noiseKeys() + " TTL keys" : "no TTL keys") + ", "
					+ (c.detection().equals(Approach.EVENTS_ONLY) ? "events only" : "Stream Lease");
			XYSeries series = new XYSeries(name, false, true);
			double total = c.expected();
			for (int i = 0; i < latencies.size(); i++) {
				series.add(Math.max(latencies.get(i), 1e-3), (i + 1) / total * 100);
			}
			dataset.addSeries(series);
			// one colour per condition (N, TTL keys): solid for ours, dashed for events only
			String condition = c.n() + "|" + c.noiseKeys();
			int colour = conditions.computeIfAbsent(condition, (key) -> conditions.size());
			renderer.setSeriesPaint(index, PALETTE[colour % PALETTE.length]);
			boolean eventsOnly = c.detection().equals(Approach.EVENTS_ONLY);
			renderer.setSeriesStroke(index, eventsOnly ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
					new float[] { 6f, 4f }, 0f) : new BasicStroke(2.5f));
			index++;
		}
		NumberAxis percent = new NumberAxis("% of the owner's streams taken over by the peer");
		percent.setRange(0, 100.5);
		XYPlot plot = new XYPlot(dataset, logAxis("seconds from SIGKILL of the owner to ADDED on the peer (log scale)"), percent,
				renderer);
		double target = hb.toMillis() * 1.25 / 1000 + 0.3;
		plot.addDomainMarker(marker(target, "target " + new DecimalFormat("0.##").format(target) + " s", true));
		grid(plot);
		return style(new JFreeChart("Failover latency (cumulative), hb-interval " + BenchmarkOptions.format(hb),
				new Font("SansSerif", Font.BOLD, 16), plot, true));
	}

	private JFreeChart handoff(List<HandoffBenchmark.Case> cases) {
		XYSeriesCollection dataset = new XYSeriesCollection();
		XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
		int index = 0;
		for (HandoffBenchmark.Case c : cases) {
			List<Double> latencies = new ArrayList<>(c.pooled());
			if (latencies.isEmpty()) {
				continue;
			}
			Collections.sort(latencies);
			XYSeries series = new XYSeries("N=" + c.n() + ", " + c.mode(), false, true);
			double total = c.n() * c.runs().size();
			for (int i = 0; i < latencies.size(); i++) {
				series.add(Math.max(latencies.get(i) * 1000, 0.1), (i + 1) / total * 100);
			}
			dataset.addSeries(series);
			renderer.setSeriesPaint(index, PALETTE[(index / 2) % PALETTE.length]);
			renderer.setSeriesStroke(index, c.mode().equals(HandoffBenchmark.CLOSE) ? new BasicStroke(2.5f)
					: new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] { 6f, 4f }, 0f));
			index++;
		}
		NumberAxis percent = new NumberAxis("% of the streams taken over");
		percent.setRange(0, 100.5);
		XYPlot plot = new XYPlot(dataset, logAxis("ms from owner close() to ADDED on the peer (log scale)"), percent, renderer);
		plot.addDomainMarker(marker(100, "target 100 ms", true));
		grid(plot);
		return style(new JFreeChart("Graceful handoff latency (cumulative)", new Font("SansSerif", Font.BOLD, 16), plot, true));
	}

	private JFreeChart dispatch(List<DispatchBenchmark.RateRun> runs) {
		TreeMap<Integer, List<DispatchBenchmark.RateRun>> byRate = new TreeMap<>();
		for (DispatchBenchmark.RateRun run : runs) {
			if (run.error() == null && run.latencyMillis().count() > 0) {
				byRate.computeIfAbsent(run.rate(), (r) -> new ArrayList<>()).add(run);
			}
		}
		XYSeriesCollection dataset = new XYSeriesCollection();
		XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
		String[] names = { "p50", "p99", "max" };
		List<ToDoubleFunction<Summary>> metrics = List.of(Summary::p50, Summary::p99, Summary::max);
		for (int i = 0; i < names.length; i++) {
			XYSeries series = new XYSeries(names[i] + " (median of repetitions)");
			ToDoubleFunction<Summary> metric = metrics.get(i);
			byRate.forEach((rate, list) -> series.add(rate.doubleValue(),
					Math.max(0.01, Spread.of(list.stream().map((r) -> metric.applyAsDouble(r.latencyMillis())).toList()).median())));
			dataset.addSeries(series);
			renderer.setSeriesPaint(i, PALETTE[i]);
			renderer.setSeriesStroke(i, new BasicStroke(2f));
		}
		ValueAxis rates = logAxis("LBS submissions per second (log scale)");
		if (!byRate.isEmpty()) {
			rates.setRange(byRate.firstKey() / 1.5, byRate.lastKey() * 1.5);
		}
		XYPlot plot = new XYPlot(dataset, rates, logAxis("ms from XADD to the handler taking ADDED (log scale)"), renderer);
		plot.addRangeMarker(marker(10, "target: p99 10 ms at 1,000/s", false));
		grid(plot);
		return style(new JFreeChart("Dispatch latency against submission rate", new Font("SansSerif", Font.BOLD, 16), plot,
				true));
	}

	private JFreeChart entryLevel(List<EntryLevelBenchmark.Run> runs) {
		DefaultCategoryDataset dataset = new DefaultCategoryDataset();
		int streams = runs.get(0).streams();
		int perStream = runs.get(0).perStream();
		for (int every : runs.stream().map(EntryLevelBenchmark.Run::checkpointEvery).distinct().toList()) {
			List<EntryLevelBenchmark.Run> these = runs.stream().filter((r) -> r.checkpointEvery() == every && r.error() == null).toList();
			String category = "checkpoint-every " + every;
			dataset.addValue(Spread.of(these.stream().map(EntryLevelBenchmark.Run::entriesPerSecond).toList()).median(), "entries / s",
					category);
			dataset.addValue(Spread.of(these.stream().map(EntryLevelBenchmark.Run::checkpointsPerSecond).toList()).median(),
					"checkpoint writes / s", category);
		}
		CategoryAxis domain = new CategoryAxis("");
		NumberAxis range = new NumberAxis("per second (median of repetitions)");
		range.setNumberFormatOverride(new DecimalFormat("#,##0"));
		BarRenderer renderer = new BarRenderer();
		renderer.setBarPainter(new StandardBarPainter());
		renderer.setShadowVisible(false);
		renderer.setMaximumBarWidth(0.2);
		renderer.setSeriesPaint(0, PALETTE[0]);
		renderer.setSeriesPaint(1, PALETTE[3]);
		renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0")));
		renderer.setDefaultItemLabelsVisible(true);
		CategoryPlot plot = new CategoryPlot(dataset, domain, range, renderer);
		plot.setBackgroundPaint(Color.WHITE);
		plot.setRangeGridlinePaint(new Color(0xdddddd));
		return style(new JFreeChart("Entry-level throughput, " + String.format(java.util.Locale.ROOT, "%,d", streams) + " streams x "
				+ perStream + " entries", new Font("SansSerif", Font.BOLD, 16), plot, true));
	}

	private static ValueAxis logAxis(String label) {
		LogarithmicAxis axis = new LogarithmicAxis(label);
		axis.setStrictValuesFlag(false);
		axis.setAutoRangeNextLogFlag(true);
		axis.setNumberFormatOverride(new DecimalFormat("#,##0.###"));
		return axis;
	}

	/** A dashed marker with a label; {@code vertical} for a domain marker, else a horizontal range marker. */
	private static ValueMarker marker(double value, String label, boolean vertical) {
		ValueMarker marker = new ValueMarker(value, Color.DARK_GRAY, new BasicStroke(1.5f, BasicStroke.CAP_BUTT,
				BasicStroke.JOIN_MITER, 10f, new float[] { 3f, 3f }, 0f));
		marker.setLabel(label);
		marker.setLabelFont(new Font("SansSerif", Font.PLAIN, 12));
		if (vertical) {
			marker.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
			marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
		}
		else {
			marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
			marker.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
		}
		return marker;
	}

	private static void grid(XYPlot plot) {
		plot.setBackgroundPaint(Color.WHITE);
		plot.setDomainGridlinePaint(new Color(0xdddddd));
		plot.setRangeGridlinePaint(new Color(0xdddddd));
	}

	private static JFreeChart style(JFreeChart chart) {
		chart.setBackgroundPaint(Color.WHITE);
		return chart;
	}

	private void save(JFreeChart chart, String name, int width, int height) throws IOException {
		ChartUtils.saveChartAsPNG(this.directory.resolve(name).toFile(), chart, width, height);
	}

}
