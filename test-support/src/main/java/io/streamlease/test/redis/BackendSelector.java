package io.streamlease.test.redis;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Chooses how to run a server of a given {@link RedisVersion}: the backend forced by the system property
 * {@value RedisBackend#PROPERTY}, otherwise Docker, a {@code redis-server} on the PATH, then the binary
 * inside embedded-redis, whichever comes first that can provide the version. A spec that is
 * {@linkplain RedisServerSpec#isProcessOnly() for a child process only} skips Docker.
 */
final class BackendSelector {

	private BackendSelector() {
	}

	static boolean isAvailable(RedisVersion version) {
		return isAvailable(version, false);
	}

	/**
	 * Whether some backend can run the version, as a child process if {@code processOnly}.
	 */
	static boolean isAvailable(RedisVersion version, boolean processOnly) {
		return candidates().stream().anyMatch((backend) -> unavailableReason(backend, version, processOnly) == null);
	}

	static ServerRuntime runtimeFor(RedisServerSpec spec, Path directory) {
		RedisVersion version = spec.version();
		List<String> reasons = new ArrayList<>();
		for (RedisBackend backend : candidates()) {
			String reason = unavailableReason(backend, version, spec.isProcessOnly());
			if (reason == null) {
				return create(backend, spec, directory);
			}
			reasons.add(reason);
		}
		if (spec.isProcessOnly()) {
			throw new IllegalStateException("Cannot run Redis " + version.label() + " as a child process: "
					+ String.join("; ", reasons) + ". Install redis-server " + version.label()
					+ ".x on the PATH, or choose another version with -D" + RedisVersion.PROPERTY
					+ " (tests can check RedisServers.isSentinelGroupAvailable first)");
		}
		throw new IllegalStateException("Cannot run Redis " + version.label() + ": " + String.join("; ", reasons)
				+ ". Install it, start Docker, or choose another version with -D" + RedisVersion.PROPERTY
				+ " (tests can check RedisServers.isAvailable first)");
	}

	private static List<RedisBackend> candidates() {
		Optional<RedisBackend> forced = RedisBackend.forced();
		return forced.map(List::of).orElseGet(() -> List.of(RedisBackend.values()));
	}

	/**
	 * Why the backend cannot run the version, or {@code null} if it can.
	 */
	private static String unavailableReason(RedisBackend backend, RedisVersion version, boolean processOnly) {
		switch (backend) {
			case DOCKER:
				if (processOnly) {
					return RedisBackend.forced().isPresent()
							? "-D" + RedisBackend.PROPERTY + "=docker allows Docker only, but the members of a Sentinel group"
									+ " run as child processes (unset it, or set it to binary or embedded)"
							: "the members of a Sentinel group run as child processes, not in Docker";
				}
				return ContainerServerRuntime.isDockerAvailable() ? null : "no Docker daemon answers";
			case BINARY:
				Optional<RedisExecutable> onPath = RedisExecutable.onPath();
				if (onPath.isEmpty()) {
					return "no redis-server on the PATH";
				}
				return version.matches(onPath.get().version()) ? null
						: "redis-server on the PATH (" + onPath.get().path() + ") is " + onPath.get().version();
			case EMBEDDED:
				Optional<String> embedded = RedisExecutable.embeddedVersion();
				if (embedded.isEmpty()) {
					return "embedded-redis has no binary for os.name=" + System.getProperty("os.name") + ", os.arch="
							+ System.getProperty("os.arch");
				}
				return version.matches(embedded.get()) ? null
						: "the embedded-redis binary is " + embedded.get() + " by its name";
			default:
				throw new IllegalArgumentException("Unknown backend " + backend);
		}
	}

	private static ServerRuntime create(RedisBackend backend, RedisServerSpec spec, Path directory) {
		return switch (backend) {
			case DOCKER -> new ContainerServerRuntime(spec.version().dockerImage(), spec.isClusterNode());
			case BINARY -> new ProcessServerRuntime(RedisExecutable.onPath().orElseThrow(), directory);
			case EMBEDDED -> new ProcessServerRuntime(RedisExecutable.embedded(), directory);
		};
	}

}
