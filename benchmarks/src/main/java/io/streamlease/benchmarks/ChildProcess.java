package io.streamlease.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A JVM started from this one's class path, whose output lines are collected, and that can be killed with
 * SIGKILL.
 */
final class ChildProcess implements AutoCloseable {

	private final Process process;

	private final List<String> lines = new CopyOnWriteArrayList<>();

	private ChildProcess(Process process) {
		this.process = process;
		Thread reader = new Thread(() -> {
			try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
				String line;
				while ((line = in.readLine()) != null) {
					this.lines.add(line);
				}
			}
			catch (IOException ex) {
				// the process ended
			}
		}, "child-output-" + process.pid());
		reader.setDaemon(true);
		reader.start();
	}

	/** Starts {@code mainClass} with {@code args} in a new JVM (heap limited to {@code maxHeap}). */
	static ChildProcess start(Class<?> mainClass, String maxHeap, String... args) {
		String java = ProcessHandle.current().info().command().orElse("java");
		List<String> command = new ArrayList<>();
		command.add(java);
		command.add("-Xmx" + maxHeap);
		command.add("-XX:+UseSerialGC");
		command.add("-XX:TieredStopAtLevel=1");
		command.add("-cp");
		command.add(classPath());
		command.add(mainClass.getName());
		command.addAll(List.of(args));
		try {
			return new ChildProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start " + mainClass.getSimpleName(), ex);
		}
	}

	private static String classPath() {
		StringBuilder absolute = new StringBuilder();
		for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
			if (absolute.length() > 0) {
				absolute.append(java.io.File.pathSeparator);
			}
			absolute.append(Path.of(entry).toAbsolutePath());
		}
		return absolute.toString();
	}

	/** Waits for a line starting with {@code prefix}. */
	void await(String prefix, Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (this.lines.stream().noneMatch((line) -> line.startsWith(prefix))) {
			if (!this.process.isAlive()) {
				throw new IllegalStateException("The child process ended before printing '" + prefix + "'; its output:\n"
						+ String.join("\n", this.lines));
			}
			if (System.nanoTime() - deadline > 0) {
				throw new IllegalStateException("The child process did not print '" + prefix + "' within " + timeout.toSeconds()
						+ " s; its output:\n" + String.join("\n", this.lines.subList(Math.max(0, this.lines.size() - 30), this.lines.size())));
			}
			Thread.sleep(10);
		}
	}

	/** Kills the process with SIGKILL and waits until it is gone. */
	void kill() throws InterruptedException {
		this.process.destroyForcibly();
		this.process.waitFor();
	}

	/** Writes one line to the process's standard input. */
	void send(String line) {
		try {
			this.process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
			this.process.getOutputStream().flush();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not write to the child process", ex);
		}
	}

	/** The value after {@code prefix} of the first line that starts with it, or null. */
	String valueOf(String prefix) {
		for (String line : this.lines) {
			if (line.startsWith(prefix)) {
				return line.substring(prefix.length()).trim();
			}
		}
		return null;
	}

	List<String> lines() {
		return List.copyOf(this.lines);
	}

	@Override
	public void close() {
		this.process.destroyForcibly();
	}

}
