package io.streamlease.test.redis;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs the official {@code redis} image with Testcontainers. Redis listens inside the container on the same
 * port number as on the host, bound to 127.0.0.1 with a fixed port binding, so that a stopped container
 * started again keeps its port and its {@code /data}. Cluster nodes use host networking instead (Linux
 * engines only), so that nodes reach each other's cluster bus on 127.0.0.1.
 *
 * <p><strong>Untested where this library was written (no Docker engine there)</strong>: stop, kill, start,
 * pause and resume are {@code docker stop}, {@code kill}, {@code start}, {@code pause} and {@code unpause}
 * of one container; closing removes it.
 */
final class ContainerServerRuntime implements ServerRuntime {

	private static final Logger logger = LoggerFactory.getLogger(ContainerServerRuntime.class);

	private static volatile Boolean dockerAvailable;

	private final String image;

	private final boolean hostNetwork;

	private volatile GenericContainer<?> container;

	ContainerServerRuntime(String image, boolean hostNetwork) {
		this.image = image;
		this.hostNetwork = hostNetwork;
	}

	/**
	 * Whether a Docker daemon answers; asked once per JVM (about 0.4 s when there is none).
	 */
	static boolean isDockerAvailable() {
		Boolean available = dockerAvailable;
		if (available == null) {
			synchronized (ContainerServerRuntime.class) {
				available = dockerAvailable;
				if (available == null) {
					try {
						available = DockerClientFactory.instance().isDockerAvailable();
					}
					catch (Throwable ex) {
						logger.debug("Docker is not usable: {}", ex.toString());
						available = false;
					}
					dockerAvailable = available;
				}
			}
		}
		return available;
	}

	@Override
	public RedisBackend backend() {
		return RedisBackend.DOCKER;
	}

	@Override
	public String description() {
		return this.image + (this.hostNetwork ? " with host network" : "");
	}

	@Override
	public void launch(int port, Path configFile, List<String> settings) {
		if (configFile != null) {
			throw new IllegalStateException("A Redis configuration file (" + configFile
					+ ") cannot be passed to a container; Sentinels run as child processes only");
		}
		GenericContainer<?> current = this.container;
		if (current != null) {
			docker().startContainerCmd(current.getContainerId()).exec();
			return;
		}
		List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
				this.hostNetwork ? RedisServer.HOST : "0.0.0.0", "--dir", "/data"));
		command.addAll(settings);
		GenericContainer<?> created = new GenericContainer<>(DockerImageName.parse(this.image))
			.withCommand(command.toArray(String[]::new))
			.waitingFor(new NoWait());
		if (this.hostNetwork) {
			created.withNetworkMode("host");
		}
		else {
			ExposedPort exposed = ExposedPort.tcp(port);
			created.withCreateContainerCmdModifier((create) -> {
				create.withExposedPorts(exposed);
				create.getHostConfig()
					.withPortBindings(new PortBinding(Ports.Binding.bindIpAndPort(RedisServer.HOST, port), exposed));
			});
		}
		this.container = created;
		created.start();
	}

	private DockerClient docker() {
		return DockerClientFactory.instance().client();
	}

	private InspectContainerResponse.ContainerState state() {
		GenericContainer<?> current = this.container;
		if (current == null || current.getContainerId() == null) {
			return null;
		}
		return docker().inspectContainerCmd(current.getContainerId()).exec().getState();
	}

	@Override
	public boolean isAlive() {
		InspectContainerResponse.ContainerState state = state();
		return state != null && Boolean.TRUE.equals(state.getRunning());
	}

	private boolean isPaused() {
		InspectContainerResponse.ContainerState state = state();
		return state != null && Boolean.TRUE.equals(state.getPaused());
	}

	@Override
	public OptionalLong pid() {
		return OptionalLong.empty();
	}

	@Override
	public void terminate(Duration grace) {
		if (isAlive()) {
			if (isPaused()) {
				resume();
			}
			docker().stopContainerCmd(this.container.getContainerId())
				.withTimeout((int) Math.max(1, grace.toSeconds()))
				.exec();
		}
	}

	@Override
	public void kill() {
		if (isAlive()) {
			if (isPaused()) {
				resume();
			}
			docker().killContainerCmd(this.container.getContainerId()).exec();
		}
	}

	@Override
	public void pause() {
		docker().pauseContainerCmd(this.container.getContainerId()).exec();
	}

	@Override
	public void resume() {
		docker().unpauseContainerCmd(this.container.getContainerId()).exec();
	}

	@Override
	public String logTail(int lines) {
		GenericContainer<?> current = this.container;
		if (current == null || current.getContainerId() == null) {
			return "";
		}
		try {
			List<String> all = current.getLogs().lines().toList();
			return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
		}
		catch (RuntimeException ex) {
			return "(could not read the container's log: " + ex.getMessage() + ")";
		}
	}

	@Override
	public String log() {
		return logTail(Integer.MAX_VALUE);
	}

	@Override
	public void release() {
		GenericContainer<?> current = this.container;
		this.container = null;
		if (current != null) {
			current.stop();
		}
	}

	/**
	 * Testcontainers must not wait on its own: {@link RedisServer} waits for PING, and sees an exited
	 * container at once.
	 */
	private static final class NoWait extends AbstractWaitStrategy {

		@Override
		protected void waitUntilReady() {
		}

	}

}
