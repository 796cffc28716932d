package io.streamlease.engine;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The engine's threads and its lifecycle state: the two-thread scheduler (renewal, safety checks, sweep, background
 * retries), the LBS reader and the claim worker (the threads that take streams), the intake gate they pass while
 * paused, and the state with the running and reading flags that every loop checks. Starts, interrupts and stops the
 * threads, and sleeps for the loops so that they wake when the engine stops.
 * <p>
 * Holds no reference to the engine: it runs what it is given.
 */
final class EngineRuntime {

	/** How long a thread that stops is waited for. */
	private static final long JOIN_MILLIS = 2000;

	private final EngineSettings settings;

	private final String threadPrefix;

	private final Runnable wakeWaiting;

	private final Object lifecycle = new Object();

	private final IntakeGate intake = new IntakeGate();

	private volatile EngineState state = EngineState.NEW;

	private volatile boolean running;

	private volatile boolean reading = true;

	private volatile String terminationReason;

	private volatile ScheduledExecutorService scheduler;

	private Thread readerThread;

	private Thread claimThread;

	/**
	 * @param settings the engine's settings (its service names the threads; retry and hb-interval give the
	 * background back-off)
	 * @param wakeWaiting wakes the threads that wait for room among the held streams, so that they see a stop at once
	 */
	EngineRuntime(EngineSettings settings, Runnable wakeWaiting) {
		this.settings = settings;
		this.threadPrefix = "stream-lease-" + settings.serviceName() + "-";
		this.wakeWaiting = wakeWaiting;
	}

	// ---- lifecycle state

	EngineState state() {
		return this.state;
	}

	/** Whether the engine runs (starting or running, not stopping). */
	boolean isRunning() {
		return this.running;
	}

	/** Whether the reader and the claim worker should go on: running and not told to stop reading. */
	boolean isReading() {
		return this.running && this.reading;
	}

	/** Whether the reader and the claim worker may take new streams now: reading and not paused. */
	boolean isTaking() {
		return isReading() && this.intake.isOpen();
	}

	/** Why the engine terminated, or null while it runs. */
	String terminationReason() {
		return this.terminationReason;
	}

	/**
	 * NEW to STARTING, running.
	 * @throws IllegalStateException if the engine was started already
	 */
	void begin() {
		synchronized (this.lifecycle) {
			if (this.state != EngineState.NEW) {
				throw new IllegalStateException("Engine of service '" + this.settings.serviceName()
						+ "' was already started (" + this.state + ")");
			}
			this.state = EngineState.STARTING;
			this.running = true;
		}
	}

	/**
	 * Runs {@code startComponents} and moves to RUNNING, unless the engine stopped meanwhile (atomically with the
	 * stop: a component is never started after close or termination began).
	 * @return whether the engine runs now
	 */
	boolean startRunning(Runnable startComponents) {
		synchronized (this.lifecycle) {
			if (!this.running) {
				return false;
			}
			startComponents.run();
			this.state = EngineState.RUNNING;
			return true;
		}
	}

	/**
	 * RUNNING or STARTING to STOPPING (close, a start that failed).
	 * @return false if the engine was not starting or running
	 */
	boolean beginStop() {
		synchronized (this.lifecycle) {
			if (this.state != EngineState.RUNNING && this.state != EngineState.STARTING) {
				return false;
			}
			this.state = EngineState.STOPPING;
			this.running = false;
			return true;
		}
	}

	/**
	 * To STOPPING for a fatal error, with the reason.
	 * @return false if the engine stops or terminated already
	 */
	boolean beginTermination(String reason) {
		synchronized (this.lifecycle) {
			if (this.state == EngineState.TERMINATED || this.state == EngineState.STOPPING) {
				return false;
			}
			this.state = EngineState.STOPPING;
			this.running = false;
		}
		this.terminationReason = reason;
		return true;
	}

	/** Undoes {@link #begin()} for a start that failed or timed out: STOPPING, whatever the state. */
	void abort() {
		synchronized (this.lifecycle) {
			this.running = false;
			this.state = EngineState.STOPPING;
		}
	}

	/** The end: TERMINATED with the reason. */
	void terminated(String reason) {
		this.terminationReason = reason;
		this.state = EngineState.TERMINATED;
	}

	/** The end of a termination whose reason was given to {@link #beginTermination(String)}. */
	void terminated() {
		this.state = EngineState.TERMINATED;
	}

	/**
	 * Stops every thread at once, as if the process had died: TERMINATED ("killed"), the scheduler shut down, the
	 * reader and the claim worker interrupted.
	 */
	void kill() {
		synchronized (this.lifecycle) {
			this.running = false;
			this.state = EngineState.TERMINATED;
			this.terminationReason = "killed";
		}
		ScheduledExecutorService current = this.scheduler;
		if (current != null) {
			current.shutdownNow();
		}
		for (Thread thread : new Thread[] { this.readerThread, this.claimThread }) {
			if (thread != null) {
				thread.interrupt();
			}
		}
		this.wakeWaiting.run();
	}

	// ---- the intake

	/**
	 * Closes the intake (pause).
	 * @return false if the engine is neither starting nor running, or the intake was closed already
	 */
	boolean closeIntake() {
		return (this.state == EngineState.RUNNING || this.state == EngineState.STARTING) && this.intake.close();
	}

	/**
	 * Opens the intake (resume).
	 * @return false if it was open already
	 */
	boolean openIntake() {
		return this.intake.open();
	}

	/** Whether the intake is closed (paused). */
	boolean isPaused() {
		return !this.intake.isOpen();
	}

	/**
	 * For the reader and the claim worker between two turns: while paused, parks at most {@code timeout}.
	 * @return whether they may take new streams
	 */
	boolean passIntake(Duration timeout) throws InterruptedException {
		return this.intake.passOrPark(timeout);
	}

	/**
	 * Waits at most {@code timeout} until the threads that take streams and are alive (the reader once the engine
	 * runs, the claim worker) are parked at the closed intake.
	 */
	void awaitTakersParked(Duration timeout) {
		int takers = (alive(this.readerThread) && this.state == EngineState.RUNNING ? 1 : 0)
				+ (alive(this.claimThread) ? 1 : 0);
		try {
			this.intake.awaitParked(takers, timeout);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	// ---- threads

	/** Starts the scheduler (two threads). */
	void startScheduler() {
		this.scheduler = Executors.newScheduledThreadPool(2, threads(this.threadPrefix + "scheduler"));
	}

	/** The scheduler, or null before {@link #startScheduler()}. */
	ScheduledExecutorService scheduler() {
		return this.scheduler;
	}

	/** Starts the reader thread. */
	void startReader(Runnable reader) {
		this.readerThread = threads(this.threadPrefix + "reader").newThread(reader);
		this.readerThread.start();
	}

	/** Starts the claim worker's thread. */
	void startClaims(Runnable claims) {
		this.claimThread = threads(this.threadPrefix + "claims").newThread(claims);
		this.claimThread.start();
	}

	/**
	 * Stops taking new streams: the reader and the claim worker end (waited for), while the scheduler goes on
	 * (renewal keeps the held streams). Nothing happens unless the engine is running.
	 */
	void stopReading() {
		if (this.state != EngineState.RUNNING) {
			return;
		}
		this.reading = false;
		this.wakeWaiting.run();
		joinReader();
		stopClaims();
	}

	/** Waits (at most two seconds) for the reader to end; it ends in well under a second once not reading. */
	void joinReader() {
		join(this.readerThread);
	}

	/** Interrupts the claim worker (it may wait for room or for the application to take its events). */
	void interruptClaims() {
		if (this.claimThread != null) {
			this.claimThread.interrupt();
		}
	}

	/** Interrupts the claim worker and waits (at most two seconds) for it to end. */
	void stopClaims() {
		if (this.claimThread != null) {
			this.claimThread.interrupt();
			join(this.claimThread);
		}
	}

	/** Shuts the scheduler down, interrupting its tasks, and waits at most a second for them. */
	void shutdownScheduler() {
		ScheduledExecutorService current = this.scheduler;
		if (current != null) {
			current.shutdownNow();
			try {
				current.awaitTermination(1, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/** Runs {@code task} on the scheduler now. */
	void execute(Runnable task) {
		this.scheduler.execute(task);
	}

	/**
	 * Retries a call for a held stream in the background, after the back-off of the retry settings (at most
	 * hb-interval / 2, so that the stream's session does not lapse while it waits).
	 * @param attempt the number of the retry (1 for the first)
	 * @return false if the scheduler was shut down (or not started): the task does not run
	 */
	boolean retryLater(Runnable task, int attempt) {
		ScheduledExecutorService current = this.scheduler;
		if (current == null || current.isShutdown()) {
			return false;
		}
		current.schedule(task, Math.max(1, backgroundRetryDelay(attempt).toMillis()), TimeUnit.MILLISECONDS);
		return true;
	}

	/** The back-off of a call retried in the background for a held stream: the retry settings, at most hb / 2. */
	Duration backgroundRetryDelay(int attempt) {
		Duration delay = this.settings.retry().delay(attempt);
		Duration cap = this.settings.hbInterval().dividedBy(2);
		return (delay.compareTo(cap) > 0) ? cap : delay;
	}

	/** Starts a daemon thread of its own named after the service and {@code role}. */
	void startThread(String role, Runnable task) {
		Thread thread = new Thread(task, this.threadPrefix + role);
		thread.setDaemon(true);
		thread.start();
	}

	// ---- sleeping

	/**
	 * Sleeps, waking early when the engine stops.
	 * @return false if interrupted
	 */
	boolean sleepWhileRunning(Duration duration) {
		return sleep(duration, () -> this.running || this.state == EngineState.STARTING, () -> false);
	}

	/**
	 * Waits before retrying a failed call, waking early when the engine stops or when {@code wakeEarly} holds (another
	 * component found Redis reachable again), so that a long back-off does not delay the recovery.
	 * @return false if interrupted
	 */
	boolean backOff(Duration duration, BooleanSupplier wakeEarly) {
		return sleep(duration, () -> this.running, wakeEarly);
	}

	/**
	 * Sleeps up to {@code duration} in steps of at most 50 ms while {@code awake} holds, returning early once
	 * {@code wakeEarly} does.
	 * @return false if interrupted
	 */
	private static boolean sleep(Duration duration, BooleanSupplier awake, BooleanSupplier wakeEarly) {
		long until = System.nanoTime() + duration.toNanos();
		try {
			while (awake.getAsBoolean()) {
				long left = until - System.nanoTime();
				if (left <= 0 || wakeEarly.getAsBoolean()) {
					return true;
				}
				Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 50));
			}
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	private static boolean alive(Thread thread) {
		return thread != null && thread.isAlive();
	}

	private static void join(Thread thread) {
		if (thread == null || thread == Thread.currentThread()) {
			return;
		}
		try {
			thread.join(JOIN_MILLIS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static ThreadFactory threads(String name) {
		AtomicInteger count = new AtomicInteger();
		return (runnable) -> {
			Thread thread = new Thread(runnable, name + ((count.getAndIncrement() == 0) ? "" : "-" + count.get()));
			thread.setDaemon(true);
			return thread;
		};
	}

}
