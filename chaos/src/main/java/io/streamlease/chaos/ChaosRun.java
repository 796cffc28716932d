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

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One chaos run: a Redis started for it (a standalone server with the append-only file on, or a Sentinel group;
 * keyspace notifications off in the server's configuration), a fleet of sample-app processes started at the same
 * moment, a feeder that submits sessions, and rounds of faults. Each round labels the sessions submitted during it
 * with its scenario, injects its faults (at once, when it has several) at a given offset, and optionally waits until
 * every session is finished before the next round. {@link #finish()} stops the feeder, waits until everything is
 * finished, checks every instance's health and verifies the run; {@link #close()} kills every process.
 */
final class ChaosRun implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(ChaosRun.class);

	private final String name;

	private final ChaosSettings settings;

	private final Path dir;

	private final RedisTopology redis;

	private final WipeArchive archive = new WipeArchive();

	private final RespClient control;

	private final RespClient feederClient;

	private final SampleFleet fleet;

	private final SessionFeeder feeder;

	private final FaultInjector injector;

	private final Set<String> rounds = new LinkedHashSet<>();

	private final List<InjectedFault> faults = new CopyOnWriteArrayList<>();

	private final List<String> drainFailures = new ArrayList<>();

	private final List<String> harnessErrors = new CopyOnWriteArrayList<>();

	private final List<String> extraNotes = new CopyOnWriteArrayList<>();

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
		warnIfStale(settings.sampleJar());
		try {
			Files.createDirectories(this.dir);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		// keyspace events start off: instances with keyspace-notifications=auto turn them on, those with off never do
		this.redis = (settings.topology() == ChaosSettings.Topology.SENTINEL) ? new SentinelTopology()
				: new StandaloneTopology();
		try {
			this.control = new RespClient(this.redis.master(), this.redis.followsMaster(), Duration.ofSeconds(2));
			// WAIT 1 1000 must fit in the read timeout
			this.feederClient = new RespClient(this.redis.master(), this.redis.followsMaster(), Duration.ofSeconds(2));
			this.fleet = new SampleFleet(settings, this.redis.connectionArguments(), this.dir);
			this.feeder = new SessionFeeder(this.feederClient, settings, this.redis.replicated());
			this.injector = new FaultInjector(settings, this.redis, this.control, this.fleet, this.feeder, this.archive,
					new Random(settings.seed() + 1));
		}
		catch (RuntimeException ex) {
			this.redis.close();
			throw ex;
		}
		logger.info("Chaos run '{}': {}, logs in {}", name, this.redis.describe(), this.dir);
	}

	/**
	 * Warns when the sample jar is older than the engine's jar next to it in the source tree: {@code install
	 * -DskipTests} does not repackage the sample when only the engine changed, so it would run the old engine.
	 */
	private static void warnIfStale(Path sampleJar) {
		Path root = sampleJar.toAbsolutePath().getParent().getParent().getParent();
		Path engineTarget = root.resolve("autoconfigure/target");
		if (!Files.isDirectory(engineTarget)) {
			return;
		}
		try (var jars = Files.list(engineTarget)) {
			long sample = Files.getLastModifiedTime(sampleJar).toMillis();
			for (Path jar : jars.filter((path) -> path.getFileName().toString().endsWith(".jar")).toList()) {
				if (Files.getLastModifiedTime(jar).toMillis() > sample) {
					logger.warn("The sample jar {} is older than {}: it may run an older engine. Delete it and build "
							+ "again (./mvnw -B install -DskipTests does not repackage an unchanged sample)", sampleJar, jar);
				}
			}
		}
		catch (IOException ex) {
			// only a warning
		}
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
			this.archive.drained(scenario);
		}
		return injected;
	}

	/**
	 * Starts a round of open sessions: {@code count} sessions announced with {@code events} events each and no end
	 * marker, held until {@link #closeOpenSessions(int)}; the feeder does not feed meanwhile.
	 */
	void openSessions(String scenario, int count, int events) {
		this.rounds.add(scenario);
		this.feeder.pause();
		this.feeder.round(scenario);
		this.feeder.openSessions(count, events);
		logger.info("Round '{}': {} open sessions of {} events announced", scenario, count, events);
	}

	/**
	 * Gives every open session {@code more} events and its end marker, {@code perWave} sessions every {@code wave},
	 * and waits until all are finished.
	 */
	void closeOpenSessions(String scenario, int more, int perWave, Duration wave) {
		this.feeder.closeOpenSessions(more, perWave, wave);
		awaitFinished(scenario);
	}

	/** Launches more instances (the next consumer ids) at once; returns without waiting for them. */
	List<SampleInstance> scaleOut(int more) {
		List<SampleInstance> started = new ArrayList<>();
		int next = this.fleet.current().size() + 1;
		for (int i = 0; i < more; i++) {
			started.add(this.fleet.launch("chaos-" + (next + i)));
		}
		return started;
	}

	/** Waits until every instance serves. */
	void awaitServing() {
		this.fleet.awaitServing();
	}

	/**
	 * How many streams the instances asked to move by rebalancing, from their logs (one INFO line per round:
	 * {@code Rebalance: ... moving <n> to {...}}).
	 */
	int rebalanceMoves() {
		java.util.regex.Pattern moving = java.util.regex.Pattern.compile("Rebalance: .* moving (\\d+) to ");
		int moves = 0;
		for (SampleInstance instance : this.fleet.all()) {
			for (String line : instance.lines()) {
				java.util.regex.Matcher matcher = moving.matcher(line);
				if (matcher.find()) {
					moves += Integer.parseInt(matcher.group(1));
				}
			}
		}
		return moves;
	}

	/** Adds a line to the notes of the report. */
	void note(String note) {
		this.extraNotes.add(note);
	}

	/** The live consumers (deadline in the future), from the registry. */
	Set<String> liveConsumers() {
		List<?> time = (List<?>) this.control.call("TIME");
		long now = Long.parseLong(String.valueOf(time.get(0))) * 1000 + Long.parseLong(String.valueOf(time.get(1))) / 1000;
		Set<String> live = new LinkedHashSet<>();
		for (Object member : (List<?>) this.control.call("ZRANGEBYSCORE", "{" + ChaosSettings.LBS + "}:consumers",
				Long.toString(now), "+inf")) {
			live.add(String.valueOf(member));
		}
		return live;
	}

	/**
	 * How many streams each consumer owns now, from the ownership records (a record names a session; the session
	 * names its consumer); records of ended sessions count under "".
	 */
	java.util.Map<String, Integer> ownedByConsumer() {
		java.util.Map<String, String> consumerOfSession = this.control.hash(ChaosSettings.SESSION_CONSUMERS);
		java.util.Map<String, Integer> owned = new java.util.TreeMap<>();
		for (String record : this.control.hash(ChaosSettings.OWNERS).values()) {
			String[] parts = record.split(":", 3);
			String consumer = (parts.length == 3) ? consumerOfSession.getOrDefault(parts[1], "") : "";
			owned.merge(consumer, 1, Integer::sum);
		}
		return owned;
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
		List<String> healthFailures = new ArrayList<>();
		String health = checkHealth(healthFailures);
		RunReport report = new ChaosVerifier(this.settings, this.control, this.archive).verify(this.name,
				System.currentTimeMillis() - this.startedMillis, new ArrayList<>(this.rounds), this.feeder.sessions(),
				new ArrayList<>(this.faults), this.fleet.all());
		report.redis = this.redis.describe();
		report.violations.addAll(0, this.drainFailures);
		report.violations.addAll(healthFailures);
		report.notes.add(health);
		report.violations.addAll(this.harnessErrors);
		if (this.feeder.failure() != null) {
			report.violations.add("harness: the feeder stopped by itself: " + this.feeder.failure());
		}
		report.violations.addAll(this.fleet.unexpectedExits());
		for (String failed : this.fleet.failedToStart()) {
			report.notes.add("an instance failed to start as the run ended: " + failed);
		}
		for (String failed : this.fleet.failedStarts()) {
			report.violations.add("an instance failed to start (it was launched again): " + failed);
		}
		if (this.redis.replicated()) {
			report.notes.add("the feeder counted a session as submitted only once a replica had it (WAIT); the longest "
					+ "wait was " + this.feeder.longestReplicaWaitMillis() + " ms (after a failover the new master has no "
					+ "replica until the Sentinels demote the restarted old one)");
		}
		if (this.feeder.rewrites() > 0) {
			report.notes.add(this.feeder.rewrites() + " sessions were written again because the master failed before a "
					+ "replica confirmed them (WAIT)");
		}
		if (this.feeder.announcementRetries() > 0) {
			report.notes.add(this.feeder.announcementRetries() + " announcements were retried after a Redis fault "
					+ "(a retried one may be a duplicate; the duplicate rule covers it)");
		}
		report.notes.addAll(this.extraNotes);
		report.notes.add("instance logs: " + this.dir.toAbsolutePath());
		return report;
	}

	/**
	 * Waits until every submitted session has a summary (except those a wipe deleted) and the LBS is empty with
	 * nothing pending.
	 */
	private void awaitFinished(String when) {
		Set<String> open = new LinkedHashSet<>();
		for (SessionFeeder.Session session : this.feeder.sessions()) {
			// a wipe deleted the summaries of earlier sessions (archived) and the data of unfinished ones (wiped)
			if (this.archive.summary(session.stream()) == null && !this.archive.isWiped(session.stream())) {
				open.add(session.stream());
			}
		}
		// after one drain failed the run has failed: later drains wait briefly, to keep the run's time bounded
		Duration timeout = this.drainFailures.isEmpty() ? this.settings.drainTimeout() : Duration.ofSeconds(15);
		long deadline = System.nanoTime() + timeout.toNanos();
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
				pending = ChaosVerifier.pending(this.control, lbs);
				if (open.isEmpty() && lbs == 0 && pending == 0) {
					logger.info("All {} sessions finished ({})", this.feeder.sessions().size(), when);
					return;
				}
			}
			catch (RuntimeException ex) {
				logger.info("Checking for finished sessions failed ({}); trying again", ex.getMessage());
			}
			if (System.nanoTime() - deadline > 0) {
				String failure = "not finished within " + timeout.toSeconds() + " s (" + when + "): "
						+ open.size() + " sessions without a summary " + Collections.unmodifiableSet(open).stream().limit(10).toList()
						+ ", " + lbs + " LBS entries, " + pending + " pending";
				logger.warn(failure);
				this.drainFailures.add(failure);
				return;
			}
			SampleInstance.sleep(250);
		}
	}

	/**
	 * Asks every current instance for its health until the {@code streamLease} component is UP (at most 30 s):
	 * after the drain, every engine must be UP, whatever happened to Redis.
	 * @return a note on how long it took
	 */
	private String checkHealth(List<String> failures) {
		long start = System.currentTimeMillis();
		long deadline = start + 30_000;
		List<String> up = new ArrayList<>();
		for (SampleInstance instance : this.fleet.current()) {
			HealthProbe.Health health = HealthProbe.check(instance);
			while (!health.up() && System.currentTimeMillis() < deadline) {
				SampleInstance.sleep(250);
				health = HealthProbe.check(instance);
			}
			if (health.up()) {
				up.add(instance.consumerId());
			}
			else {
				failures.add("health of " + instance + " is not UP at the end of the run: streamLease " + health);
			}
		}
		return "health at the end: streamLease UP on " + up.size() + " of " + this.fleet.current().size() + " instances "
				+ up + " (GET /actuator/health, " + (System.currentTimeMillis() - start) + " ms after the drain)";
	}

	private static void sleepUntil(long startNanos, Duration offset) {
		long remaining = startNanos + offset.toNanos() - System.nanoTime();
		if (remaining > 0) {
			SampleInstance.sleep(remaining / 1_000_000);
		}
	}

	/**
	 * Copies the log of every Redis server of the run (data nodes and Sentinels) next to the instances' logs, as
	 * {@code redis-<role>-<port>.log}: closing the topology deletes the servers' directories, and a failover is
	 * explained by what the Sentinels logged (+sdown, +switch-master, +convert-to-slave...).
	 */
	private void keepRedisLogs() {
		this.redis.servers().forEach((name, server) -> {
			try {
				Files.writeString(this.dir.resolve("redis-" + name + ".log"), server.log() + "\n");
			}
			catch (IOException | RuntimeException ex) {
				logger.warn("Could not keep the log of Redis {}: {}", name, ex.toString());
			}
		});
	}

	@Override
	public void close() {
		for (InjectedFault fault : this.faults) {
			if (fault.health() != null) {
				fault.health().close();
			}
		}
		this.feeder.close();
		this.fleet.close();
		this.control.close();
		this.feederClient.close();
		keepRedisLogs();
		this.redis.close();
		logger.info("Chaos run '{}' closed", this.name);
	}

}
