package io.streamlease.chaos;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.streamlease.test.redis.RedisServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Injects one fault and returns once it is over (the instance killed, stopped and continued, Redis back...),
 * recording what was at stake: the leases found in Redis just before.
 */
final class FaultInjector {

	private static final Logger logger = LoggerFactory.getLogger(FaultInjector.class);

	/** The field that identifies each malformed entry, in the LBS and in its dead letter. */
	static final String MARKER = "chaos-marker";

	private final ChaosSettings settings;

	private final RedisServer server;

	private final RespClient redis;

	private final SampleFleet fleet;

	private final Random random;

	private int malformedCount;

	FaultInjector(ChaosSettings settings, RedisServer server, RespClient redis, SampleFleet fleet, Random random) {
		this.settings = settings;
		this.server = server;
		this.redis = redis;
		this.fleet = fleet;
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
			case PAUSE_REDIS -> pauseRedis(round);
			case RESTART_REDIS -> restartRedis(round);
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
				List.of());
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
				List.of());
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
				handoff, List.of());
	}

	private InjectedFault pauseRedis(String round) {
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<String> bystanders = serving();
		long start = System.currentTimeMillis();
		this.server.pause();
		logger.info("[{}] stopped Redis (SIGSTOP) for {} ms; {} lease(s) at stake", round,
				this.settings.redisPause().toMillis(), held.size());
		try {
			SampleInstance.sleep(this.settings.redisPause().toMillis());
		}
		finally {
			this.server.resume();
		}
		long end = System.currentTimeMillis();
		logger.info("[{}] continued Redis (SIGCONT)", round);
		return new InjectedFault(FaultKind.PAUSE_REDIS, round, null, start, end, held, List.of(), null, bystanders);
	}

	private InjectedFault restartRedis(String round) {
		Map<String, InjectedFault.HeldLease> held = leases(null);
		List<String> bystanders = serving();
		long start = System.currentTimeMillis();
		this.server.stop();
		logger.info("[{}] stopped Redis (SIGTERM); down for {} ms; {} lease(s) at stake", round,
				this.settings.redisDowntime().toMillis(), held.size());
		SampleInstance.sleep(this.settings.redisDowntime().toMillis());
		this.server.start();
		long end = System.currentTimeMillis();
		logger.info("[{}] started Redis again on port {} from its append-only file", round, this.server.port());
		return new InjectedFault(FaultKind.RESTART_REDIS, round, null, start, end, held, List.of(), null, bystanders);
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
					this.redis.call(command.toArray(String[]::new));
					break;
				}
				catch (RuntimeException ex) {
					if (!RespClient.isTransient(ex)) {
						throw ex;
					}
					retried |= ex instanceof UncheckedIOException;
					SampleInstance.sleep(200);
				}
			}
			written.add(new InjectedFault.MalformedEntry(marker, reason, retried));
		}
		logger.info("[{}] wrote {} malformed LBS entries", round, written.size());
		return new InjectedFault(FaultKind.MALFORMED_BURST, round, null, start, System.currentTimeMillis(), Map.of(),
				written, null, List.of());
	}

	private List<String> serving() {
		return this.fleet.current().stream().filter(SampleInstance::isServing).map(SampleInstance::consumerId).toList();
	}

	/**
	 * The leases in Redis now (from the lease index and the lease keys), of one consumer or of all (null).
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
		List<?> streams = (List<?>) this.redis.call("ZRANGE", ChaosSettings.LEASE_INDEX, "0", "-1");
		Map<String, InjectedFault.HeldLease> held = new LinkedHashMap<>();
		if (streams.isEmpty()) {
			return held;
		}
		List<String[]> gets = new ArrayList<>();
		for (Object stream : streams) {
			gets.add(new String[] { "GET", ChaosSettings.leaseKey(stream.toString()) });
		}
		List<Object> values = this.redis.pipeline(gets);
		for (int i = 0; i < streams.size(); i++) {
			if (!(values.get(i) instanceof String value)) {
				continue;
			}
			// <token>:<instance nonce>:<consumer>
			int first = value.indexOf(':');
			int second = value.indexOf(':', first + 1);
			if (first < 0 || second < 0) {
				continue;
			}
			String owner = value.substring(second + 1);
			if (consumer == null || consumer.equals(owner)) {
				String stream = streams.get(i).toString();
				held.put(stream, new InjectedFault.HeldLease(stream, Long.parseLong(value.substring(0, first)), owner));
			}
		}
		return held;
	}

}
