package io.streamlease.test.redis;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code redis-server} executable this machine can run: the one on the PATH, or the one shipped inside the
 * embedded-redis jar for this operating system and architecture, extracted once per JVM.
 *
 * @param path the executable
 * @param version the version it reports or, for the embedded one before extraction, the one in its name
 * @param backend {@link RedisBackend#BINARY} or {@link RedisBackend#EMBEDDED}
 */
record RedisExecutable(Path path, String version, RedisBackend backend) {

	private static final Pattern VERSION = Pattern.compile("v=(\\d+\\.\\d+\\.\\d+)");

	/** The embedded-redis resources by {@code os-arch}; the file names are those inside the jar. */
	private static final Map<String, String> EMBEDDED_RESOURCES = Map.of(
			"linux-amd64", "redis-server-6.2.6-v5-linux-amd64",
			"linux-arm64", "redis-server-6.2.7-linux-arm64",
			"linux-386", "redis-server-6.2.7-linux-386",
			"darwin-amd64", "redis-server-6.2.6-v5-darwin-amd64",
			"darwin-arm64", "redis-server-6.2.6-v5-darwin-arm64");

	private static final Pattern RESOURCE_VERSION = Pattern.compile("redis-server-(\\d+\\.\\d+\\.\\d+)");

	private static volatile Optional<RedisExecutable> onPath;

	private static volatile RedisExecutable extracted;

	String description() {
		return (this.backend == RedisBackend.EMBEDDED) ? this.path + " extracted from embedded-redis"
				: this.path.toString();
	}

	/**
	 * The {@code redis-server} on the PATH and the version its {@code --version} reports, looked up once.
	 */
	static Optional<RedisExecutable> onPath() {
		Optional<RedisExecutable> result = onPath;
		if (result == null) {
			synchronized (RedisExecutable.class) {
				result = onPath;
				if (result == null) {
					result = findOnPath();
					onPath = result;
				}
			}
		}
		return result;
	}

	private static Optional<RedisExecutable> findOnPath() {
		String path = System.getenv("PATH");
		if (path == null) {
			return Optional.empty();
		}
		for (String entry : path.split(File.pathSeparator)) {
			if (entry.isEmpty()) {
				continue;
			}
			Path candidate = Path.of(entry, "redis-server");
			if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
				String version = reportedVersion(candidate);
				if (version != null) {
					return Optional.of(new RedisExecutable(candidate, version, RedisBackend.BINARY));
				}
			}
		}
		return Optional.empty();
	}

	private static String reportedVersion(Path executable) {
		try {
			Process process = new ProcessBuilder(executable.toString(), "--version").redirectErrorStream(true).start();
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(10, TimeUnit.SECONDS)) {
				process.destroyForcibly();
				return null;
			}
			Matcher matcher = VERSION.matcher(output);
			return matcher.find() ? matcher.group(1) : null;
		}
		catch (IOException ex) {
			return null;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return null;
		}
	}

	/**
	 * The name of the embedded-redis resource for this machine, if the jar has one.
	 */
	static Optional<String> embeddedResource() {
		String resource = EMBEDDED_RESOURCES.get(operatingSystem() + "-" + architecture());
		if (resource == null || RedisExecutable.class.getClassLoader().getResource(resource) == null) {
			return Optional.empty();
		}
		return Optional.of(resource);
	}

	/**
	 * The version in the name of the embedded-redis resource, if there is one for this machine. The binary
	 * may report a later patch release than its name says.
	 */
	static Optional<String> embeddedVersion() {
		return embeddedResource().map((resource) -> {
			Matcher matcher = RESOURCE_VERSION.matcher(resource);
			return matcher.find() ? matcher.group(1) : "";
		});
	}

	/**
	 * The embedded-redis binary for this machine, extracted to a temporary executable file on first use.
	 */
	static synchronized RedisExecutable embedded() {
		if (extracted != null) {
			return extracted;
		}
		String resource = embeddedResource().orElseThrow(() -> new IllegalStateException(
				"The embedded-redis jar has no redis-server for os.name=" + System.getProperty("os.name")
						+ ", os.arch=" + System.getProperty("os.arch")));
		try (InputStream in = RedisExecutable.class.getClassLoader().getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("Resource " + resource + " vanished from the embedded-redis jar");
			}
			Path file = Files.createTempFile("stream-lease-" + resource + "-", "");
			file.toFile().deleteOnExit();
			Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
			if (!file.toFile().setExecutable(true, true)) {
				throw new IllegalStateException("Could not make " + file + " executable");
			}
			String version = reportedVersion(file);
			extracted = new RedisExecutable(file, (version != null) ? version : embeddedVersion().orElse(""),
					RedisBackend.EMBEDDED);
			return extracted;
		}
		catch (IOException ex) {
			throw new IllegalStateException(
					"Could not extract " + resource + " from the embedded-redis jar to a temporary file", ex);
		}
	}

	private static String operatingSystem() {
		String name = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
		if (name.contains("linux")) {
			return "linux";
		}
		if (name.contains("mac") || name.contains("darwin")) {
			return "darwin";
		}
		return name;
	}

	private static String architecture() {
		String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
		return switch (arch) {
			case "amd64", "x86_64" -> "amd64";
			case "aarch64", "arm64" -> "arm64";
			case "x86", "i386", "i486", "i586", "i686" -> "386";
			default -> arch;
		};
	}

}
