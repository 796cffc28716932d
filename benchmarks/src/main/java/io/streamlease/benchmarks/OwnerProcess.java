package io.streamlease.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.RetrySettings;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseEngine;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;

/**
 * The owner in the failover scenario: a consumer in a process of its own, so that it can be killed with SIGKILL
 * like a crashed pod. It takes the streams announced on the LBS, prints {@code STARTED} once running and
 * {@code HOLDING <n>} once it holds the expected number, and runs until killed.
 * <p>
 * Arguments: redis uri (or {@code cluster:host:port,...} for a Redis Cluster), service (or several, comma-separated:
 * one engine each on one Redisson client, as one pod), consumer id, hb-interval in ms, expected number of streams
 * (per service), and optionally {@code handoff}.
 * <p>
 * With {@code handoff} (the handoff scenario) it uses the harness's Redisson configuration ({@link RedissonClients})
 * and waits for a line on its standard input: {@code CLOSE} closes its engines, {@code STOP_READING} calls
 * {@code stopReading()} first; it prints {@code CLOSING <epoch us>} right before {@code close()} and
 * {@code CLOSED <epoch us>} after it.
 */
public final class OwnerProcess {

	/** The prefix of the first argument that names the nodes of a Redis Cluster: {@code cluster:host:port,host:port}. */
	static final String CLUSTER = "cluster:";

	private OwnerProcess() {
	}

	public static void main(String[] args) throws Exception {
		int expected = Integer.parseInt(args[4]);
		boolean handoff = args.length > 5 && args[5].equals("handoff");
		RedissonClient redisson = handoff ? RedissonClients.create(args[0]) : failoverClient(args[0]);
		List<StreamLeaseEngine> clients = new ArrayList<>();
		LongAdder added = new LongAdder();
		for (String service : args[1].split(",")) {
			EngineSettings.Builder builder = EngineSettings.builder(service, args[2])
				.hbInterval(Duration.ofMillis(Long.parseLong(args[3])))
				.maxConcurrentStreams(Math.max(expected, 10_000))
				.outputChannelSize(10_000);
			if (!handoff) {
				// the handoff scenario keeps the default retries, as its report says
				builder.retry(new RetrySettings(-1, Duration.ofMillis(50), Duration.ofMillis(500)));
			}
			EngineSettings settings = builder.build();
			StreamLeaseEngine client = StreamLeaseEngine.create(redisson, settings);
			clients.add(client);
			StreamEvents events = client.start();
			Thread drainer = new Thread(() -> {
				try {
					while (true) {
						StreamEvent event = events.take();
						if (event.type() == StreamEvent.Type.ADDED) {
							added.increment();
						}
						else if (event.type() == StreamEvent.Type.DISOWNED) {
							say("DISOWNED " + event.stream());
						}
						else if (event.type() == StreamEvent.Type.TERMINATED) {
							say("TERMINATED " + event.reason());
							return;
						}
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}, "owner-events-" + service);
			drainer.setDaemon(true);
			drainer.start();
		}
		if (handoff) {
			Thread closer = new Thread(() -> closeOnCommand(clients), "owner-commands");
			closer.setDaemon(true);
			closer.start();
		}
		say("STARTED " + args[2]);
		boolean announced = false;
		long total = (long) expected * clients.size();
		while (true) {
			if (!announced && added.sum() >= total && clients.stream().allMatch((c) -> c.ownedStreams().size() >= expected)) {
				say("HOLDING " + clients.stream().mapToInt((c) -> c.ownedStreams().size()).sum());
				announced = true;
			}
			Thread.sleep(20);
		}
	}

	/** The failover owner's client: 2 threads, 3 s timeout, 2 retries 100 ms apart; a Cluster client for "cluster:". */
	private static RedissonClient failoverClient(String uri) {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(2);
		if (uri.startsWith(CLUSTER)) {
			config.useClusterServers()
				.addNodeAddress(Arrays.stream(uri.substring(CLUSTER.length()).split(",")).map((a) -> "redis://" + a)
					.toArray(String[]::new))
				.setReadMode(ReadMode.MASTER)
				.setSlaveConnectionMinimumIdleSize(0)
				.setTimeout(3000)
				.setRetryAttempts(2)
				.setRetryInterval(100);
		}
		else {
			config.useSingleServer().setAddress(uri).setTimeout(3000).setRetryAttempts(2).setRetryInterval(100);
		}
		return Redisson.create(config);
	}

	/** Reads one command from standard input and closes the engines as it says (handoff on close). */
	private static void closeOnCommand(List<StreamLeaseEngine> clients) {
		try {
			String command = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
			if ("STOP_READING".equals(command)) {
				clients.forEach(StreamLeaseEngine::stopReading);
			}
			say("CLOSING " + epochMicros());
			clients.forEach(StreamLeaseEngine::close);
			say("CLOSED " + epochMicros());
		}
		catch (IOException ex) {
			say("FAILED " + ex);
		}
	}

	/** The wall clock in microseconds (the same clock for every process of this machine). */
	static long epochMicros() {
		Instant now = Instant.now();
		return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
	}

	private static void say(String line) {
		System.out.println(line);
		System.out.flush();
	}

}
