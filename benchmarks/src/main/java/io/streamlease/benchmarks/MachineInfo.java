package io.streamlease.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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

	/** The commit of the repository at {@code root}, and whether the engine's sources differ from it. */
	static String commit(Path root) {
		String head = git(root, "rev-parse", "--short=12", "HEAD");
		if (head == null) {
			return "unknown (not a git checkout)";
		}
		String dirty = git(root, "status", "--porcelain", "--", "autoconfigure/src/main", "test-support/src/main");
		return head + ((dirty == null || dirty.isBlank()) ? " (engine sources unmodified)"
				: " (with uncommitted changes to the engine sources)");
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
