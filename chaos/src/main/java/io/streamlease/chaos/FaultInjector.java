package io.streamlease.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import io.streamlease.test.redis.RedisServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects one fault and returns once it is over (the instance killed, stopped and continued, Redis back, the
 * failover done...), recording what was at stake: the leases found in Redis just before. For a Redis fault it also
 * watches the instances' health until each is UP again.
 */
final class FaultInjector {

	private static final Logger logger = LoggerFactory.getLogger(FaultInjector.class);

	/** The field that identifies each malformed entry, in the LBS and in its dead letter. */
	static final String MARKER = "chaos-marker";

	/** How long after a Redis fault the instances' health may take to be UP again before the run says so. */
	private static final long HEALTH_RECOVERY_MILLIS = 90_000;

	private final ChaosSettings settings;

	private final RedisTopology redis;

	private final RespClient control;

	private final SampleFleet fleet;

	private final SessionFeeder feeder;

	private final WipeArchive archive;

	private final Random random;

	private int malformedCount;

	FaultInjector(ChaosSettings settings, RedisTopology redis, RespClient control, SampleFleet fleet,
			SessionFeeder feeder, WipeArchive archive, Random random) {
		this.settings = settings;
		this.redis = redis;
		this.control = control;
		this.fleet = fleet;
		this.feeder = feeder;
		this.archive = archive;
		this.random = random;
	}

	/** Picks the victim of an instance fault now (null if fewer than two instances serve). */
	synchronized SampleInstance pickVictim() {
		return this.fleet.pickVictim(this.random);
	}

	/**
	 * Injects the fault; for an instance fault, {@code victim} must be a serving instance.
	 */
	InjectedFault inject(FaultKind kind, String round, SampleInstance victim) {
		return switch (kind) {
			case KILL -> kill(round, victim);
			case PAUSE_INSTANCE -> pauseInstance(round, victim);
			case GRACEFUL_STOP -> gracefulStop(round, victim);
			case PAUSE_REDIS -> pauseRedis(kind, round, this.settings.redisPause());
			case LONG_PAUSE_REDIS -> pauseRedis(kind, round, this.settings.redisLongPause());
			case RESTART_REDIS -> restartRedis(round);
			case WIPE_REDIS -> wipeRedis(round);
			case SENTINEL_FAILOVER -> failOver(round);
			case MALFORMED_BURST -> malformedBurst(round);
		};
	}

	private InjectedFault kill(String round, SampleInstance victim) {
		Map<String, InjectedFault.HeldLease> held = leases(victim.consumerId());
		long start = System.currentTimeMillis();
		victim.kill();
		long end = System.currentTimeMillis();
		logger.info("[{}] killed {} holding {} session(s)", round, victim, held.size());
		this.fleet.launch(victim.consumerId());
		return new InjectedFault(FaultKind.KILL, round, victim.consumerId(), start, end, held, List.of(), null,
				List.of(), null, null);
	}

	private InjectedFault pauseInstance(String round, SampleInstance victim) {
		Map<String, InjectedFault.HeldLease> held = leases(victim.consumerId());
		long start = System.currentTimeMillis();
		victim.pause();
		logger.info("[{}] stopped {} (SIGSTOP) holding {} session(s) for {} ms", round, victim, held.size(),
				this.settings.instancePause().toMillis());
		try {
			SampleInstance.sleep(this.settings.instancePause().toMillis());
		}
		finally {
			victim.resume();
		}
		long end = System.currentTimeMillis();
		logger.info("[{}] continued {} (SIGCONT)", round, victim);
		return new InjectedFault(FaultKind.PAUSE_INSTANCE, round, victim.consumerId(), start, end, held, List.of(), null,
				List.of(), null, null);
	}

	private InjectedFault gracefulStop(String round, SampleInstance victim) {
		Map<String, InjectedFault.HeldLease> held = leases(victim.consumerId());
		long start = System.currentTimeMillis();
		victim.terminate();
		logger.info("[{}] stopping {} (SIGTERM) holding {} session(s)", round, victim, held.size());
		if (!victim.awaitExit(Duration.ofSeconds(60))) {
			logger.warn("[{}] {} did not exit within 60 s of SIGTERM; killing it", round, victim);
			victim.kill();
		}
		long end = System.currentTimeMillis();
		SampleInstance.Handoff handoff = victim.handoff();
		logger.info("[{}] {} exited after {} ms; handoff: {}", round, victim, end - start, handoff);
		this.fleet.launch(victim.consumerId());
		return new InjectedFault(FaultKind.GRACEFUL_STOP, round, victim.consumerId(), start, end, held, List.of(),
				handoff, List.of(), null, null);
	}

	private InjectedFault pauseRedis(FaultKind kind, String round, Duration pause) {
		RedisServer server = this.redis.server();
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<SampleInstance> serving = serving();
		List<String> bystanders = consumerIds(serving);
		HealthWatch watch = HealthWatch.start(this.fleet, serving);
		long start = System.currentTimeMillis();
		server.pause();
		logger.info("[{}] stopped Redis (SIGSTOP) for {} ms; {} lease(s) at stake", round, pause.toMillis(), held.size());
		try {
			SampleInstance.sleep(pause.toMillis());
		}
		finally {
			server.resume();
		}
		long end = System.currentTimeMillis();
		logger.info("[{}] continued Redis (SIGCONT)", round);
		HealthWatch health = recovery(watch, end);
		return new InjectedFault(kind, round, null, start, end, held, List.of(), null, bystanders, health, null);
	}

	private InjectedFault restartRedis(String round) {
		RedisServer server = this.redis.server();
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<SampleInstance> serving = serving();
		List<String> bystanders = consumerIds(serving);
		HealthWatch watch = HealthWatch.start(this.fleet, serving);
		long start = System.currentTimeMillis();
		server.stop();
		logger.info("[{}] stopped Redis (SIGTERM); down for {} ms; {} lease(s) at stake", round,
				this.settings.redisDowntime().toMillis(), held.size());
		SampleInstance.sleep(this.settings.redisDowntime().toMillis());
		server.start();
		long end = System.currentTimeMillis();
		logger.info("[{}] started Redis again on port {} from its append-only file", round, server.port());
		HealthWatch health = recovery(watch, end);
		return new InjectedFault(FaultKind.RESTART_REDIS, round, null, start, end, held, List.of(), null, bystanders,
				health, null);
	}

	/**
	 * SIGKILL, and the server starts again with nothing, as a Redis without persistence does after a crash. The
	 * feeder is paused meanwhile, so that no session is half written: every session was submitted before the archive
	 * was read (finished ones are verified from it, the others are wiped) or after the restart (verified from Redis).
	 * The run's Redis has the append-only file on, so the files are deleted while it is down. When the server's
	 * directory is not on this machine (a Docker backend), {@code FLUSHALL} just before the kill empties it instead.
	 */
	private InjectedFault wipeRedis(String round) {
		RedisServer server = this.redis.server();
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<SampleInstance> serving = serving();
		List<String> bystanders = consumerIds(serving);
		Path directory = localDirectory();
		HealthWatch watch = HealthWatch.start(this.fleet, serving);
		long[] times = new long[2];
		this.feeder.whilePaused(() -> {
			this.archive.snapshot(this.control, this.feeder.sessions());
			if (directory == null) {
				logger.warn("[{}] the Redis directory is not on this machine: FLUSHALL, then SIGKILL", round);
				this.control.call("FLUSHALL");
			}
			times[0] = System.currentTimeMillis();
			this.archive.wiped(times[0]);
			server.kill();
			if (directory != null) {
				deleteAppendOnlyFiles(directory);
			}
			logger.info("[{}] killed Redis (SIGKILL) and deleted its data; down for {} ms; {} lease(s) at stake", round,
					this.settings.redisDowntime().toMillis(), held.size());
			SampleInstance.sleep(this.settings.redisDowntime().toMillis());
			server.start();
			times[1] = System.currentTimeMillis();
		});
		logger.info("[{}] started Redis again on port {}, empty", round, server.port());
		HealthWatch health = recovery(watch, times[1]);
		return new InjectedFault(FaultKind.WIPE_REDIS, round, null, times[0], times[1], held, List.of(), null,
				bystanders, health, null);
	}

	private InjectedFault failOver(String round) {
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<SampleInstance> serving = serving();
		List<String> bystanders = consumerIds(serving);
		HealthWatch watch = HealthWatch.start(this.fleet, serving);
		RedisTopology.Failover failover = this.redis.failOver();
		logger.info("[{}] killed the master {} (SIGKILL); the Sentinels promoted {} after {} ms; {} lease(s) at stake",
				round, failover.oldMaster(), failover.newMaster(), failover.promotedMillis() - failover.killedMillis(),
				held.size());
		HealthWatch health = recovery(watch, failover.promotedMillis());
		return new InjectedFault(FaultKind.SENTINEL_FAILOVER, round, null, failover.killedMillis(),
				failover.promotedMillis(), held, List.of(), null, bystanders, health,
				failover.oldMaster() + " -> " + failover.newMaster());
	}

	/** Lets the watch go on in the background until every instance is UP again (or the bound passes). */
	private static HealthWatch recovery(HealthWatch watch, long end) {
		watch.faultEnded(end, HEALTH_RECOVERY_MILLIS);
		return watch;
	}

	/**
	 * The server's directory ({@code CONFIG GET dir}) when it is a directory of this machine that the test support
	 * created for it (a temporary {@code stream-lease-redis-*}), else null: nothing else is ever deleted.
	 */
	private Path localDirectory() {
		List<?> reply = (List<?>) this.control.call("CONFIG", "GET", "dir");
		if (reply.size() < 2) {
			return null;
		}
		Path directory = Path.of(String.valueOf(reply.get(1)));
		Path temp = Path.of(System.getProperty("java.io.tmpdir")).toAbsolutePath().normalize();
		try {
			if (Files.isDirectory(directory) && directory.toRealPath().startsWith(temp.toRealPath())
					&& directory.getFileName().toString().startsWith("stream-lease-redis-")) {
				return directory;
			}
		}
		catch (IOException ex) {
			logger.warn("Could not resolve the Redis directory {}: {}", directory, ex.toString());
		}
		return null;
	}

	/** Deletes the append-only files (Redis 7: {@code appendonlydir/}; 6.2: {@code appendonly.aof}) and any RDB. */
	private static void deleteAppendOnlyFiles(Path directory) {
		try (Stream<Path> files = Files.list(directory)) {
			for (Path file : files.toList()) {
				String name = file.getFileName().toString();
				if (name.startsWith("appendonly") || name.endsWith(".rdb")) {
					try (Stream<Path> tree = Files.walk(file)) {
						for (Path path : tree.sorted(Comparator.reverseOrder()).toList()) {
							Files.delete(path);
						}
					}
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not delete the data of Redis in " + directory, ex);
		}
	}

	/**
	 * Writes the burst: every malformed kind in turn, each with the dead-letter reason it must get and a marker
	 * field ({@code chaos-marker}) that the dead letter keeps. A write that fails (Redis down in a combined round) is
	 * retried; the marker tells a duplicate of a retried write from a wrong dead letter.
	 */
	private InjectedFault malformedBurst(String round) {
		long start = System.currentTimeMillis();
		List<InjectedFault.MalformedEntry> written = new ArrayList<>();
		for (int i = 0; i < this.settings.malformedBurst(); i++) {
			String marker = "m-" + (++this.malformedCount);
			String[] fields;
			String reason;
			switch (i % 6) {
				case 0 -> {
					fields = new String[] { "payload", "no lbs-input field" };
					reason = "missing-field";
				}
				case 1 -> {
					fields = new String[] { "lbs-input", "{not json" };
					reason = "invalid-json";
				}
				case 2 -> {
					fields = new String[] { "lbs-input", "{\"DataStreamName\":\"   \",\"Info\":{}}" };
					reason = "missing-stream-name";
				}
				case 3 -> {
					fields = new String[] { "lbs-input", "{\"DataStreamName\":\"chaos:bad-info-" + marker + "\",\"Info\":[1]}" };
					reason = "invalid-info";
				}
				case 4 -> {
					fields = new String[] { "lbs-input", "{\"DataStreamName\":\"chaos:oversized-" + marker
							+ "\",\"Info\":{\"blob\":\"" + "x".repeat(ChaosSettings.MAX_ENTRY_BYTES + 1024) + "\"}}" };
					reason = "oversized";
				}
				default -> {
					fields = new String[] { "lbs-input", "[\"not an object\"]" };
					reason = "invalid-json";
				}
			}
			List<String> command = new ArrayList<>(List.of("XADD", ChaosSettings.LBS, "*", MARKER, marker));
			command.addAll(List.of(fields));
			boolean retried = false;
			while (true) {
				try {
					this.control.call(command.toArray(String[]::new));
					// on a replicated Redis, make it durable as the feeder does; written again if the master failed
					if (!this.redis.replicated() || this.control.waitForReplica(SessionFeeder.REPLICA_PATIENCE)) {
						break;
					}
					retried = true;
				}
				catch (RuntimeException ex) {
					if (!RespClient.isTransient(ex)) {
						throw ex;
					}
					retried |= ex instanceof UncheckedIOException;
					SampleInstance.sleep(200);
				}
			}
			written.add(new InjectedFault.MalformedEntry(marker, reason, retried, System.currentTimeMillis()));
		}
		logger.info("[{}] wrote {} malformed LBS entries", round, written.size());
		return new InjectedFault(FaultKind.MALFORMED_BURST, round, null, start, System.currentTimeMillis(), Map.of(),
				written, null, List.of(), null, null);
	}

	private List<SampleInstance> serving() {
		return this.fleet.current().stream().filter(SampleInstance::isServing).toList();
	}

	private static List<String> consumerIds(List<SampleInstance> instances) {
		return instances.stream().map(SampleInstance::consumerId).toList();
	}

	/**
	 * The leases in Redis now (ownership records whose session is the current session of its consumer), of one
	 * consumer or of all (null).
	 */
	Map<String, InjectedFault.HeldLease> leases(String consumer) {
		// Redis may be down for a fault of the same round: wait for it
		for (int attempt = 1;; attempt++) {
			try {
				return readLeases(consumer);
			}
			catch (RuntimeException ex) {
				if (!RespClient.isTransient(ex) || attempt == 150) {
					throw ex;
				}
				SampleInstance.sleep(200);
			}
		}
	}

	private Map<String, InjectedFault.HeldLease> readLeases(String consumer) {
		List<Object> replies = this.control.pipeline(List.of(new String[] { "HGETALL", ChaosSettings.OWNERS },
				new String[] { "HGETALL", ChaosSettings.SESSION_CONSUMERS }, new String[] { "HGETALL", ChaosSettings.SESSIONS }));
		for (Object reply : replies) {
			if (reply instanceof RuntimeException error) {
				throw error;
			}
		}
		Map<String, String> owners = RespClient.fields((List<?>) replies.get(0));
		Map<String, String> consumerOfSession = RespClient.fields((List<?>) replies.get(1));
		Map<String, String> currentSession = RespClient.fields((List<?>) replies.get(2));
		Map<String, InjectedFault.HeldLease> held = new LinkedHashMap<>();
		owners.forEach((stream, value) -> {
			// <token>:<session id>:<LBS entry id>
			int first = value.indexOf(':');
			int second = value.indexOf(':', first + 1);
			if (first < 0 || second < 0) {
				return;
			}
			String session = value.substring(first + 1, second);
			String owner = consumerOfSession.get(session);
			if (owner == null || !session.equals(currentSession.get(owner))) {
				// the session ended or was replaced: the record is not a live lease
				return;
			}
			if (consumer == null || consumer.equals(owner)) {
				held.put(stream, new InjectedFault.HeldLease(stream, Long.parseLong(value.substring(0, first)), owner));
			}
		});
		return held;
	}

}
