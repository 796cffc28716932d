package io.streamlease.chaos;

import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Submits sessions as a producer would, in the wire format itself: the data stream {@code session:<n>} first
 * ({@code type=event amount=<1..100>} entries, then {@code type=end}), then the announcement on the LBS
 * ({@code lbs-input = {"DataStreamName": ..., "Info": {...}}}). It remembers what it wrote, so that the totals can be
 * checked against the summaries.
 * <p>
 * Redis faults do not stop it: a write that fails is retried until Redis answers. The data stream entries carry
 * explicit ids ({@code 1-0}, {@code 2-0}, ...), so a retried write whose first attempt did reach Redis is refused
 * and nothing is written twice. A retried announcement may be a duplicate: Stream Lease's duplicate rule covers that
 * (it is counted as {@link #announcementRetries()}).
 * <p>
 * On a replicated Redis (a Sentinel group) it waits after each session until a replica has it ({@code WAIT}), however
 * long the master has no replica (right after a failover, until the restarted old master is demoted and synchronised:
 * see {@link RespClient#waitForReplica(Duration)}); when the master dies or is demoted first, it writes the session
 * again to the current master. A session counts as submitted only once a replica has it, so a failover never loses
 * what the run expects: what it can lose is the engine's own writes, which is what the run tests.
 */
final class SessionFeeder implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(SessionFeeder.class);

	private final RespClient redis;

	private final ChaosSettings settings;

	private final Random random;

	private final List<Session> sessions = new CopyOnWriteArrayList<>();

	private final AtomicInteger announcementRetries = new AtomicInteger();

	private final AtomicInteger rewrites = new AtomicInteger();

	/** How long a session may wait for a replica (a failover and the demotion of the old master take 10 to 20 s). */
	static final Duration REPLICA_PATIENCE = Duration.ofSeconds(60);

	/** The longest time one session waited for a replica beyond the first {@code WAIT}, in ms. */
	private volatile long longestReplicaWaitMillis;

	private final boolean durable;

	private volatile String round = "";

	private volatile boolean feeding;

	private volatile boolean closed;

	private volatile RuntimeException failure;

	private Thread thread;

	/** Sessions announced but not ended yet ({@link #openSessions}), in order. */
	private final List<OpenSession> open = new ArrayList<>();

	/** A session whose data stream has events but no end marker yet. */
	private record OpenSession(String stream, String round, int events, long amount) {
	}

	/**
	 * One submitted session.
	 *
	 * @param stream the data stream
	 * @param round the round (scenario) it was submitted in
	 * @param events how many events it has
	 * @param amount the sum of their amounts
	 * @param submittedAt when it was announced (epoch millis)
	 */
	record Session(String stream, String round, int events, long amount, long submittedAt) {

		/** Entries in its data stream: the events and the end marker. */
		int entries() {
			return this.events + 1;
		}

	}

	/**
	 * @param durable whether to wait for a replica after each session ({@link RespClient#waitForReplica(Duration)})
	 */
	SessionFeeder(RespClient redis, ChaosSettings settings, boolean durable) {
		this.redis = redis;
		this.settings = settings;
		this.durable = durable;
		this.random = new Random(settings.seed());
	}

	/** Starts the feeding thread, initially not feeding. */
	void start() {
		this.thread = new Thread(this::loop, "chaos-feeder");
		this.thread.setDaemon(true);
		this.thread.start();
	}

	/** Labels the sessions submitted from now on. */
	void round(String round) {
		this.round = round;
	}

	/** Submits {@code sessionsPerSecond} sessions per second from now on. */
	void feed() {
		this.feeding = true;
	}

	/** Stops submitting; returns once the session in progress (if any) is submitted. */
	void pause() {
		this.feeding = false;
		synchronized (this) {
			// the loop holds the lock while it submits
		}
	}

	/**
	 * Runs the action while no session is being submitted (one in progress is finished first), then goes on as
	 * before: a wipe of Redis uses it, so that no session is half written when everything is deleted.
	 */
	void whilePaused(Runnable action) {
		synchronized (this) {
			// the loop holds the lock while it submits
			action.run();
		}
	}

	List<Session> sessions() {
		return new ArrayList<>(this.sessions);
	}

	/** Why the feeder stopped by itself, or null. */
	RuntimeException failure() {
		return this.failure;
	}

	int announcementRetries() {
		return this.announcementRetries.get();
	}

	/** Sessions written again because the master died before a replica had them (a replicated Redis only). */
	int rewrites() {
		return this.rewrites.get();
	}

	/** The longest one session waited until a replica had it, in ms (a replicated Redis only). */
	long longestReplicaWaitMillis() {
		return this.longestReplicaWaitMillis;
	}

	private void loop() {
		long interval = (long) (1_000_000_000L / this.settings.sessionsPerSecond());
		long next = System.nanoTime();
		while (!this.closed) {
			if (!this.feeding) {
				SampleInstance.sleep(20);
				next = System.nanoTime();
				continue;
			}
			long wait = next - System.nanoTime();
			if (wait > 0) {
				SampleInstance.sleep(Math.max(1, wait / 1_000_000));
				continue;
			}
			synchronized (this) {
				if (this.feeding && !this.closed) {
					try {
						submit();
					}
					catch (RuntimeException ex) {
						// not a Redis fault the feeder can wait out: stop, and say so in the report
						logger.error("The feeder stopped: {}", ex.toString(), ex);
						this.failure = ex;
						return;
					}
				}
			}
			// behind by more than a second (Redis was down): do not burst to catch up
			next = Math.max(next + interval, System.nanoTime() - 1_000_000_000L);
		}
	}

	private void submit() {
		int n = this.sessions.size() + 1;
		String stream = "session:" + n;
		int events = this.settings.minEvents()
				+ this.random.nextInt(this.settings.maxEvents() - this.settings.minEvents() + 1);
		List<String[]> writes = new ArrayList<>(events + 1);
		long amount = 0;
		for (int i = 1; i <= events; i++) {
			int value = 1 + this.random.nextInt(100);
			amount += value;
			writes.add(new String[] { "XADD", stream, i + "-0", "type", "event", "amount", Integer.toString(value) });
		}
		writes.add(new String[] { "XADD", stream, (events + 1) + "-0", "type", "end" });
		String round = this.round;
		String announcement = "{\"DataStreamName\":\"" + stream + "\",\"Info\":{\"events\":" + events + ",\"round\":\""
				+ round.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}}";
		while (true) {
			writeDataStream(stream, writes);
			announce(stream, announcement);
			if (!this.durable) {
				break;
			}
			long waiting = System.nanoTime();
			boolean replicated = this.redis.waitForReplica(REPLICA_PATIENCE);
			long waited = (System.nanoTime() - waiting) / 1_000_000;
			if (waited > 1000) {
				logger.info("{} waited {} ms until a replica had it", stream, waited);
			}
			this.longestReplicaWaitMillis = Math.max(this.longestReplicaWaitMillis, waited);
			if (replicated) {
				break;
			}
			// the master failed (or was demoted) before a replica confirmed: write the session again (the data
			// stream's explicit ids refuse what the current master already has; a second announcement is a duplicate,
			// which the engine's duplicate rule covers)
			logger.info("The master failed before a replica had {}; writing it again", stream);
			this.rewrites.incrementAndGet();
			this.announcementRetries.incrementAndGet();
		}
		this.sessions.add(new Session(stream, round, events, amount, System.currentTimeMillis()));
	}

	private void announce(String stream, String announcement) {
		for (int attempt = 1;; attempt++) {
			try {
				this.redis.call("XADD", ChaosSettings.LBS, "*", "lbs-input", announcement);
				break;
			}
			catch (RuntimeException ex) {
				if (!RespClient.isTransient(ex)) {
					throw ex;
				}
				if (ex instanceof UncheckedIOException) {
					// the entry may have been written before the connection failed
					this.announcementRetries.incrementAndGet();
				}
				retryLater(stream, attempt, ex);
			}
		}
	}

	private void writeDataStream(String stream, List<String[]> writes) {
		for (int attempt = 1;; attempt++) {
			try {
				List<Object> replies = this.redis.pipeline(writes);
				for (Object reply : replies) {
					// refused only when an earlier attempt already wrote that id
					if (reply instanceof RespClient.RedisErrorException error
							&& !error.getMessage().contains("equal or smaller")) {
						throw error;
					}
				}
				return;
			}
			catch (RuntimeException ex) {
				if (!RespClient.isTransient(ex)) {
					throw ex;
				}
				retryLater(stream, attempt, ex);
			}
		}
	}

	private void retryLater(String stream, int attempt, RuntimeException ex) {
		if (this.closed) {
			throw new IllegalStateException("The feeder was closed while Redis was unreachable", ex);
		}
		if (attempt == 1) {
			logger.info("Writing {} failed ({}); retrying until Redis answers", stream, ex.getMessage());
		}
		SampleInstance.sleep(Duration.ofMillis(200).toMillis());
	}

	/**
	 * Announces {@code count} sessions whose data streams get {@code events} events and no end marker: they stay
	 * held until {@link #closeOpenSessions(int)}. Not counted in {@link #sessions()} until then. Call it while not
	 * feeding.
	 */
	synchronized void openSessions(int count, int events) {
		List<String[]> writes = new ArrayList<>();
		List<String[]> announcements = new ArrayList<>();
		String round = this.round;
		for (int i = 0; i < count; i++) {
			String stream = "open:" + (this.open.size() + 1);
			long amount = 0;
			for (int e = 1; e <= events; e++) {
				int value = 1 + this.random.nextInt(100);
				amount += value;
				writes.add(new String[] { "XADD", stream, e + "-0", "type", "event", "amount", Integer.toString(value) });
			}
			announcements.add(new String[] { "XADD", ChaosSettings.LBS, "*", "lbs-input",
					"{\"DataStreamName\":\"" + stream + "\",\"Info\":{\"events\":" + events + "}}" });
			this.open.add(new OpenSession(stream, round, events, amount));
		}
		pipelineInPages(writes);
		pipelineInPages(announcements);
	}

	/**
	 * Gives every open session {@code more} events and its end marker; from then on they are {@link #sessions()}
	 * like the others. Call it while not feeding.
	 */
	synchronized void closeOpenSessions(int more, int perWave, Duration wave) {
		List<String[]> writes = new ArrayList<>();
		int inWave = 0;
		for (OpenSession session : this.open) {
			if (inWave == perWave) {
				// a wave at a time, as sessions would end in production, not every session in the same millisecond
				pipelineInPages(writes);
				writes.clear();
				inWave = 0;
				SampleInstance.sleep(wave.toMillis());
			}
			inWave++;
			long amount = session.amount();
			for (int e = session.events() + 1; e <= session.events() + more; e++) {
				int value = 1 + this.random.nextInt(100);
				amount += value;
				writes.add(new String[] { "XADD", session.stream(), e + "-0", "type", "event", "amount",
						Integer.toString(value) });
			}
			writes.add(new String[] { "XADD", session.stream(), (session.events() + more + 1) + "-0", "type", "end" });
			this.sessions.add(new Session(session.stream(), session.round(), session.events() + more, amount,
					System.currentTimeMillis()));
		}
		this.open.clear();
		pipelineInPages(writes);
	}

	private void pipelineInPages(List<String[]> writes) {
		for (int from = 0; from < writes.size(); from += 1000) {
			List<Object> replies = this.redis.pipeline(writes.subList(from, Math.min(writes.size(), from + 1000)));
			for (Object reply : replies) {
				if (reply instanceof RespClient.RedisErrorException error) {
					throw error;
				}
			}
		}
	}

	@Override
	public void close() {
		this.closed = true;
		this.feeding = false;
		if (this.thread != null) {
			try {
				this.thread.join(10_000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

}
