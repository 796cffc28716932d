package io.streamlease.test.redis;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;

/**
 * How one {@link RedisServer} is run by its backend: a child process or a container. The server decides the
 * port and the settings; the runtime adds its own network, directory and log arguments.
 */
interface ServerRuntime {

	RedisBackend backend();

	/**
	 * What runs the server, for logs and messages, such as {@code /usr/bin/redis-server}.
	 */
	String description();

	/**
	 * Start {@code redis-server} listening on the given loopback port; return without waiting for it to be
	 * ready. Called again after a stop or kill, always with the same port, file and settings.
	 * @param configFile the configuration file to pass as the first argument (a Sentinel's), or {@code null}
	 */
	void launch(int port, Path configFile, List<String> settings) throws IOException;

	/**
	 * Whether the server is running, paused or not.
	 */
	boolean isAlive();

	/**
	 * The process id that {@code INFO server} reports, when the runtime knows it.
	 */
	OptionalLong pid();

	/**
	 * Ask the server to exit (SIGTERM), and kill it if it has not exited within the grace period.
	 */
	void terminate(Duration grace);

	/**
	 * Kill the server (SIGKILL) and wait briefly for it to be gone.
	 */
	void kill();

	void pause();

	void resume();

	/**
	 * The last lines of the server's output, to explain a failure.
	 */
	String logTail(int lines);

	/**
	 * Everything the server has written to its log since its first launch (every restart in the same directory
	 * appends to it), for a test that keeps the logs of a run; empty if there is none.
	 */
	String log();

	/**
	 * Kill the server and free what the backend holds for it, such as its container; a later launch starts
	 * afresh. Must not block on locks: it runs in the shutdown hook.
	 */
	void release();

}
