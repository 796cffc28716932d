package io.streamlease.engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Consumers in processes of their own, killed with SIGKILL or paused with SIGSTOP, as pods are.
 */
class ConsumerProcessTests extends EngineTestSupport {

	private final List<Child> children = new CopyOnWriteArrayList<>();

	@AfterEach
	void killChildren() {
		for (Child child : this.children) {
			child.process.destroyForcibly();
		}
	}

	@Test
	void aKilledOwnerProcessIsReplacedAfterItsLeaseLapses() throws Exception {
		Child owner = spawn("owner");
		producer().submit("victim", null);
		await().atMost(10, TimeUnit.SECONDS).until(() -> owner.saw("ADDED victim"));
		Running peer = start("peer");
		long killed = System.nanoTime();
		signal(owner, "KILL");
		await().atMost(HB.multipliedBy(3)).until(() -> peer.added.containsKey("victim"));
		Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
		assertThat(takeover).isLessThan(HB.multipliedBy(5).dividedBy(4).plusMillis(800));
		assertThat(peer.added.get("victim").recovered()).isTrue();
	}

	@Test
	void aPausedOwnerFindsItselfDisownedWhenItWakesAndItsFencedWritesAreRejected() throws Exception {
		Child owner = spawn("sleeper");
		producer().submit("nap", null);
		await().atMost(10, TimeUnit.SECONDS).until(() -> owner.saw("ADDED nap"));
		await().atMost(5, TimeUnit.SECONDS).until(() -> "sleeper".equals(redis.command("HGET", keys().checkpoint("nap"), "state:writer")));
		Running peer = start("peer");

		signal(owner, "STOP");
		try {
			await().atMost(HB.multipliedBy(3)).until(() -> peer.added.containsKey("nap"));
			LeasedStream taken = peer.added.get("nap");
			taken.checkpoint("1-0", java.util.Map.of("writer", "peer"));
		}
		finally {
			signal(owner, "CONT");
		}
		await().atMost(HB.multipliedBy(2)).until(() -> owner.saw("DISOWNED nap"));
		await().atMost(HB).until(() -> owner.saw("CHECKPOINT REJECTED nap"));
		await().during(Duration.ofMillis(500)).atMost(2, TimeUnit.SECONDS)
			.until(() -> "peer".equals(redis.command("HGET", keys().checkpoint("nap"), "state:writer")));
		assertThat(owner.lines).noneMatch((line) -> line.startsWith("CHECKPOINT ACCEPTED"));
		assertThat(peer.client.ownedStreams()).extracting(LeasedStream::name).containsExactly("nap");
	}

	private Child spawn(String consumer) throws IOException {
		String java = ProcessHandle.current().info().command().orElse("java");
		ProcessBuilder builder = new ProcessBuilder(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"),
				ConsumerProcess.class.getName(), redis.uri(), this.service, consumer, Long.toString(HB.toMillis()));
		builder.redirectErrorStream(true);
		Child child = new Child(builder.start());
		this.children.add(child);
		await().atMost(20, TimeUnit.SECONDS).until(() -> child.saw("STARTED"));
		return child;
	}

	private static void signal(Child child, String signal) throws Exception {
		Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(child.process.pid())).start();
		assertThat(kill.waitFor(5, TimeUnit.SECONDS)).isTrue();
		assertThat(kill.exitValue()).isZero();
	}

	private static final class Child {

		final Process process;

		final List<String> lines = new CopyOnWriteArrayList<>();

		Child(Process process) {
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
			});
			reader.setDaemon(true);
			reader.start();
		}

		boolean saw(String prefix) {
			return this.lines.stream().anyMatch((line) -> line.startsWith(prefix));
		}

	}

}
