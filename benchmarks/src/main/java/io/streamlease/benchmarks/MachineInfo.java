package io.streamlease.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * What the report says about the machine and the code measured: CPU, cores, memory, operating system, Java,
 * load average, and the git commit of the repository.
 */
final class MachineInfo {

	private MachineInfo() {
	}

	static Map<String, String> describe() {
		Map<String, String> machine = new LinkedHashMap<>();
		machine.put("CPU", cpuModel());
		machine.put("cores (available to the JVM)", Integer.toString(Runtime.getRuntime().availableProcessors()));
		machine.put("RAM", memory());
		machine.put("OS", System.getProperty("os.name") + " " + System.getProperty("os.version") + " ("
				+ System.getProperty("os.arch") + ")");
		machine.put("Java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version") + " ("
				+ System.getProperty("java.vendor") + ")");
		machine.put("JVM options", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
		machine.put("max heap", (Runtime.getRuntime().maxMemory() >> 20) + " MiB");
		return machine;
	}

	static double loadAverage() {
		return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
	}

	private static String cpuModel() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
				if (line.startsWith("model name")) {
					return line.substring(line.indexOf(':') + 1).trim();
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			// not Linux
		}
		return "unknown";
	}

	private static String memory() {
		try {
			for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
				if (line.startsWith("MemTotal:")) {
					long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
					return String.format(Locale.ROOT, "%.1f GiB", kib / 1024.0 / 1024.0);
				}
			}
		}
		catch (IOException | RuntimeException ex) {
			// not Linux
		}
		return "unknown";
	}

	/**
	 * The commit the benchmark jar was built from, as the build recorded it ({@code build-info.properties}, written
	 * by the benchmarks module's build from {@code git rev-parse HEAD} and {@code git status}), with "with
	 * uncommitted changes" when the tree had any at build time; the sample-app jar of scenario "shipped" is built in
	 * the same reactor. Without that resource (run from the IDE), the commit checked out at {@code root} now, said so.
	 */
	static String commit(Path root) {
		Properties build = new Properties();
		try (InputStream in = MachineInfo.class.getResourceAsStream("build-info.properties")) {
			if (in != null) {
				build.load(in);
			}
		}
		catch (IOException ex) {
			// fall back to git below
		}
		String commit = build.getProperty("commit");
		if (commit != null && !commit.isBlank() && !commit.equals("unknown")) {
			return commit + ("clean".equals(build.getProperty("tree")) ? "" : " with uncommitted changes")
					+ " (the tree the benchmark jar was built from, at " + build.getProperty("built", "?") + ")";
		}
		String head = git(root, "rev-parse", "--short=12", "HEAD");
		if (head == null) {
			return "unknown (not a git checkout, and the jar records no build commit)";
		}
		String dirty = git(root, "status", "--porcelain");
		return head + ((dirty == null || dirty.isBlank()) ? "" : " with uncommitted changes")
				+ " (checked out when the run started; the jar records no build commit)";
	}

	private static String git(Path root, String... args) {
		try {
			List<String> command = new java.util.ArrayList<>(List.of("git", "-C", root.toString()));
			command.addAll(List.of(args));
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			String out = new String(process.getInputStream().readAllBytes()).trim();
			if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
				return null;
			}
			return out;
		}
		catch (IOException ex) {
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return null;
		}
	}

}
