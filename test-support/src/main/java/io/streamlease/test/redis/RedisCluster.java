package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis Cluster of masters without replicas for tests, every node a {@link RedisServer} of its own that
 * can be paused, killed and restarted (a restarted node keeps its {@code nodes.conf} and rejoins). Obtain
 * one from {@link RedisServers#startCluster(int)}; closing it closes every node.
 *
 * <p>Nodes run with {@code cluster-node-timeout 2000} (override it with
 * {@link RedisServerSpec#config(String, String)}): a node paused or down for longer is marked failed, and
 * as there are no replicas the cluster then refuses commands until it is back. The timeout also bounds how
 * long a freshly formed cluster may wait before reporting {@code cluster_state:ok}. The slots are split
 * evenly in node order and never move, so {@link #nodeForKey(String)} knows where a key lives.
 */
public final class RedisCluster implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(RedisCluster.class);

	private static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(30);

	private final List<RedisServer> nodes;

	private RedisCluster(List<RedisServer> nodes) {
		this.nodes = List.copyOf(nodes);
	}

	static RedisCluster start(int masters, RedisServerSpec spec) {
		if (masters < 1) {
			throw new IllegalArgumentException("A Redis Cluster needs at least one master, not " + masters);
		}
		RedisServerSpec nodeSpec = spec.clusterNode();
		List<RedisServer> nodes = new ArrayList<>();
		try {
			for (int i = 0; i < masters; i++) {
				nodes.add(RedisServers.start(nodeSpec));
			}
			RedisCluster cluster = new RedisCluster(nodes);
			cluster.form();
			logger.info("Started Redis Cluster of {} masters on {}", masters, cluster.nodeAddresses());
			return cluster;
		}
		catch (RuntimeException ex) {
			nodes.forEach(RedisServer::close);
			throw ex;
		}
	}

	private void form() {
		RedisServer first = this.nodes.get(0);
		for (int i = 0; i < this.nodes.size(); i++) {
			RedisServer node = this.nodes.get(i);
			node.command("CLUSTER", "SET-CONFIG-EPOCH", Integer.toString(i + 1));
			assignSlots(node, firstSlot(i), firstSlot(i + 1) - 1);
			if (i > 0) {
				first.command("CLUSTER", "MEET", RedisServer.HOST, Integer.toString(node.port()));
			}
		}
		awaitStateOk(FORMATION_TIMEOUT);
	}

	private int firstSlot(int node) {
		return node * KeySlot.SLOTS / this.nodes.size();
	}

	/**
	 * Assign a slot range with {@code ADDSLOTSRANGE}, or slot by slot on Redis before 7.0, which lacks it.
	 */
	private static void assignSlots(RedisServer node, int from, int to) {
		int major = Integer.parseInt(node.version().substring(0, node.version().indexOf('.')));
		if (major >= 7) {
			node.command("CLUSTER", "ADDSLOTSRANGE", Integer.toString(from), Integer.toString(to));
			return;
		}
		List<String> args = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
		IntStream.rangeClosed(from, to).mapToObj(Integer::toString).forEach(args::add);
		node.command(args.toArray(String[]::new));
	}

	/**
	 * Return the nodes in slot order: the first holds the lowest slots.
	 * @return the nodes
	 */
	public List<RedisServer> nodes() {
		return this.nodes;
	}

	/**
	 * Return the node addresses as {@code 127.0.0.1:<port>}, in the order of {@link #nodes()}.
	 * @return the addresses
	 */
	public List<String> nodeAddresses() {
		return this.nodes.stream().map((node) -> node.host() + ":" + node.port()).toList();
	}

	/**
	 * Return the node that holds the slot of the key (hash tags honoured).
	 * @param key a key
	 * @return the node owning its slot
	 */
	public RedisServer nodeForKey(String key) {
		int slot = KeySlot.of(key);
		for (int i = this.nodes.size() - 1; i >= 0; i--) {
			if (slot >= firstSlot(i)) {
				return this.nodes.get(i);
			}
		}
		throw new IllegalStateException("No node holds slot " + slot);
	}

	/**
	 * Wait until every node reports {@code cluster_state:ok}, for example after restarting a node.
	 * @param timeout how long to wait at most
	 * @throws IllegalStateException if a node is not running, or the state is not ok on every node in time
	 */
	public void awaitStateOk(Duration timeout) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (true) {
			List<String> states = new ArrayList<>();
			for (RedisServer node : this.nodes) {
				if (!node.isRunning()) {
					throw new IllegalStateException("Cluster node " + node + " is not running; start it first");
				}
				states.add(node.port() + "=" + clusterState(node));
			}
			if (states.stream().allMatch((state) -> state.endsWith("=ok"))) {
				return;
			}
			if (System.nanoTime() - deadline > 0) {
				throw new IllegalStateException("Redis Cluster on " + nodeAddresses() + " did not reach cluster_state:ok"
						+ " on every node within " + timeout + "; states by port: "
						+ states.stream().collect(Collectors.joining(", ")));
			}
			try {
				Thread.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("Interrupted while waiting for the Redis Cluster", ex);
			}
		}
	}

	private static String clusterState(RedisServer node) {
		try {
			String info = (String) node.command("CLUSTER", "INFO");
			return info.lines()
				.filter((line) -> line.startsWith("cluster_state:"))
				.map((line) -> line.substring("cluster_state:".length()).trim())
				.findFirst()
				.orElse("unknown");
		}
		catch (RuntimeException ex) {
			return "unreachable (" + ex.getMessage() + ")";
		}
	}

	/**
	 * Close every node.
	 */
	@Override
	public void close() {
		this.nodes.forEach(RedisServer::close);
	}

	@Override
	public String toString() {
		return "RedisCluster" + nodeAddresses();
	}

}
