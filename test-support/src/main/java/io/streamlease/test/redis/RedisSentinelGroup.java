package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Redis Sentinel group for fault tests: one master, its replicas and three Sentinels that monitor it with
 * quorum 2, every member a {@link RedisServer} of its own on a free loopback port. Obtain one from
 * {@link RedisServers#startSentinelGroup(String)}; closing it closes every member and deletes its
 * directory (a JVM shutdown hook does the same for forgotten ones).
 *
 * <p>The Sentinels consider the master down after 1 s without a reply ({@code down-after-milliseconds})
 * and give a failover 3 s to complete ({@code failover-timeout}; a failed attempt is retried after twice
 * that), so after {@link #killMaster()} a replica is usually promoted within 2 to 4 seconds, which
 * {@link #awaitFailover(Duration)} waits for. Data nodes run with {@code repl-diskless-sync-delay 0} so that
 * a replica synchronises at once. A killed master that is {@linkplain RedisServer#start() started again}
 * comes back as a master with the data of its append-only file, if any, and is turned into a replica of
 * the new master by the Sentinels only about 8 to 15 seconds later: Sentinel waits that long before it
 * overrides the role an instance reports.
 *
 * <p>Every member runs as a child process ({@link RedisBackend#BINARY} or {@link RedisBackend#EMBEDDED}),
 * never in Docker: a Sentinel needs a configuration file it can rewrite, and members find each other by the
 * addresses they report, {@code 127.0.0.1} and the port they listen on. Tests can check
 * {@link RedisServers#isSentinelGroupAvailable(RedisVersion)} in a JUnit assumption.
 */
public final class RedisSentinelGroup implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(RedisSentinelGroup.class);

	private static final int SENTINELS = 3;

	private static final int QUORUM = 2;

	private static final Duration DOWN_AFTER = Duration.ofSeconds(1);

	private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(3);

	private static final Duration FORMATION_TIMEOUT = Duration.ofSeconds(30);

	private static final Pattern MASTER_NAME = Pattern.compile("[A-Za-z0-9._-]+");

	private final String masterName;

	private final List<RedisServer> dataNodes;

	private final List<RedisServer> sentinels;

	private volatile RedisServer knownMaster;

	private RedisSentinelGroup(String masterName, List<RedisServer> dataNodes, List<RedisServer> sentinels) {
		this.masterName = masterName;
		this.dataNodes = List.copyOf(dataNodes);
		this.sentinels = List.copyOf(sentinels);
		this.knownMaster = dataNodes.get(0);
	}

	static RedisSentinelGroup start(String masterName, int replicas, RedisServerSpec spec) {
		if (masterName == null || !MASTER_NAME.matcher(masterName).matches()) {
			throw new IllegalArgumentException("Sentinel master name '" + masterName
					+ "' must be letters, digits, '.', '_' or '-', such as \"mymaster\"");
		}
		if (replicas < 0) {
			throw new IllegalArgumentException("A Sentinel group cannot have " + replicas + " replicas");
		}
		RedisServerSpec dataSpec = spec.processOnly().topologyConfig("repl-diskless-sync-delay", "0");
		if (spec.password() != null) {
			dataSpec = dataSpec.topologyConfig("masterauth", spec.password());
		}
		List<RedisServer> dataNodes = new ArrayList<>();
		List<RedisServer> sentinels = new ArrayList<>();
		try {
			RedisServer master = RedisServers.start(dataSpec);
			dataNodes.add(master);
			RedisServerSpec replicaSpec = dataSpec.topologyConfig("replicaof", RedisServer.HOST,
					Integer.toString(master.port()));
			for (int i = 0; i < replicas; i++) {
				dataNodes.add(RedisServers.start(replicaSpec));
			}
			// Sentinels learn the replicas from the master's INFO when they connect, then only every 10 s.
			awaitReplicasInSync(masterName, dataNodes, master, Deadline.after(FORMATION_TIMEOUT));
			RedisServerSpec sentinelSpec = spec.sentinel(sentinelConfig(masterName, master.port(), spec.password()));
			for (int i = 0; i < SENTINELS; i++) {
				sentinels.add(RedisServers.start(sentinelSpec));
			}
			RedisSentinelGroup group = new RedisSentinelGroup(masterName, dataNodes, sentinels);
			group.awaitSentinelsAcquainted(Deadline.after(FORMATION_TIMEOUT));
			logger.info("Started Redis Sentinel group '{}': master {}:{}, replicas {}, sentinels {}", masterName,
					master.host(), master.port(), addresses(dataNodes.subList(1, dataNodes.size())),
					group.sentinelAddresses());
			return group;
		}
		catch (RuntimeException ex) {
			sentinels.forEach(RedisServer::close);
			dataNodes.forEach(RedisServer::close);
			throw ex;
		}
	}

	private static List<String> sentinelConfig(String masterName, int masterPort, String password) {
		List<String> lines = new ArrayList<>(List.of(
				"sentinel monitor " + masterName + " " + RedisServer.HOST + " " + masterPort + " " + QUORUM,
				"sentinel down-after-milliseconds " + masterName + " " + DOWN_AFTER.toMillis(),
				"sentinel failover-timeout " + masterName + " " + FAILOVER_TIMEOUT.toMillis(),
				"sentinel parallel-syncs " + masterName + " 1"));
		if (password != null) {
			lines.add("sentinel auth-pass " + masterName + " " + password);
		}
		return lines;
	}

	/**
	 * Wait until every Sentinel knows the other Sentinels and every replica: only then can they agree that
	 * the master is down and elect one of them to fail over. Sentinels find each other through hello
	 * messages, published every 2 seconds.
	 */
	private void awaitSentinelsAcquainted(Deadline deadline) {
		Map<String, String> expected = Map.of("flags", "master", "num-slaves",
				Integer.toString(this.dataNodes.size() - 1), "num-other-sentinels", Integer.toString(SENTINELS - 1));
		while (true) {
			Map<Integer, Object> views = new LinkedHashMap<>();
			boolean acquainted = true;
			for (RedisServer sentinel : this.sentinels) {
				Map<String, String> master = sentinelMasterState(sentinel);
				views.put(sentinel.port(), master);
				acquainted &= master.entrySet().containsAll(expected.entrySet());
			}
			if (acquainted) {
				return;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("The Sentinels " + sentinelAddresses() + " of '" + this.masterName
						+ "' did not all see the master, " + expected.get("num-slaves") + " replica(s) and each other within "
						+ deadline.timeout() + "; they see: " + views);
			}
			deadline.pause("the Sentinels of '" + this.masterName + "' to find each other");
		}
	}

	private Map<String, String> sentinelMasterState(RedisServer sentinel) {
		Map<String, String> state = new LinkedHashMap<>();
		try {
			List<?> reply = (List<?>) sentinel.command("SENTINEL", "MASTER", this.masterName);
			for (int i = 0; i + 1 < reply.size(); i += 2) {
				String field = (String) reply.get(i);
				if (field.equals("flags") || field.startsWith("num-")) {
					state.put(field, (String) reply.get(i + 1));
				}
			}
		}
		catch (RuntimeException ex) {
			state.put("error", ex.getMessage());
		}
		return state;
	}

	/**
	 * Return the name the Sentinels monitor the master by, as given to {@code SENTINEL get-master-addr-by-name}.
	 * @return the master name
	 */
	public String masterName() {
		return this.masterName;
	}

	/**
	 * Return the Sentinel addresses as {@code 127.0.0.1:<port>}, in the order of {@link #sentinels()}.
	 * @return the addresses
	 */
	public List<String> sentinelAddresses() {
		return addresses(this.sentinels);
	}

	/**
	 * Return every data node (the first master and its replicas), running or not, in start order, whatever role
	 * each has now.
	 * @return the data nodes
	 */
	public List<RedisServer> dataNodes() {
		return this.dataNodes;
	}

	/**
	 * Return the three Sentinels, for example to kill or pause one.
	 * @return the Sentinels
	 */
	public List<RedisServer> sentinels() {
		return this.sentinels;
	}

	/**
	 * Return the current master, as the first running Sentinel that answers reports it with
	 * {@code SENTINEL get-master-addr-by-name}. Right after the master fails this is still the failed master;
	 * use {@link #awaitFailover(Duration)} to wait for its successor.
	 * @return the master
	 * @throws IllegalStateException if no Sentinel answers, or one reports an address outside the group
	 */
	public RedisServer master() {
		List<String> errors = new ArrayList<>();
		for (RedisServer sentinel : this.sentinels) {
			if (!sentinel.isRunning() || sentinel.isPaused()) {
				continue;
			}
			try {
				return dataNodeOnPort(reportedMasterPort(sentinel));
			}
			catch (RuntimeException ex) {
				errors.add(sentinel.port() + ": " + ex.getMessage());
			}
		}
		throw new IllegalStateException("No Sentinel of '" + this.masterName + "' on " + sentinelAddresses()
				+ " reported the master" + (errors.isEmpty() ? " (none is running)" : ": " + errors));
	}

	private int reportedMasterPort(RedisServer sentinel) {
		List<?> address = (List<?>) sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", this.masterName);
		if (address == null || address.size() != 2) {
			throw new IllegalStateException("Sentinel " + sentinel.port() + " does not know '" + this.masterName + "'");
		}
		return Integer.parseInt((String) address.get(1));
	}

	private RedisServer dataNodeOnPort(int port) {
		return this.dataNodes.stream()
			.filter((node) -> node.port() == port)
			.findFirst()
			.orElseThrow(() -> new IllegalStateException("A Sentinel reports 127.0.0.1:" + port + " as master of '"
					+ this.masterName + "', which is none of " + addresses(this.dataNodes)));
	}

	/**
	 * Return every data node other than the current {@link #master()}, running or not, in start order. After
	 * a failover that includes the failed master.
	 * @return the replicas
	 */
	public List<RedisServer> replicas() {
		RedisServer master = master();
		return this.dataNodes.stream().filter((node) -> node != master).toList();
	}

	/**
	 * Kill the current {@link #master()} with SIGKILL, as {@link RedisServer#kill()} does, and return it;
	 * start it again with {@link RedisServer#start()}. Follow with {@link #awaitFailover(Duration)}.
	 * @return the killed master
	 */
	public RedisServer killMaster() {
		RedisServer master = master();
		this.knownMaster = master;
		master.kill();
		logger.info("Killed master {}:{} of Sentinel group '{}'", master.host(), master.port(), this.masterName);
		return master;
	}

	/**
	 * Wait until every running Sentinel reports a master other than the last one this group saw (the one
	 * {@link #killMaster()} killed, or the first master) and that server answers {@code ROLE} with
	 * {@code master}; return it.
	 * @param timeout how long to wait at most
	 * @return the new master
	 * @throws IllegalStateException if the Sentinels have not failed over in time; the message says what
	 * each Sentinel reports
	 */
	public RedisServer awaitFailover(Duration timeout) {
		RedisServer previous = this.knownMaster;
		Deadline deadline = Deadline.after(timeout);
		while (true) {
			Map<Integer, String> reports = new LinkedHashMap<>();
			RedisServer successor = null;
			boolean agreed = true;
			for (RedisServer sentinel : this.sentinels) {
				if (!sentinel.isRunning() || sentinel.isPaused()) {
					continue;
				}
				RedisServer reported = null;
				try {
					reported = dataNodeOnPort(reportedMasterPort(sentinel));
					reports.put(sentinel.port(), Integer.toString(reported.port()));
				}
				catch (RuntimeException ex) {
					reports.put(sentinel.port(), ex.getMessage());
				}
				if (reported == null || reported == previous || (successor != null && successor != reported)) {
					agreed = false;
				}
				successor = (successor != null) ? successor : reported;
			}
			String role = (successor != null) ? role(successor) : "none";
			if (agreed && !reports.isEmpty() && "master".equals(role)) {
				this.knownMaster = successor;
				logger.info("Sentinels of '{}' failed over from {}:{} to {}:{} ({} ms into the wait)", this.masterName,
						previous.host(), previous.port(), successor.host(), successor.port(),
						deadline.elapsed().toMillis());
				return successor;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("The Sentinels of '" + this.masterName + "' did not fail over from "
						+ previous.host() + ":" + previous.port() + " within " + timeout
						+ " (a failover needs a running replica and " + QUORUM + " Sentinels); master port by Sentinel port: "
						+ reports + ((successor != null) ? ", ROLE of " + successor.port() + ": " + role : ""));
			}
			deadline.pause("a failover of '" + this.masterName + "'");
		}
	}

	private static String role(RedisServer node) {
		try {
			List<?> role = (List<?>) node.command("ROLE");
			return (String) role.get(0);
		}
		catch (RuntimeException ex) {
			return "unreachable (" + ex.getMessage() + ")";
		}
	}

	/**
	 * Wait until every running, unpaused data node other than the current {@link #master()} is a replica of
	 * it with {@code master_link_status:up}, that is, has finished its initial synchronisation. Killed nodes
	 * are skipped; a killed master started again counts once the Sentinels have turned it into a replica
	 * (see the class description for how long that takes).
	 * @param timeout how long to wait at most
	 * @throws IllegalStateException if a replica is not in sync in time
	 */
	public void awaitReplicasInSync(Duration timeout) {
		awaitReplicasInSync(this.masterName, this.dataNodes, master(), Deadline.after(timeout));
	}

	private static void awaitReplicasInSync(String masterName, List<RedisServer> dataNodes, RedisServer master,
			Deadline deadline) {
		String masterPort = Integer.toString(master.port());
		while (true) {
			Map<Integer, String> lagging = new LinkedHashMap<>();
			for (RedisServer node : dataNodes) {
				if (node == master || !node.isRunning() || node.isPaused()) {
					continue;
				}
				String link = node.replicationLinkStatus();
				String replicaOf = replicaOf(node);
				if (!"up".equals(link) || !masterPort.equals(replicaOf)) {
					lagging.put(node.port(), "master_link_status " + link + ", master_port " + replicaOf);
				}
			}
			if (lagging.isEmpty()) {
				return;
			}
			if (deadline.hasPassed()) {
				throw new IllegalStateException("Replicas of '" + masterName + "' not in sync with " + master.host()
						+ ":" + masterPort + " within " + deadline.timeout() + ": " + lagging);
			}
			deadline.pause("the replicas of '" + masterName + "' to synchronise");
		}
	}

	private static String replicaOf(RedisServer node) {
		try {
			return RedisServer.infoField((String) node.command("INFO", "replication"), "master_port");
		}
		catch (RuntimeException ex) {
			return "unknown";
		}
	}

	private static List<String> addresses(List<RedisServer> servers) {
		return servers.stream().map((server) -> server.host() + ":" + server.port()).toList();
	}

	/**
	 * Close the Sentinels, then the data nodes.
	 */
	@Override
	public void close() {
		this.sentinels.forEach(RedisServer::close);
		this.dataNodes.forEach(RedisServer::close);
	}

	@Override
	public String toString() {
		return "RedisSentinelGroup[" + this.masterName + ", data nodes " + addresses(this.dataNodes) + ", sentinels "
				+ sentinelAddresses() + "]";
	}

}
