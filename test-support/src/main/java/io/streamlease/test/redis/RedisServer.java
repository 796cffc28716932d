package io.streamlease.test.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis server for a test, listening on a free port of 127.0.0.1 with its own temporary directory.
 * Obtain one from {@link RedisServers}; close it when done (a JVM shutdown hook kills forgotten ones).
 *
 * <p>For fault tests the server can be {@linkplain #stop() stopped}, {@linkplain #kill() killed},
 * {@linkplain #pause() paused} and {@linkplain #start() started again}: it comes back on the same port,
 * with the same configuration and directory, so data survives when the spec has
 * {@linkplain RedisServerSpec#appendOnly(boolean) the append-only file} on.
 *
 * <p>Lifecycle methods are thread-safe; {@link #command(String...)} opens its own connection per call and
 * may run concurrently with them.
 */
public final class RedisServer implements AutoCloseable {

	static final String HOST = "127.0.0.1";

	private static final Logger logger = LoggerFactory.getLogger(RedisServer.class);

	private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);

	private static final Duration PROBE_TIMEOUT = Duration.ofMillis(500);

	private static final Duration STOP_GRACE = Duration.ofSeconds(10);

	private static final int PORT_ATTEMPTS = 5;

	private static final int LOG_LINES = 20;

	private static final String SENTINEL_CONFIG_FILE = "sentinel.conf";

	private final RedisServerSpec spec;

	private final ServerRuntime runtime;

	private final Path directory;

	private volatile int port;

	private volatile String version;

	private volatile boolean paused;

	private volatile boolean closed;

	RedisServer(RedisServerSpec spec, ServerRuntime runtime, Path directory) {
		this.spec = spec;
		this.runtime = runtime;
		this.directory = directory;
		ServerReaper.track(this);
	}

	/**
	 * First start: pick a free port and retry with another if Redis could not bind it. Closes the server if
	 * it cannot be started.
	 */
	void startOnFreePort() {
		try {
			for (int attempt = 1;; attempt++) {
				int candidate = LoopbackPorts.pick(this.spec.isClusterNode());
				try {
					writeSentinelConfig();
					launchAndAwaitReady(candidate);
					this.port = candidate;
					logStarted();
					return;
				}
				catch (StartFailure failure) {
					String log = this.runtime.logTail(LOG_LINES);
					this.runtime.release();
					if (!failure.portInUse || attempt == PORT_ATTEMPTS) {
						throw failure.toException(describe(candidate), log);
					}
					logger.debug("Port {} was taken before Redis could bind it; trying another", candidate);
				}
			}
		}
		catch (RuntimeException ex) {
			close();
			throw ex;
		}
	}

	/**
	 * Write a Sentinel's configuration file afresh before each first-start attempt; a later {@link #start()}
	 * keeps the file as the Sentinel rewrote it, with what it learnt about the group.
	 */
	private void writeSentinelConfig() {
		if (!this.spec.isSentinel()) {
			return;
		}
		try {
			Files.write(sentinelConfigFile(), this.spec.sentinelConfig(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not write the Sentinel configuration " + sentinelConfigFile(), ex);
		}
	}

	private Path sentinelConfigFile() {
		return this.directory.resolve(SENTINEL_CONFIG_FILE);
	}

	private void launchAndAwaitReady(int port) throws StartFailure {
		try {
			this.runtime.launch(port, this.spec.isSentinel() ? sentinelConfigFile() : null, this.spec.settings());
		}
		catch (IOException | RuntimeException ex) {
			throw new StartFailure("could not be launched: " + ex, ex, mentionsPortInUse(ex));
		}
		long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
		Exception last = null;
		while (true) {
			if (!this.runtime.isAlive()) {
				throw new StartFailure("exited during start-up", null,
						this.runtime.logTail(LOG_LINES).contains("Address already in use"));
			}
			try (RespConnection connection = RespConnection.open(HOST, port, PROBE_TIMEOUT)) {
				authenticate(connection);
				if ("PONG".equals(connection.call("PING"))) {
					String info = (String) connection.call("INFO", "server");
					OptionalLong pid = this.runtime.pid();
					String reportedPid = infoField(info, "process_id");
					if (pid.isPresent() && !Long.toString(pid.getAsLong()).equals(reportedPid)) {
						throw new StartFailure("found another Redis (pid " + reportedPid + ") answering on its port",
								null, true);
					}
					this.version = infoField(info, "redis_version");
					return;
				}
			}
			catch (IOException | RedisReplyException ex) {
				last = ex;
			}
			if (System.nanoTime() - deadline > 0) {
				throw new StartFailure("did not answer PING within " + READY_TIMEOUT.toSeconds() + " s (last error: "
						+ last + ")", last, false);
			}
			sleepBriefly();
		}
	}

	private static boolean mentionsPortInUse(Throwable ex) {
		for (Throwable cause = ex; cause != null; cause = cause.getCause()) {
			String message = String.valueOf(cause.getMessage()).toLowerCase(Locale.ROOT);
			if (message.contains("address already in use") || message.contains("port is already allocated")) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The value of a field in an {@code INFO} reply, or {@code null} if the reply has no such field.
	 */
	static String infoField(String info, String name) {
		return info.lines()
			.filter((line) -> line.startsWith(name + ":"))
			.map((line) -> line.substring(name.length() + 1).trim())
			.findFirst()
			.orElse(null);
	}

	private void authenticate(RespConnection connection) throws IOException {
		if (this.spec.password() != null) {
			connection.call("AUTH", this.spec.password());
		}
	}

	private static void sleepBriefly() {
		try {
			Thread.sleep(20);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while waiting for Redis to start", ex);
		}
	}

	private void logStarted() {
		logger.info("Started Redis {}{} on {}:{} with backend {} ({}){}", this.version,
				this.spec.isSentinel() ? " Sentinel" : "", HOST, this.port, this.runtime.backend(),
				this.runtime.description(), this.spec.isAppendOnly() ? ", appendonly" : "");
	}

	/**
	 * Return the address Redis listens on: always {@code 127.0.0.1}.
	 * @return the host
	 */
	public String host() {
		return HOST;
	}

	/**
	 * Return the port Redis listens on; it stays the same across {@link #restart()}.
	 * @return the port
	 */
	public int port() {
		return this.port;
	}

	/**
	 * Return the URI of the server, {@code redis://127.0.0.1:<port>}, without the password.
	 * @return the URI
	 */
	public String uri() {
		return "redis://" + HOST + ":" + this.port;
	}

	/**
	 * Return the version the server reported ({@code INFO server}, {@code redis_version}) when it last
	 * started, such as {@code 7.0.15}.
	 * @return the reported version
	 */
	public String version() {
		return this.version;
	}

	/**
	 * Return the backend that runs this server.
	 * @return the backend
	 */
	public RedisBackend backend() {
		return this.runtime.backend();
	}

	/**
	 * Return everything the server has written to its log since it was first started, across restarts (for a
	 * container, what the current container wrote), for example to keep it with a test's report before
	 * {@link #close()} deletes it.
	 * @return the log, empty if there is none
	 */
	public String log() {
		return this.runtime.log();
	}

	/**
	 * Start the server again after {@link #stop()} or {@link #kill()}, on the same port, with the same
	 * configuration and directory, and wait until it answers PING.
	 * @throws IllegalStateException if it is running, closed, or does not come up within 10 seconds
	 */
	public synchronized void start() {
		checkNotClosed();
		if (this.runtime.isAlive()) {
			throw new IllegalStateException(describe(this.port) + " is already running");
		}
		try {
			launchAndAwaitReady(this.port);
		}
		catch (StartFailure failure) {
			String log = this.runtime.logTail(LOG_LINES);
			this.runtime.kill();
			throw failure.toException(describe(this.port), log);
		}
		this.paused = false;
		logStarted();
	}

	/**
	 * Stop the server with SIGTERM ({@code docker stop} for a container), resuming it first if paused, and
	 * wait for it to exit (SIGKILL after 10 seconds). No RDB snapshot is written; data survives only in the
	 * append-only file, if on. Does nothing if the server is not running.
	 */
	public synchronized void stop() {
		if (!this.closed && this.runtime.isAlive()) {
			this.runtime.terminate(STOP_GRACE);
			logger.debug("Stopped {}", this);
		}
		this.paused = false;
	}

	/**
	 * Kill the server with SIGKILL ({@code docker kill} for a container) and wait for it to be gone. Does
	 * nothing if the server is not running.
	 */
	public synchronized void kill() {
		if (!this.closed && this.runtime.isAlive()) {
			this.runtime.kill();
			logger.debug("Killed {}", this);
		}
		this.paused = false;
	}

	/**
	 * {@linkplain #stop() Stop} the server if it is running, then {@linkplain #start() start} it again on the
	 * same port.
	 */
	public synchronized void restart() {
		stop();
		start();
	}

	/**
	 * Freeze the server with SIGSTOP ({@code docker pause} for a container): it keeps its port, connections
	 * are accepted by the kernel but nothing is answered until {@link #resume()}.
	 * @throws IllegalStateException if the server is not running
	 */
	public synchronized void pause() {
		checkNotClosed();
		if (!this.runtime.isAlive()) {
			throw new IllegalStateException("Cannot pause " + this + ": it is not running");
		}
		if (!this.paused) {
			this.runtime.pause();
			this.paused = true;
			logger.debug("Paused {}", this);
		}
	}

	/**
	 * Let a {@linkplain #pause() paused} server run again with SIGCONT ({@code docker unpause}). Does nothing
	 * if it is not paused.
	 */
	public synchronized void resume() {
		if (this.paused && !this.closed) {
			this.runtime.resume();
			logger.debug("Resumed {}", this);
		}
		this.paused = false;
	}

	/**
	 * Whether the server process (or container) is alive, paused or not.
	 * @return whether it is running
	 */
	public boolean isRunning() {
		return !this.closed && this.runtime.isAlive();
	}

	/**
	 * Whether the server is {@linkplain #pause() paused}.
	 * @return whether it is paused
	 */
	public boolean isPaused() {
		return this.paused;
	}

	/**
	 * Send one command on a new connection (authenticating first if the spec has a password) and return the
	 * reply: {@link String} for simple and bulk strings, {@link Long} for integers, {@link java.util.List} for
	 * arrays, {@code null} for nil. Connecting and reading are bounded by the spec's
	 * {@linkplain RedisServerSpec#commandTimeout(Duration) command timeout}.
	 * @param args the command and its arguments, such as {@code "CONFIG", "GET", "maxmemory"}
	 * @return the reply
	 * @throws RedisReplyException if Redis answers with an error
	 * @throws UncheckedIOException if Redis cannot be reached or does not answer in time (the cause is then a
	 * {@link java.net.SocketTimeoutException})
	 */
	public Object command(String... args) {
		if (args == null || args.length == 0) {
			throw new IllegalArgumentException("A Redis command needs at least its name");
		}
		checkNotClosed();
		try (RespConnection connection = RespConnection.open(HOST, this.port, this.spec.commandTimeout())) {
			authenticate(connection);
			return connection.call(args);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(
					"No reply to " + args[0] + " from " + this + " within " + this.spec.commandTimeout() + ": " + ex,
					ex);
		}
	}

	/**
	 * The {@code master_link_status} of a replica ({@code up} once its initial synchronisation is done), or
	 * why there is none, for the waits of clusters and Sentinel groups.
	 */
	String replicationLinkStatus() {
		try {
			String info = (String) command("INFO", "replication");
			String role = infoField(info, "role");
			return "slave".equals(role) ? infoField(info, "master_link_status") : "role " + role;
		}
		catch (RuntimeException ex) {
			return "unreachable (" + ex.getMessage() + ")";
		}
	}

	/**
	 * Kill the server and delete its directory. Does nothing if it is already closed.
	 */
	@Override
	public synchronized void close() {
		if (this.closed) {
			return;
		}
		this.closed = true;
		reap();
		ServerReaper.forget(this);
		logger.debug("Closed {}", this);
	}

	/**
	 * Kill the server and delete its directory without taking any lock; also run by the shutdown hook.
	 */
	void reap() {
		this.runtime.release();
		deleteDirectory();
	}

	private void deleteDirectory() {
		if (!Files.exists(this.directory)) {
			return;
		}
		try (Stream<Path> paths = Files.walk(this.directory)) {
			paths.sorted(Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
		}
		catch (IOException | UncheckedIOException ex) {
			logger.warn("Could not delete the Redis directory {}: {}", this.directory, ex.toString());
		}
	}

	private void checkNotClosed() {
		if (this.closed) {
			throw new IllegalStateException(this + " is closed");
		}
	}

	private String describe(int port) {
		return "Redis " + this.spec.version().label() + (this.spec.isSentinel() ? " Sentinel" : "") + " on " + HOST
				+ ":" + port + " (" + this.runtime.backend().name().toLowerCase(Locale.ROOT) + " "
				+ this.runtime.description() + ")";
	}

	@Override
	public String toString() {
		return describe(this.port);
	}

	/**
	 * Why a launch did not lead to a server answering PING.
	 */
	private static final class StartFailure extends Exception {

		private static final long serialVersionUID = 1L;

		private final boolean portInUse;

		StartFailure(String reason, Throwable cause, boolean portInUse) {
			super(reason, cause);
			this.portInUse = portInUse;
		}

		IllegalStateException toException(String server, String logTail) {
			String advice = this.portInUse ? " (its port is taken by another process)" : "";
			return new IllegalStateException(server + " " + getMessage() + advice + "; last lines of its log:\n"
					+ (logTail.isBlank() ? "(empty)" : logTail), getCause());
		}

	}

}
