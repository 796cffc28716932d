package io.streamlease.test.redis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@code redis-server} executable as a child process in the server's own directory, and signals it
 * with {@code kill -STOP} / {@code kill -CONT} to pause and resume it.
 */
final class ProcessServerRuntime implements ServerRuntime {

	private static final Logger logger = LoggerFactory.getLogger(ProcessServerRuntime.class);

	static final String LOG_FILE = "redis.log";

	static final String CONSOLE_FILE = "console.log";

	private static final Duration EXIT_WAIT = Duration.ofSeconds(5);

	private final RedisExecutable executable;

	private final Path directory;

	private volatile Process process;

	private volatile long consoleOffset;

	private volatile long logOffset;

	ProcessServerRuntime(RedisExecutable executable, Path directory) {
		this.executable = executable;
		this.directory = directory;
	}

	@Override
	public RedisBackend backend() {
		return this.executable.backend();
	}

	@Override
	public String description() {
		return this.executable.description();
	}

	@Override
	public void launch(int port, Path configFile, List<String> settings) throws IOException {
		List<String> command = new ArrayList<>(List.of(this.executable.path().toString()));
		if (configFile != null) {
			command.add(configFile.toAbsolutePath().toString());
		}
		command.addAll(List.of("--port", Integer.toString(port), "--bind", RedisServer.HOST, "--daemonize", "no",
				"--dir", this.directory.toAbsolutePath().toString(), "--logfile", LOG_FILE));
		command.addAll(settings);
		ProcessBuilder builder = new ProcessBuilder(command).directory(this.directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(this.directory.resolve(CONSOLE_FILE).toFile()));
		this.consoleOffset = sizeOf(this.directory.resolve(CONSOLE_FILE));
		this.logOffset = sizeOf(this.directory.resolve(LOG_FILE));
		this.process = builder.start();
	}

	@Override
	public boolean isAlive() {
		Process current = this.process;
		return current != null && current.isAlive();
	}

	@Override
	public OptionalLong pid() {
		Process current = this.process;
		return (current != null) ? OptionalLong.of(current.pid()) : OptionalLong.empty();
	}

	@Override
	public void terminate(Duration grace) {
		Process current = this.process;
		if (current == null || !current.isAlive()) {
			return;
		}
		signal(current, "CONT");
		current.destroy();
		if (!waitForExit(current, grace)) {
			logger.warn("Redis process {} did not exit within {} of SIGTERM; killing it", current.pid(), grace);
			current.destroyForcibly();
			waitForExit(current, EXIT_WAIT);
		}
	}

	@Override
	public void kill() {
		Process current = this.process;
		if (current != null && current.isAlive()) {
			current.destroyForcibly();
			if (!waitForExit(current, EXIT_WAIT)) {
				throw new IllegalStateException("Redis process " + current.pid() + " survived SIGKILL for " + EXIT_WAIT);
			}
		}
	}

	@Override
	public void pause() {
		signalAlive("STOP");
	}

	@Override
	public void resume() {
		signalAlive("CONT");
	}

	private void signalAlive(String signal) {
		Process current = this.process;
		if (current == null || !current.isAlive()) {
			throw new IllegalStateException("Cannot send SIG" + signal + ": the Redis process is not running");
		}
		signal(current, signal);
	}

	private static void signal(Process target, String signal) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(target.pid()))
				.redirectErrorStream(true)
				.start();
			String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
			if (!kill.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS) || kill.exitValue() != 0) {
				throw new IllegalStateException(
						"Could not send SIG" + signal + " to Redis process " + target.pid() + ": " + output);
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not run 'kill -" + signal + "' for Redis process " + target.pid()
					+ "; is the kill command on the PATH?", ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while sending SIG" + signal + " to Redis", ex);
		}
	}

	private static boolean waitForExit(Process target, Duration timeout) {
		try {
			return target.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return !target.isAlive();
		}
	}

	/**
	 * The last lines that the latest launch wrote to the console and to the Redis log.
	 */
	@Override
	public String logTail(int lines) {
		String console = tail(this.directory.resolve(CONSOLE_FILE), this.consoleOffset, lines);
		String log = tail(this.directory.resolve(LOG_FILE), this.logOffset, lines);
		if (console.isEmpty()) {
			return log;
		}
		return console + (log.isEmpty() ? "" : "\n" + log);
	}

	@Override
	public String log() {
		return tail(this.directory.resolve(LOG_FILE), 0, Integer.MAX_VALUE);
	}

	private static long sizeOf(Path file) throws IOException {
		return Files.exists(file) ? Files.size(file) : 0;
	}

	private static String tail(Path file, long offset, int lines) {
		try {
			if (!Files.exists(file)) {
				return "";
			}
			byte[] bytes = Files.readAllBytes(file);
			int from = (int) Math.min(offset, bytes.length);
			List<String> all = new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8).lines()
				.filter((line) -> !line.isBlank())
				.toList();
			return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
		}
		catch (IOException | RuntimeException ex) {
			return "(could not read " + file + ": " + ex.getMessage() + ")";
		}
	}

	@Override
	public void release() {
		Process current = this.process;
		if (current != null && current.isAlive()) {
			current.destroyForcibly();
			waitForExit(current, EXIT_WAIT);
		}
	}

}
