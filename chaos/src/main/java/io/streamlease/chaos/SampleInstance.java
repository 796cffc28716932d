package io.streamlease.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One sample-app process: its own JVM, output in a log file. Every process started here is also killed by a JVM
 * shutdown hook, so that none outlives the harness (short of a SIGKILL of the harness itself).
 */
final class SampleInstance {

	private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

	private static final Pattern HTTP_PORT = Pattern.compile("Tomcat started on port (\\d+)");

	private static final Pattern HANDOFF = Pattern.compile(
			"^(\\S+)\\s+INFO .*Stream Lease engine stopped: .*, (\\d+) streams? handed off in (\\d+) ms");

	static {
		Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "chaos-reaper"));
	}

	private final String consumerId;

	private final int incarnation;

	private final Process process;

	private final Path log;

	private volatile boolean paused;

	private volatile boolean started;

	private volatile Integer httpPort;

	private SampleInstance(String consumerId, int incarnation, Process process, Path log) {
		this.consumerId = consumerId;
		this.incarnation = incarnation;
		this.process = process;
		this.log = log;
	}

	/**
	 * Starts the process and returns at once; see {@link #awaitStarted(Duration)}.
	 */
	static SampleInstance launch(ChaosSettings settings, List<String> redis, String consumerId, int incarnation,
			Path dir) {
		String java = ProcessHandle.current().info().command().orElse("java");
		Path log = dir.resolve(consumerId + "-" + incarnation + ".log");
		try {
			Files.createDirectories(dir);
			Process process = new ProcessBuilder(settings.command(java, redis, consumerId)).redirectErrorStream(true)
				.redirectOutput(log.toFile())
				.start();
			LIVE.add(process);
			process.onExit().thenRun(() -> LIVE.remove(process));
			return new SampleInstance(consumerId, incarnation, process, log);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start the sample application " + settings.sampleJar(), ex);
		}
	}

	String consumerId() {
		return this.consumerId;
	}

	int incarnation() {
		return this.incarnation;
	}

	long pid() {
		return this.process.pid();
	}

	Path log() {
		return this.log;
	}

	/** The port of its actuator (it runs with {@code server.port=0}), from its log; null until it logged it. */
	Integer httpPort() {
		if (this.httpPort == null) {
			Matcher matcher = HTTP_PORT.matcher(text());
			if (matcher.find()) {
				this.httpPort = Integer.valueOf(matcher.group(1));
			}
		}
		return this.httpPort;
	}

	boolean isAlive() {
		return this.process.isAlive();
	}

	boolean isPaused() {
		return this.paused;
	}

	boolean hasStarted() {
		return this.started;
	}

	/** Alive, started and not stopped: a candidate for the next fault. */
	boolean isServing() {
		return this.started && !this.paused && this.process.isAlive();
	}

	/**
	 * Waits until the application logged that it started.
	 * @throws IllegalStateException if it exited or did not start in time (with the end of its log)
	 */
	void awaitStarted(Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!this.started) {
			String text = text();
			if (text.contains("Started SampleApplication")) {
				this.started = true;
				return;
			}
			if (!this.process.isAlive() || text.contains("APPLICATION FAILED TO START")) {
				throw new IllegalStateException("Sample instance " + this + " did not start; its log ends with:\n" + tail(40));
			}
			if (System.nanoTime() - deadline > 0) {
				throw new IllegalStateException("Sample instance " + this + " did not start within " + timeout
						+ "; its log ends with:\n" + tail(40));
			}
			sleep(100);
		}
	}

	/** SIGKILL, and waits until the process is gone. */
	void kill() {
		this.process.destroyForcibly();
		awaitExit(Duration.ofSeconds(30));
		this.paused = false;
	}

	/** SIGTERM: Spring's graceful shutdown, in which Stream Lease hands its streams off. Returns at once. */
	void terminate() {
		this.process.destroy();
	}

	boolean awaitExit(Duration timeout) {
		try {
			return this.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	/** SIGSTOP. */
	void pause() {
		signal("STOP");
		this.paused = true;
	}

	/** SIGCONT. */
	void resume() {
		signal("CONT");
		this.paused = false;
	}

	List<String> lines() {
		return text().lines().toList();
	}

	/**
	 * When its engine finished handing its streams off on a graceful stop (from its log), and how many.
	 */
	Handoff handoff() {
		for (String line : lines()) {
			Matcher matcher = HANDOFF.matcher(line);
			if (matcher.find()) {
				try {
					return new Handoff(Instant.parse(matcher.group(1)).toEpochMilli(), Integer.parseInt(matcher.group(2)));
				}
				catch (RuntimeException ex) {
					return null;
				}
			}
		}
		return null;
	}

	record Handoff(long atMillis, int streams) {
	}

	/** The innermost cause the application logged (its last "Caused by:" line), or a placeholder. */
	String lastCause() {
		return lines().stream()
			.filter((line) -> line.startsWith("Caused by:"))
			.reduce((first, second) -> second)
			.orElse("(no cause logged)");
	}

	String tail(int count) {
		List<String> lines = lines();
		return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
	}

	private String text() {
		try {
			return Files.exists(this.log) ? Files.readString(this.log, StandardCharsets.UTF_8) : "";
		}
		catch (IOException ex) {
			return "";
		}
	}

	private void signal(String signal) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(this.process.pid())).start();
			if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
				throw new IllegalStateException("kill -" + signal + " " + this.process.pid() + " failed");
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while sending SIG" + signal, ex);
		}
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
	}

	@Override
	public String toString() {
		return this.consumerId + "#" + this.incarnation + " (pid " + this.process.pid() + ")";
	}

}
