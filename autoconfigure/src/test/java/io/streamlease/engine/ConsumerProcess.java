package io.streamlease.engine;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * A consumer in a process of its own, so that tests can kill it (SIGKILL) or pause it (SIGSTOP) like a real
 * pod. It prints one line per event and tries a fenced checkpoint on each held stream every 100 ms, printing
 * whether Redis accepted it (only when that changes).
 * <p>
 * Arguments: redis uri, service, consumer id, hb-interval in ms.
 */
public final class ConsumerProcess {

	private ConsumerProcess() {
	}

	public static void main(String[] args) throws Exception {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(2);
		config.useSingleServer().setAddress(args[0]).setTimeout(1000).setRetryAttempts(1).setRetryInterval(100);
		RedissonClient redisson = Redisson.create(config);
		EngineSettings settings = EngineSettings.builder(args[1], args[2])
			.hbInterval(Duration.ofMillis(Long.parseLong(args[3])))
			.retry(new RetrySettings(-1, Duration.ofMillis(50), Duration.ofMillis(500)))
			.build();
		StreamLeaseEngine client = StreamLeaseEngine.create(redisson, settings);
		StreamEvents events = client.start();
		Map<String, LeasedStream> held = new ConcurrentHashMap<>();
		Set<String> rejected = ConcurrentHashMap.newKeySet();
		Thread writer = new Thread(() -> {
			while (true) {
				for (LeasedStream lease : held.values()) {
					try {
						lease.checkpoint("0-" + System.nanoTime(), Map.of("writer", args[2]));
						if (rejected.remove(lease.name())) {
							say("CHECKPOINT ACCEPTED " + lease.name() + " " + lease.fencingToken());
						}
					}
					catch (LeaseLostException ex) {
						if (rejected.add(lease.name())) {
							say("CHECKPOINT REJECTED " + lease.name() + " " + lease.fencingToken());
						}
					}
					catch (RuntimeException ex) {
						// Redis unreachable for a moment: try again
					}
				}
				try {
					Thread.sleep(100);
				}
				catch (InterruptedException ex) {
					return;
				}
			}
		});
		writer.setDaemon(true);
		writer.start();
		say("STARTED " + args[2]);
		while (true) {
			StreamEvent event = events.take();
			switch (event.type()) {
				case ADDED -> {
					held.put(event.stream(), event.lease());
					say("ADDED " + event.stream() + " " + event.lease().fencingToken());
				}
				case DISOWNED -> say("DISOWNED " + event.stream() + " " + event.lease().fencingToken());
				case EXPIRED -> say("EXPIRED " + event.stream());
				case TERMINATED -> {
					say("TERMINATED " + event.reason());
					redisson.shutdown();
					return;
				}
			}
		}
	}

	private static void say(String line) {
		System.out.println(line);
		System.out.flush();
	}

}
