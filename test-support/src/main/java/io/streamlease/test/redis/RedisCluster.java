package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis Cluster for tests: masters, optionally each with replicas, every node a {@link RedisServer} of
 * its own that can be paused, killed and restarted (a restarted node keeps its {@code nodes.conf} and
 * rejoins). Obtain one from {@link RedisServers#startCluster(int)} or
 * {@link RedisServers#startCluster(int, int, RedisServerSpec)}; closing it closes every node.
 *
 * <p>The slots are split evenly between the masters in start order and never move between shards. Without
 * replicas, nodes run with {@code cluster-node-timeout 2000}: a master paused or down for longer is marked
 * failed and the cluster then refuses commands until it is back. With replicas, nodes run with
 * {@code cluster-node-timeout 1000}, {@code cluster-replica-validity-factor 0} (a replica always may take
 * over) and {@code repl-diskless-sync-delay 0}: after {@link #killMasterOf(String)} a replica of that shard
 * is promoted within a few seconds, which {@link #awaitPromotion(String, Duration)} waits for. Override any
 * of these with {@link RedisServerSpec#config(String, String)}. A promotion needs the votes of a majority
 * of the masters, so a cluster that should survive the loss of a master needs at least three.
 */
public final class RedisCluster implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(RedisCluster.class);

	private static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(30);

	private final List<RedisServer> nodes;

	private final List<Shard> shards;

	private final Map<RedisServer, String> nodeIds = new HashMap<>();

	private RedisCluster(List<RedisServer> nodes, List<Shard> shards) {
		this.nodes = List.copyOf(nodes);
		this.shards = List.copyOf(shards);
	}

	static RedisCluster start(int masters, int replicasPerMaster, RedisServerSpec spec) {
		if (masters < 1) {
			throw new IllegalArgumentException("A Redis Cluster needs at least one master, not " + masters);
		}
		if (replicasPerMaster < 0) {
			throw new IllegalArgumentException("A Redis Cluster master cannot have " + replicasPerMaster + " replicas");
		}
		RedisServerSpec nodeSpec = spec.clusterNode();
		if (replicasPerMaster > 0) {
			nodeSpec = nodeSpec.topologyConfig("cluster-node-timeout", "1000")
				.topologyConfig("cluster-replica-validity-factor", "0")
				.topologyConfig("repl-diskless-sync-delay", "0");
		}
		List<RedisServer> nodes = new ArrayList<>();
		try {
			List<Shard> shards = new ArrayList<>();
			for (int i = 0; i < masters; i++) {
				RedisServer master = RedisServers.start(nodeSpec);
				nodes.add(master);
				shards.add(new Shard(i * KeySlot.SLOTS / masters, (i + 1) * KeySlot.SLOTS / masters - 1, master));
			}
			for (int r = 0; r < replicasPerMaster; r++) {
				for (Shard shard : shards) {
					RedisServer replica = RedisServers.start(nodeSpec);
					nodes.add(replica);
					shard.members.add(replica);
				}
			}
			RedisCluster cluster = new RedisCluster(nodes, shards);
			cluster.form();
			logger.info("Started Redis Cluster of {} masters{} on {}", masters,
					(replicasPerMaster > 0) ? " with " + replicasPerMaster + " replica(s) each" : "",
					cluster.nodeAddresses());
			return cluster;
		}
		catch (RuntimeException ex) {
			nodes.forEach(RedisServer::close);
			throw ex;
		}
	}

	private void form() {
		RedisServer first = this.nodes.get(0);
		for (int i = 0; i < this.shards.size(); i++) {
			Shard shard = this.shards.get(i);
			shard.master.command("CLUSTER", "SET-CONFIG-EPOCH", Integer.toString(i + 1));
			assignSlots(shard.master, shard.firstSlot, shard.lastSlot);
		}
		for (RedisServer node : this.nodes) {
			this.nodeIds.put(node, (String) node.command("CLUSTER", "MYID"));
			if (node != first) {
				first.command("CLUSTER", "MEET", RedisServer.HOST, Integer.toString(node.port()));
			}
		}
		if (this.nodes.size() > this.shards.size()) {
			awaitEveryNodeKnown(Deadline.after(FORMATION_TIMEOUT));
			for (Shard shard : this.shards) {
				for (RedisServer replica : shard.replicas()) {
					replica.command("CLUSTER", "REPLICATE", this.nodeIds.get(shard.master));
				}
			}
			awaitReplicasKnown(Deadline.after(FORMATION_TIMEOUT));
			awaitReplicasInSync(FORMATION_TIMEOUT);
		}
		awaitStateOk(FORMATION_TIMEOUT);
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
	 * Wait until every node has met every other, so that a replica can be told which node to replicate.
	 */
	private void awaitEveryNodeKnown(Deadline deadline) {
		String expected = Integer.toString(this.nodes.size());
		while (true) {
			Map<Integer, String> known = new LinkedHashMap<>();
			for (RedisServer node : this.nodes) {
				String info = (String) node.command("CLUSTER", "INFO");
				known.put(node.port(), RedisServer.infoField(info, "cluster_known_nodes"));
			}
			if (known.values().stream().allMatch(expected::equals)) {
				return;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("Redis Cluster nodes " + nodeAddresses() + " did not all meet within "
						+ deadline.timeout() + "; known nodes by port: " + known);
			}
			deadline.pause("the Redis Cluster nodes to meet");
		}
	}

	/**
	 * Wait until every node sees every replica as a replica of its master: only then do the masters vote for
	 * it when its master fails.
	 */
	private void awaitReplicasKnown(Deadline deadline) {
		while (true) {
			List<String> unknown = new ArrayList<>();
			for (RedisServer node : this.nodes) {
				ClusterView view = ClusterView.of(node);
				for (Shard shard : this.shards) {
					String masterId = this.nodeIds.get(shard.master);
					for (RedisServer replica : shard.replicas()) {
						if (!masterId.equals(view.masterOf(this.nodeIds.get(replica)))) {
							unknown.add(node.port() + " sees " + replica.port() + " as "
									+ view.describe(this.nodeIds.get(replica)));
						}
					}
				}
			}
			if (unknown.isEmpty()) {
				return;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("Redis Cluster " + nodeAddresses() + " did not agree on its replicas within "
						+ deadline.timeout() + ": " + String.join("; ", unknown));
			}
			deadline.pause("the Redis Cluster nodes to agree on the replicas");
		}
	}

	/**
	 * Return every node: first the masters the cluster started with, in slot order (the first holds the
	 * lowest slots), then the replicas in the same order. The list never changes, whatever the roles
	 * become after a failover.
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
	 * Return the master of every shard in slot order, as last seen by this cluster: the masters it started
	 * with, unless {@link #awaitPromotion(String, Duration)} has seen a replica take over.
	 * @return the masters
	 */
	public List<RedisServer> masters() {
		return this.shards.stream().map((shard) -> shard.master).toList();
	}

	/**
	 * Return every node that is not one of the {@link #masters()}, running or not, in the order of
	 * {@link #nodes()}. After a promotion that includes the failed master, which rejoins as a replica of
	 * its successor when started again.
	 * @return the replicas
	 */
	public List<RedisServer> replicas() {
		List<RedisServer> masters = masters();
		return this.nodes.stream().filter((node) -> !masters.contains(node)).toList();
	}

	/**
	 * Return the master that holds the slot of the key (hash tags honoured), as last seen by this cluster
	 * (see {@link #masters()}).
	 * @param key a key
	 * @return the node owning its slot
	 */
	public RedisServer nodeForKey(String key) {
		return shardFor(KeySlot.of(key)).master;
	}

	private Shard shardFor(int slot) {
		for (Shard shard : this.shards) {
			if (slot >= shard.firstSlot && slot <= shard.lastSlot) {
				return shard;
			}
		}
		throw new IllegalStateException("No shard holds slot " + slot);
	}

	/**
	 * Kill the master that holds the slot of the key with SIGKILL, as {@link RedisServer#kill()} does, and
	 * return it; start it again with {@link RedisServer#start()}. Follow with
	 * {@link #awaitPromotion(String, Duration)}.
	 * @param key a key
	 * @return the killed master
	 */
	public RedisServer killMasterOf(String key) {
		Shard shard = shardFor(KeySlot.of(key));
		RedisServer master = shard.master;
		master.kill();
		logger.info("Killed master {}:{} of slots {}-{} in {}", master.host(), master.port(), shard.firstSlot,
				shard.lastSlot, this);
		return master;
	}

	/**
	 * Wait until every running, unpaused node agrees that one of them owns the slot of the key as master,
	 * and reports {@code cluster_state:ok}; then return that master, which {@link #nodeForKey(String)} and
	 * {@link #masters()} report from now on. After {@link #killMasterOf(String)} that is the promoted
	 * replica; if the master has not failed it is the master itself.
	 * @param key a key
	 * @param timeout how long to wait at most
	 * @return the master owning the key's slot
	 * @throws IllegalStateException if that is not the case in time; the message says what every node sees
	 */
	public RedisServer awaitPromotion(String key, Duration timeout) {
		int slot = KeySlot.of(key);
		Shard shard = shardFor(slot);
		Deadline deadline = Deadline.after(timeout);
		while (true) {
			List<RedisServer> live = this.nodes.stream().filter((node) -> node.isRunning() && !node.isPaused()).toList();
			Map<Integer, String> views = new LinkedHashMap<>();
			RedisServer owner = null;
			boolean agreed = !live.isEmpty();
			for (RedisServer node : live) {
				String state = clusterState(node);
				String ownerId = null;
				try {
					ownerId = ClusterView.of(node).ownerOf(slot);
				}
				catch (RuntimeException ex) {
					// Reported through its cluster state below.
				}
				RedisServer seenOwner = nodeWithId(ownerId);
				views.put(node.port(), "state " + state + ", owner "
						+ ((seenOwner != null) ? seenOwner.port() : Objects.toString(ownerId, "none")));
				if (!"ok".equals(state) || seenOwner == null || (owner != null && owner != seenOwner)) {
					agreed = false;
				}
				owner = (owner != null) ? owner : seenOwner;
			}
			if (agreed && live.contains(owner)) {
				if (shard.master != owner) {
					logger.info("Node {}:{} took over slots {}-{} from {}:{} ({} ms into the wait)", owner.host(),
							owner.port(), shard.firstSlot, shard.lastSlot, shard.master.host(), shard.master.port(),
							deadline.elapsed().toMillis());
				}
				shard.master = owner;
				return owner;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("No live node of Redis Cluster " + nodeAddresses() + " took over slot "
						+ slot + " (key '" + key + "') from " + shard.master.port() + " within " + timeout
						+ " (a promotion needs a running replica and the votes of a majority of masters); views by port: "
						+ views);
			}
			deadline.pause("a promotion in the Redis Cluster");
		}
	}

	private RedisServer nodeWithId(String id) {
		if (id == null) {
			return null;
		}
		return this.nodeIds.entrySet()
			.stream()
			.filter((entry) -> entry.getValue().equals(id))
			.map(Map.Entry::getKey)
			.findFirst()
			.orElse(null);
	}

	/**
	 * Wait until every running, unpaused replica (every node that is not one of the {@link #masters()})
	 * reports {@code master_link_status:up}, that is, has finished its initial synchronisation with its
	 * master.
	 * @param timeout how long to wait at most
	 * @throws IllegalStateException if a replica is not in sync in time
	 */
	public void awaitReplicasInSync(Duration timeout) {
		Deadline deadline = Deadline.after(timeout);
		while (true) {
			Map<Integer, String> lagging = new LinkedHashMap<>();
			for (RedisServer replica : replicas()) {
				if (replica.isRunning() && !replica.isPaused()) {
					String link = replica.replicationLinkStatus();
					if (!"up".equals(link)) {
						lagging.put(replica.port(), link);
					}
				}
			}
			if (lagging.isEmpty()) {
				return;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("Replicas of Redis Cluster " + nodeAddresses() + " not in sync within "
						+ timeout + "; master_link_status by port: " + lagging);
			}
			deadline.pause("the replicas of the Redis Cluster to synchronise");
		}
	}

	/**
	 * Wait until every node reports {@code cluster_state:ok}, for example after restarting a node.
	 * @param timeout how long to wait at most
	 * @throws IllegalStateException if a node is not running, or the state is not ok on every node in time
	 */
	public void awaitStateOk(Duration timeout) {
		Deadline deadline = Deadline.after(timeout);
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
			if (deadline.hasPassed()) {
				throw new IllegalStateException("Redis Cluster on " + nodeAddresses() + " did not reach cluster_state:ok"
						+ " on every node within " + timeout + "; states by port: "
						+ states.stream().collect(Collectors.joining(", ")));
			}
			deadline.pause("the Redis Cluster");
		}
	}

	private static String clusterState(RedisServer node) {
		try {
			String state = RedisServer.infoField((String) node.command("CLUSTER", "INFO"), "cluster_state");
			return (state != null) ? state : "unknown";
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

	/**
	 * A slot range with the nodes that serve it: the master and its replicas, the current master first seen
	 * by this cluster.
	 */
	private static final class Shard {

		private final int firstSlot;

		private final int lastSlot;

		private final List<RedisServer> members = new ArrayList<>();

		private volatile RedisServer master;

		Shard(int firstSlot, int lastSlot, RedisServer master) {
			this.firstSlot = firstSlot;
			this.lastSlot = lastSlot;
			this.master = master;
			this.members.add(master);
		}

		List<RedisServer> replicas() {
			return this.members.stream().filter((member) -> member != this.master).toList();
		}

	}

	/**
	 * One node's view of the cluster, from {@code CLUSTER NODES}: a line per node with its id, address,
	 * flags, master id ({@code -} for a master), ping and pong times, config epoch, link state and slots.
	 */
	private static final class ClusterView {

		private final Map<String, String[]> lines = new HashMap<>();

		static ClusterView of(RedisServer node) {
			ClusterView view = new ClusterView();
			((String) node.command("CLUSTER", "NODES")).lines()
				.map((line) -> line.trim().split(" "))
				.filter((fields) -> fields.length >= 8)
				.forEach((fields) -> view.lines.put(fields[0], fields));
			return view;
		}

		/**
		 * The id of the master this node sees as owning the slot, or {@code null} if none.
		 */
		String ownerOf(int slot) {
			for (String[] fields : this.lines.values()) {
				if (!hasFlag(fields, "master")) {
					continue;
				}
				for (int i = 8; i < fields.length; i++) {
					String range = fields[i];
					if (range.startsWith("[")) {
						continue;
					}
					int dash = range.indexOf('-');
					int from = Integer.parseInt((dash < 0) ? range : range.substring(0, dash));
					int to = (dash < 0) ? from : Integer.parseInt(range.substring(dash + 1));
					if (slot >= from && slot <= to) {
						return fields[0];
					}
				}
			}
			return null;
		}

		/**
		 * The id of the master of the given replica, or {@code null} if this node does not see it as a replica.
		 */
		String masterOf(String replicaId) {
			String[] fields = this.lines.get(replicaId);
			return (fields != null && hasFlag(fields, "slave")) ? fields[3] : null;
		}

		String describe(String id) {
			String[] fields = this.lines.get(id);
			return (fields != null) ? fields[2] + " of " + fields[3] : "unknown";
		}

		private static boolean hasFlag(String[] fields, String flag) {
			return List.of(fields[2].split(",")).contains(flag);
		}

	}

}
