package io.streamlease.chaos;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sample-app processes of one run: one slot per consumer id ({@code chaos-1} ... {@code chaos-N}), each holding
 * its current process. A killed or stopped instance is replaced by a new process with the same consumer id, as a
 * restarted pod of a StatefulSet would be (its startup recovery then takes back what its predecessor left pending,
 * unless a peer holds it).
 */
final class SampleFleet implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(SampleFleet.class);

	/** Generous: three JVMs starting at once on a shared 2-core machine can take a minute or more. */
	private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

	private final ChaosSettings settings;

	private final List<String> redis;

	private final Path dir;

	private final Map<String, SampleInstance> slots = new LinkedHashMap<>();

	private final List<SampleInstance> all = new ArrayList<>();

	private final List<String> failedStarts = new CopyOnWriteArrayList<>();

	private final List<String> unexpectedExits = new CopyOnWriteArrayList<>();

	SampleFleet(ChaosSettings settings, List<String> redis, Path dir) {
		this.settings = settings;
		this.redis = List.copyOf(redis);
		this.dir = dir;
	}

	/**
	 * Starts every instance at the same moment (on a small machine they compete for the CPU while they start, and
	 * for Redis while they connect) and waits until all have started.
	 */
	void start() {
		for (int i = 1; i <= this.settings.instances(); i++) {
			launch("chaos-" + i);
		}
		awaitServing();
	}

	/** Starts a new process for the consumer id; returns at once. */
	synchronized SampleInstance launch(String consumerId) {
		SampleInstance previous = this.slots.get(consumerId);
		int incarnation = (previous != null) ? previous.incarnation() + 1 : 1;
		SampleInstance instance = SampleInstance.launch(this.settings, this.redis, consumerId, incarnation, this.dir);
		this.slots.put(consumerId, instance);
		this.all.add(instance);
		logger.info("Launched sample instance {}", instance);
		return instance;
	}

	/**
	 * Waits until every slot's process has started; one that fails to start is launched again (twice at most), and
	 * recorded: a start that fails is a violation (the engine must start whatever Redis does).
	 */
	void awaitServing() {
		for (SampleInstance instance : current()) {
			if (exitedByItself(instance)) {
				instance = launch(instance.consumerId());
			}
			for (int attempt = 1;; attempt++) {
				try {
					instance.awaitStarted(START_TIMEOUT);
					// the first HTTP request initialises Spring MVC and the actuator (seconds on a busy machine): make
					// it now, so that the health watched through a fault measures the engine, not a cold servlet
					HealthProbe.check(instance);
					break;
				}
				catch (IllegalStateException ex) {
					if (attempt == 3) {
						throw ex;
					}
					logger.warn("{}; launching it again", ex.getMessage());
					this.failedStarts.add(ex.getMessage().lines().findFirst().orElse("") + " (log " + instance.log() + "; "
							+ instance.lastCause() + ")");
					instance.kill();
					instance = launch(instance.consumerId());
				}
			}
		}
	}

	/**
	 * Instances that exited without being told to (those found by {@link #awaitServing()} were launched again).
	 */
	List<String> unexpectedExits() {
		current().forEach(this::exitedByItself);
		return List.copyOf(this.unexpectedExits);
	}

	/**
	 * Current instances that exited before they started (and were not launched again, as the run ended first).
	 */
	List<String> failedToStart() {
		List<String> failed = new ArrayList<>();
		for (SampleInstance instance : current()) {
			if (!instance.hasStarted() && !instance.isAlive()) {
				failed.add(instance + " (log " + instance.log() + "): " + instance.lastCause());
			}
		}
		return failed;
	}

	private boolean exitedByItself(SampleInstance instance) {
		if (!instance.hasStarted() || instance.isAlive()) {
			return false;
		}
		String exit = instance + " exited by itself; log: " + instance.log();
		if (!this.unexpectedExits.contains(exit)) {
			logger.error("{} exited by itself; its log ends with:\n{}", instance, instance.tail(30));
			this.unexpectedExits.add(exit);
		}
		return true;
	}

	/** Instances that failed to start and were launched again (each one a violation). */
	List<String> failedStarts() {
		return List.copyOf(this.failedStarts);
	}

	/** The current process of every slot. */
	synchronized List<SampleInstance> current() {
		return new ArrayList<>(this.slots.values());
	}

	/** Every process started in this run, current or not. */
	synchronized List<SampleInstance> all() {
		return new ArrayList<>(this.all);
	}

	/** The current process of the consumer id, or null. */
	synchronized SampleInstance current(String consumerId) {
		return this.slots.get(consumerId);
	}

	/** A random serving instance, or null when fewer than two serve (a fault needs a survivor). */
	SampleInstance pickVictim(Random random) {
		List<SampleInstance> serving = current().stream().filter(SampleInstance::isServing).toList();
		return (serving.size() < 2) ? null : serving.get(random.nextInt(serving.size()));
	}

	@Override
	public void close() {
		for (SampleInstance instance : all()) {
			if (instance.isAlive()) {
				instance.kill();
			}
		}
	}

}
