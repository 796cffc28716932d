package io.streamlease.test.redis;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tracks the servers that are not closed yet and kills them in a JVM shutdown hook, so that no
 * {@code redis-server} outlives the test JVM (unless that JVM itself is killed with SIGKILL).
 */
final class ServerReaper {

	private static final Set<RedisServer> open = ConcurrentHashMap.newKeySet();

	static {
		Runtime.getRuntime().addShutdownHook(new Thread(ServerReaper::reapAll, "stream-lease-redis-reaper"));
	}

	private ServerReaper() {
	}

	static void track(RedisServer server) {
		open.add(server);
	}

	static void forget(RedisServer server) {
		open.remove(server);
	}

	private static void reapAll() {
		for (RedisServer server : open) {
			try {
				server.reap();
			}
			catch (RuntimeException ex) {
				// Best effort at shutdown: carry on with the other servers.
			}
		}
	}

}
