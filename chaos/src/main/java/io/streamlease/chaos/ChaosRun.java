package io.streamlease.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerSpec;
import io.streamlease.test.redis.RedisServers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: a Redis started for it (append-only file on, keyspace notifications off in the server's
 * configuration), a fleet of sample-app processes, a feeder that submits sessions, and rounds of faults. Each round
 * labels the sessions submitted during it with its scenario, injects its faults (at once, when it has several) at a
 * given offset, and optionally waits until every session is finished before the next round. {@link #finish()} stops
 * the feeder, waits until everything is finished and verifies the run; {@link #close()} kills every process.
 */
final class ChaosRun implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(ChaosRun.class);

	private final String name;

	private final ChaosSettings settings;

	private final Path dir;

	private final RedisServer server;

	private final RespClient control;

	private final RespClient feederClient;

	private final SampleFleet fleet;

	private final SessionFeeder feeder;

	private final FaultInjector injector;

	private final Set<String> rounds = new LinkedHashSet<>();

	private final List<InjectedFault> faults = new CopyOnWriteArrayList<>();

	private final List<String> drainFailures = new ArrayList<>();

	private final List<String> harnessErrors = new CopyOnWriteArrayList<>();

	private final long startedMillis = System.currentTimeMillis();

	private ChaosRun(String name, ChaosSettings settings) {
		this.name = name;
		this.settings = settings;
		this.dir = settings.workDir()
			.resolve(name.replaceAll("[^A-Za-z0-9._-]+", "-") + "-"
					+ LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
		if (!Files.isRegularFile(settings.sampleJar())) {
			throw new IllegalStateException("The sample application jar " + settings.sampleJar() + " does not exist; "
					+ "build it first: ./mvnw -B -pl sample-app -am package -DskipTests");
		}
		try {
			Files.createDirectories(this.dir);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		// keyspace events start off: instances with keyspace-notifications=auto turn them on, those with off never do
		this.server = RedisServers.start(RedisServerSpec.defaults().appendOnly(true).config("notify-keyspace-events", ""));
		this.control = new RespClient(this.server.host(), this.server.port(), Duration.ofSeconds(2));
		this.feederClient = new RespClient(this.server.host(), this.server.port(), Duration.ofSeconds(1));
		this.fleet = new SampleFleet(settings, this.server.port(), this.dir);
		this.feeder = new SessionFeeder(this.feederClient, settings);
		this.injector = new FaultInjector(settings, this.server, this.control, this.fleet, new Random(settings.seed() + 1));
		logger.info("Chaos run '{}': Redis {} on port {}, logs in {}", name, this.server.version(), this.server.port(),
				this.dir);
	}

	/**
	 * Starts Redis and the fleet; the run must be closed.
	 */
	static ChaosRun start(String name, ChaosSettings settings) {
		ChaosRun run = new ChaosRun(name, settings);
		try {
			run.fleet.start();
			run.feeder.start();
			return run;
		}
		catch (RuntimeException ex) {
			run.close();
			throw ex;
		}
	}

	Path dir() {
		return this.dir;
	}

	ChaosSettings settings() {
		return this.settings;
	}

	/**
	 * One round: submit sessions for {@code length}, inject the faults {@code faultAt} after the start (all at once),
	 * and with {@code drain} stop submitting at the end and wait until every session is finished.
	 * @return the faults as injected (an instance fault is skipped when fewer than two instances serve)
	 */
	List<InjectedFault> round(String scenario, List<FaultKind> kinds, Duration length, Duration faultAt, boolean drain) {
		if (feederFailed()) {
			logger.error("Round '{}' skipped: the feeder stopped by itself", scenario);
			return List.of();
		}
		this.rounds.add(scenario);
		this.fleet.awaitServing();
		logger.info("Round '{}': {} for {} s, faults {} at {} s", scenario,
				drain ? "sessions then drain" : "sessions", length.toSeconds(), kinds, faultAt.toMillis() / 1000.0);
		long start = System.nanoTime();
		this.feeder.round(scenario);
		this.feeder.feed();
		sleepUntil(start, faultAt);
		List<CompletableFuture<InjectedFault>> running = new ArrayList<>();
		Set<String> victims = new HashSet<>();
		for (FaultKind kind : kinds) {
			SampleInstance victim = null;
			if (kind.instanceFault()) {
				victim = this.injector.pickVictim();
				for (int attempt = 0; victim != null && victims.contains(victim.consumerId()) && attempt < 20; attempt++) {
					victim = this.injector.pickVictim();
				}
				if (victim == null || !victims.add(victim.consumerId())) {
					logger.warn("Round '{}': no instance to {} (fewer than two serve); skipped", scenario, kind.description());
					continue;
				}
			}
			SampleInstance target = victim;
			// a thread per fault: faults of one round run at the same time
			running.add(CompletableFuture.supplyAsync(() -> this.injector.inject(kind, scenario, target),
					(task) -> new Thread(task, "chaos-fault-" + kind.name().toLowerCase()).start()));
		}
		List<InjectedFault> injected = new ArrayList<>();
		for (CompletableFuture<InjectedFault> fault : running) {
			try {
				injected.add(fault.join());
			}
			catch (RuntimeException ex) {
				logger.error("Round '{}': a fault could not be injected", scenario, ex);
				this.harnessErrors.add("round '" + scenario + "': a fault could not be injected: " + ex);
			}
		}
		this.faults.addAll(injected);
		sleepUntil(start, length);
		if (drain) {
			this.feeder.pause();
			awaitFinished(scenario);
		}
		return injected;
	}

	/** Whether the feeder stopped by itself (the run can only be reported, with that violation). */
	boolean feederFailed() {
		return this.feeder.failure() != null;
	}

	/**
	 * Stops submitting, waits until every session is finished, and checks the whole run from Redis.
	 */
	RunReport finish() {
		this.feeder.pause();
		awaitFinished("end of run");
		RunReport report = new ChaosVerifier(this.settings, this.control).verify(this.name,
				System.currentTimeMillis() - this.startedMillis, new ArrayList<>(this.rounds), this.feeder.sessions(),
				new ArrayList<>(this.faults), this.fleet.all());
		report.violations.addAll(0, this.drainFailures);
		report.violations.addAll(this.harnessErrors);
		if (this.feeder.failure() != null) {
			report.violations.add("harness: the feeder stopped by itself: " + this.feeder.failure());
		}
		report.violations.addAll(this.fleet.unexpectedExits());
		for (String failed : this.fleet.failedToStart()) {
			report.notes.add("an instance failed to start as the run ended: " + failed);
		}
		for (String failed : this.fleet.failedStarts()) {
			report.notes.add("an instance failed to start and was launched again: " + failed);
		}
		if (this.feeder.announcementRetries() > 0) {
			report.notes.add(this.feeder.announcementRetries() + " announcements were retried after a Redis fault "
					+ "(a retried one may be a duplicate; the duplicate rule covers it)");
		}
		report.notes.add("instance logs: " + this.dir.toAbsolutePath());
		return report;
	}

	/**
	 * Waits until every submitted session has a summary and the LBS is empty with nothing pending.
	 */
	private void awaitFinished(String when) {
		Set<String> open = new LinkedHashSet<>();
		for (SessionFeeder.Session session : this.feeder.sessions()) {
			open.add(session.stream());
		}
		long deadline = System.nanoTime() + this.settings.drainTimeout().toNanos();
		long lbs = -1;
		long pending = -1;
		while (true) {
			try {
				if (!open.isEmpty()) {
					List<String> streams = new ArrayList<>(open);
					List<String[]> checks = new ArrayList<>();
					for (String stream : streams) {
						checks.add(new String[] { "EXISTS", ChaosSettings.summaryKey(stream) });
					}
					List<Object> replies = this.control.pipeline(checks);
					for (int i = 0; i < streams.size(); i++) {
						if (Long.valueOf(1).equals(replies.get(i))) {
							open.remove(streams.get(i));
						}
					}
				}
				lbs = (Long) this.control.call("XLEN", ChaosSettings.LBS);
				pending = (Long) ((List<?>) this.control.call("XPENDING", ChaosSettings.LBS, ChaosSettings.GROUP)).get(0);
				if (open.isEmpty() && lbs == 0 && pending == 0) {
					logger.info("All {} sessions finished ({})", this.feeder.sessions().size(), when);
					return;
				}
			}
			catch (RuntimeException ex) {
				logger.info("Checking for finished sessions failed ({}); trying again", ex.getMessage());
			}
			if (System.nanoTime() - deadline > 0) {
				String failure = "not finished within " + this.settings.drainTimeout().toSeconds() + " s (" + when + "): "
						+ open.size() + " sessions without a summary " + Collections.unmodifiableSet(open).stream().limit(10).toList()
						+ ", " + lbs + " LBS entries, " + pending + " pending";
				logger.warn(failure);
				this.drainFailures.add(failure);
				return;
			}
			SampleInstance.sleep(250);
		}
	}

	private static void sleepUntil(long startNanos, Duration offset) {
		long remaining = startNanos + offset.toNanos() - System.nanoTime();
		if (remaining > 0) {
			SampleInstance.sleep(remaining / 1_000_000);
		}
	}

	@Override
	public void close() {
		this.feeder.close();
		this.fleet.close();
		this.control.close();
		this.feederClient.close();
		this.server.close();
		logger.info("Chaos run '{}' closed", this.name);
	}

}
