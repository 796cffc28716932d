package io.streamlease.chaos;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the health of some instances through a Redis fault: asks each of them ({@code GET /actuator/health})
 * every 250 ms from the moment the fault begins, notes which reported the {@code streamLease} component DOWN, and,
 * once the fault is over, when each reported UP again. It watches in the background until every instance was UP
 * after the fault, or a bound passed; {@link #recovery()} waits for that. An instance that is stopped or being
 * replaced at that moment (a fault of the same round) is skipped until it serves again.
 * <p>
 * The instances watched are the processes serving when the fault began. One that stops serving before the fault
 * ends (killed, stopped or replaced by an instance fault of the same round) is noted as not serving through it: it
 * (or its replacement, which may not even serve HTTP before the fault is over) cannot be expected to have reported
 * DOWN. Whether each watched consumer is UP again afterwards is asked of whatever process has its id then.
 */
final class HealthWatch implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(HealthWatch.class);

	private static final long POLL_MILLIS = 250;

	private final SampleFleet fleet;

	private final List<String> consumers;

	/** The process of each watched consumer when the fault began. */
	private final Map<String, SampleInstance> original = new LinkedHashMap<>();

	/** The watched consumers whose process stopped serving before the fault ended, and what happened to it. */
	private final Map<String, String> notServingThrough = new LinkedHashMap<>();

	private final Set<String> sawDown = new LinkedHashSet<>();

	private final Map<String, String> downReason = new LinkedHashMap<>();

	private final Map<String, Long> upAfter = new LinkedHashMap<>();

	private final Map<String, HealthProbe.Health> last = new LinkedHashMap<>();

	private final Map<String, Set<String>> seen = new LinkedHashMap<>();

	private final Map<String, Long> slowestAnswer = new LinkedHashMap<>();

	private final List<Thread> threads;

	private volatile long endMillis = -1;

	private final long startMillis = System.currentTimeMillis();

	private volatile long deadlineMillis = Long.MAX_VALUE;

	private Recovery recovery;

	private volatile boolean closed;

	/**
	 * What the health said through one fault.
	 *
	 * @param watched the consumer ids watched: those whose process was serving when the fault began
	 * @param notServingThrough those whose process then stopped serving before the fault ended (killed, stopped or
	 * replaced by another fault), with what happened: their health during the fault is not judged
	 * @param sawDown those that reported DOWN at least once during the fault or after it
	 * @param downReason the reason each of those gave (the first one seen)
	 * @param upAfterMillis for each watched consumer, how long after the fault ended it first reported UP (absent:
	 * not UP again in time)
	 * @param lastHealth what each one reported last
	 * @param statuses every status each one reported (UNREACHABLE: no answer within 2 s)
	 * @param slowestAnswerMillis the longest each one took to answer
	 */
	record Recovery(List<String> watched, Map<String, String> notServingThrough, Set<String> sawDown,
			Map<String, String> downReason, Map<String, Long> upAfterMillis, Map<String, String> lastHealth,
			Map<String, Set<String>> statuses, Map<String, Long> slowestAnswerMillis) {

		/** The watched consumers whose process served from before the fault until it ended: each must show DOWN. */
		List<String> servingThrough() {
			return this.watched.stream().filter((consumer) -> !this.notServingThrough.containsKey(consumer)).toList();
		}

		/** The slowest instance's time to UP, or -1 when one was not UP again. */
		long slowestMillis() {
			if (this.upAfterMillis.size() < this.watched.size()) {
				return -1;
			}
			return this.upAfterMillis.values().stream().mapToLong(Long::longValue).max().orElse(0);
		}

	}

	private HealthWatch(SampleFleet fleet, List<SampleInstance> serving) {
		this.fleet = fleet;
		this.consumers = serving.stream().map(SampleInstance::consumerId).toList();
		serving.forEach((instance) -> this.original.put(instance.consumerId(), instance));
		// one thread per instance, so that a slow answer of one does not delay the others
		this.threads = this.consumers.stream().map((consumer) -> {
			Thread thread = new Thread(() -> loop(consumer), "chaos-health-watch-" + consumer);
			thread.setDaemon(true);
			return thread;
		}).toList();
	}

	/** Starts watching the instances serving now (call just before the fault begins). */
	static HealthWatch start(SampleFleet fleet, List<SampleInstance> serving) {
		HealthWatch watch = new HealthWatch(fleet, serving);
		watch.threads.forEach(Thread::start);
		return watch;
	}

	/**
	 * Notes the end of the fault; the watch goes on until every watched instance reported UP after it, at most
	 * {@code timeoutMillis} more. Returns at once.
	 */
	void faultEnded(long faultEndMillis, long timeoutMillis) {
		this.deadlineMillis = System.currentTimeMillis() + timeoutMillis;
		this.endMillis = faultEndMillis;
	}

	/**
	 * Waits until the watch is over (every instance UP again, or the bound passed) and returns what it saw.
	 */
	synchronized Recovery recovery() {
		if (this.recovery != null) {
			return this.recovery;
		}
		try {
			long wait = Math.max(1, this.deadlineMillis - System.currentTimeMillis() + 5000);
			long until = System.currentTimeMillis() + ((this.deadlineMillis == Long.MAX_VALUE) ? 1 : Math.min(wait, 600_000));
			for (Thread thread : this.threads) {
				thread.join(Math.max(1, until - System.currentTimeMillis()));
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		close();
		synchronized (this.upAfter) {
			Map<String, String> lastHealth = new LinkedHashMap<>();
			this.last.forEach((consumer, health) -> lastHealth.put(consumer, health.toString()));
			this.recovery = new Recovery(this.consumers, new LinkedHashMap<>(this.notServingThrough),
					new LinkedHashSet<>(this.sawDown),
					new LinkedHashMap<>(this.downReason), new LinkedHashMap<>(this.upAfter), lastHealth,
					new LinkedHashMap<>(this.seen), new LinkedHashMap<>(this.slowestAnswer));
		}
		if (this.recovery.slowestMillis() < 0) {
			logger.warn("Health not UP again on every instance after the fault: {}", this.recovery.lastHealth());
		}
		return this.recovery;
	}

	private void loop(String consumer) {
		while (!this.closed) {
			long asked = System.currentTimeMillis();
			synchronized (this.upAfter) {
				if (this.endMillis >= 0 && (this.upAfter.containsKey(consumer) || asked > this.deadlineMillis)) {
					return;
				}
			}
			SampleInstance instance = this.fleet.current(consumer);
			noteIfNotServing(consumer, instance, asked);
			if (instance != null && instance.isServing()) {
				HealthProbe.Health health = HealthProbe.check(instance);
				long answered = System.currentTimeMillis();
				synchronized (this.upAfter) {
					this.last.put(consumer, health);
					this.seen.computeIfAbsent(consumer, (c) -> new LinkedHashSet<>()).add(health.status());
					this.slowestAnswer.merge(consumer, answered - asked, Math::max);
					if (health.down() && this.sawDown.add(consumer)) {
						this.downReason.put(consumer, health.reason());
					}
					long end = this.endMillis;
					// asked after the fault ended: UP means recovered (a reply to an earlier question does not count)
					if (end >= 0 && asked >= end && health.up()) {
						this.upAfter.put(consumer, answered - end);
					}
				}
			}
			long rest = POLL_MILLIS - (System.currentTimeMillis() - asked);
			if (rest > 0 && !this.closed) {
				try {
					Thread.sleep(rest);
				}
				catch (InterruptedException ex) {
					return;
				}
			}
		}
	}

	/** While the fault lasts: notes it when the process serving at its start no longer serves (or was replaced). */
	private void noteIfNotServing(String consumer, SampleInstance current, long now) {
		SampleInstance first = this.original.get(consumer);
		String what;
		if (current != first) {
			what = first + " was replaced by " + ((current != null) ? current : "nothing");
		}
		else if (!first.isServing()) {
			what = first + (first.isPaused() ? " was stopped (SIGSTOP)" : " exited");
		}
		else {
			return;
		}
		synchronized (this.upAfter) {
			if (this.endMillis < 0 && !this.notServingThrough.containsKey(consumer)) {
				this.notServingThrough.put(consumer, what + " " + (now - this.startMillis) + " ms into the fault");
			}
		}
	}

	@Override
	public void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		for (Thread thread : this.threads) {
			thread.interrupt();
			try {
				thread.join(5000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

}
