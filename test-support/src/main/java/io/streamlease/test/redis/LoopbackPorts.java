package io.streamlease.test.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Picks free ports on 127.0.0.1. A port is only free when picked, so callers retry if Redis then fails to
 * bind it. Never returns 6379 or 16379, the ports of a Redis that may already run on the machine.
 */
final class LoopbackPorts {

	/** Redis refuses a cluster port above this: the cluster bus listens 10000 higher. */
	private static final int MAX_CLUSTER_PORT = 55535;

	private static final int CLUSTER_BUS_OFFSET = 10000;

	private LoopbackPorts() {
	}

	/**
	 * Pick a free port; for a cluster node, one at most 55535 whose bus port (10000 higher) is free too.
	 */
	static int pick(boolean clusterNode) {
		for (int attempt = 0; attempt < 100; attempt++) {
			int port = bindAny();
			if (port == 6379 || port == 16379) {
				continue;
			}
			if (!clusterNode) {
				return port;
			}
			if (port <= MAX_CLUSTER_PORT && port + CLUSTER_BUS_OFFSET != 16379 && isFree(port + CLUSTER_BUS_OFFSET)) {
				return port;
			}
		}
		throw new IllegalStateException("Found no free loopback port" + (clusterNode
				? " at most " + MAX_CLUSTER_PORT + " with a free cluster bus port 10000 higher" : "") + " in 100 tries");
	}

	static boolean isFree(int port) {
		try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
			socket.setReuseAddress(true);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static int bindAny() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not bind any port on 127.0.0.1", ex);
		}
	}

}
