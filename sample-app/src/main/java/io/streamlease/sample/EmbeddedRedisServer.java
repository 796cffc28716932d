package io.streamlease.sample;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.core.ExecutableProvider;

/**
 * A Redis server process for the sample: the {@code redis-server} binary shipped inside the embedded-redis jar
 * (Redis 6.2, for Linux and macOS), started on a free loopback port (never assuming that 6379 is free) with
 * persistence off, its output in a temporary directory that is deleted on {@link #stop()}.
 */
final class EmbeddedRedisServer {

	/** The loopback address the server binds; also what the application connects to. */
	static final String HOST = "127.0.0.1";

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedRedisServer.class);

	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(15);

	private static final int START_ATTEMPTS = 5;

	private final Process process;

	private final int port;

	private final Path directory;

	private final File executable;

	private EmbeddedRedisServer(Process process, int port, Path directory, File executable) {
		this.process = process;
		this.port = port;
		this.directory = directory;
		this.executable = executable;
	}

	/**
	 * Extracts the binary and starts a server on a free port, retrying on another port if the chosen one was taken
	 * in the meantime; returns once the server answers PING.
	 * @throws IllegalStateException if no server could be started
	 */
	static EmbeddedRedisServer start() {
		File executable = extractExecutable();
		IllegalStateException failure = null;
		for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
			int port = freePort();
			Path directory = null;
			try {
				directory = Files.createTempDirectory("stream-lease-sample-redis-" + port + "-");
				File log = directory.resolve("redis.log").toFile();
				Process process = new ProcessBuilder(executable.getAbsolutePath(), "--port", Integer.toString(port),
						"--bind", HOST, "--save", "", "--appendonly", "no", "--dir", directory.toString())
					.redirectErrorStream(true)
					.redirectOutput(log)
					.start();
				EmbeddedRedisServer server = new EmbeddedRedisServer(process, port, directory, executable);
				String problem = server.awaitReady();
				if (problem == null) {
					return server;
				}
				server.stopProcess();
				deleteQuietly(directory);
				failure = new IllegalStateException("The embedded Redis (" + executable + ") did not start on port "
						+ port + ": " + problem);
				logger.debug("Embedded Redis attempt {} failed", attempt, failure);
			}
			catch (IOException ex) {
				deleteQuietly(directory);
				failure = new IllegalStateException("Could not run the embedded Redis (" + executable + "): " + ex, ex);
			}
		}
		deleteExecutable(executable);
		throw failure;
	}

	/** The port the server listens on, at {@link #HOST}. */
	int port() {
		return this.port;
	}

	/** The process id of the server. */
	long pid() {
		return this.process.pid();
	}

	/** Stops the server and deletes its files; does nothing if already stopped. */
	synchronized void stop() {
		if (stopProcess()) {
			logger.info("Stopped the embedded Redis on {}:{}", HOST, this.port);
		}
		deleteQuietly(this.directory);
		deleteExecutable(this.executable);
	}

	/** Stops the process; returns whether it was running. */
	private boolean stopProcess() {
		if (this.process.isAlive()) {
			this.process.destroy();
			try {
				if (!this.process.waitFor(5, TimeUnit.SECONDS)) {
					this.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
				}
			}
			catch (InterruptedException ex) {
				this.process.destroyForcibly();
				Thread.currentThread().interrupt();
			}
			return true;
		}
		return false;
	}

	/**
	 * Waits until the server answers PING; returns null when it does, else what went wrong.
	 */
	private String awaitReady() {
		long deadline = System.nanoTime() + STARTUP_TIMEOUT.toNanos();
		while (System.nanoTime() - deadline < 0) {
			if (!this.process.isAlive()) {
				return "it exited with code " + this.process.exitValue() + "; its output: " + output();
			}
			if (answersPing()) {
				return null;
			}
			try {
				Thread.sleep(20);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return "interrupted while waiting for it";
			}
		}
		return "it did not answer PING within " + STARTUP_TIMEOUT.toSeconds() + " s; its output: " + output();
	}

	private boolean answersPing() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(HOST, this.port), 200);
			socket.setSoTimeout(500);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			byte[] reply = new byte[5];
			InputStream in = socket.getInputStream();
			int read = 0;
			while (read < reply.length) {
				int n = in.read(reply, read, reply.length - read);
				if (n < 0) {
					return false;
				}
				read += n;
			}
			return "+PONG".equals(new String(reply, StandardCharsets.US_ASCII));
		}
		catch (IOException ex) {
			return false;
		}
	}

	private String output() {
		try {
			List<String> lines = Files.readAllLines(this.directory.resolve("redis.log"));
			return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
		}
		catch (IOException | UncheckedIOException ex) {
			return "(unreadable: " + ex.getMessage() + ")";
		}
	}

	private static File extractExecutable() {
		try {
			// embedded-redis extracts the binary for this OS and architecture to a new temporary directory
			return ExecutableProvider.newJarResourceProvider().get();
		}
		catch (IOException | RuntimeException ex) {
			throw new IllegalStateException("The embedded-redis jar has no Redis server for this machine (os.name="
					+ System.getProperty("os.name") + ", os.arch=" + System.getProperty("os.arch") + "): " + ex
					+ ". Run a Redis 6.2 or later yourself and set spring.data.redis.host and spring.data.redis.port.",
					ex);
		}
	}

	/**
	 * A port that is free on the loopback address now; never 6379, where another Redis may be about to start.
	 */
	private static int freePort() {
		for (int attempt = 0; attempt < 20; attempt++) {
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
				int port = socket.getLocalPort();
				if (port != 6379) {
					return port;
				}
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Could not find a free port on " + HOST, ex);
			}
		}
		throw new IllegalStateException("Could not find a free port on " + HOST);
	}

	/**
	 * Deletes the extracted binary, and its directory if that is left empty.
	 */
	private static void deleteExecutable(File executable) {
		try {
			Files.deleteIfExists(executable.toPath());
			Files.deleteIfExists(executable.toPath().getParent());
		}
		catch (IOException ex) {
			logger.debug("Could not delete {}", executable, ex);
		}
	}

	private static void deleteQuietly(Path path) {
		if (path == null || !Files.exists(path)) {
			return;
		}
		try (Stream<Path> files = Files.walk(path)) {
			files.sorted(Comparator.reverseOrder()).forEach((file) -> file.toFile().delete());
		}
		catch (IOException | UncheckedIOException ex) {
			logger.debug("Could not delete {}", path, ex);
		}
	}

	@Override
	public String toString() {
		return "embedded Redis " + HOST + ":" + this.port + " (pid " + this.process.pid() + ")";
	}

}
