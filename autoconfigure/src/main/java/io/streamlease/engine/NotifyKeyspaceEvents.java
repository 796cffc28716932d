package io.streamlease.engine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.redisson.api.RedissonClient;
import org.redisson.api.redisnode.RedisNode;
import org.redisson.api.redisnode.RedisNodes;
import org.redisson.config.Config;

/**
 * The server setting {@code notify-keyspace-events} on every master a client writes to, for the engine's lapse
 * detection (keyspace {@code expired} events) and the listener layer's entry notifications (key-event
 * {@code xadd} events). Flags are merged into the server's setting, never removed, so that several users of one
 * server can each add what they need.
 */
public final class NotifyKeyspaceEvents {

	private static final String SETTING = "notify-keyspace-events";

	/** What a master's setting was and what it became ({@code before} equals {@code after} when nothing changed). */
	public record Change(String node, String before, String after) {

		/** Whether the setting was changed. */
		public boolean changed() {
			return !this.before.equals(this.after);
		}

	}

	private NotifyKeyspaceEvents() {
	}

	/**
	 * Adds {@code channel} ('K' keyspace or 'E' key-event) and {@code eventClass} (for example 'x' expired or 't'
	 * stream commands) to the setting of every master, unless present ('A' includes every event class).
	 * @return one change per master, in the order the client lists them
	 * @throws RuntimeException as the client throws it when a master does not answer or refuses CONFIG
	 */
	public static List<Change> ensure(RedissonClient redisson, char channel, char eventClass) {
		List<Change> changes = new ArrayList<>();
		for (RedisNode node : masters(redisson)) {
			String before = node.getConfig(SETTING).getOrDefault(SETTING, "");
			String after = merge(before, channel, eventClass);
			if (!after.equals(before)) {
				node.setConfig(SETTING, after);
			}
			changes.add(new Change(String.valueOf(node.getAddr()), before, after));
		}
		return changes;
	}

	/**
	 * Whether every master's setting has both flags now (another user of the server may have changed it).
	 */
	public static boolean enabled(RedissonClient redisson, char channel, char eventClass) {
		for (RedisNode node : masters(redisson)) {
			String current = node.getConfig(SETTING).getOrDefault(SETTING, "");
			if (!merge(current, channel, eventClass).equals(current)) {
				return false;
			}
		}
		return true;
	}

	/**
	 * The flags with {@code channel} and {@code eventClass} added, keeping every existing flag.
	 */
	public static String merge(String current, char channel, char eventClass) {
		String merged = (current != null) ? current : "";
		if (merged.indexOf(channel) < 0) {
			merged = merged + channel;
		}
		if (merged.indexOf(eventClass) < 0 && merged.indexOf('A') < 0) {
			merged = merged + eventClass;
		}
		return merged;
	}

	/** The masters of the client's topology (one for a single server, a Sentinel group or master/replica). */
	static Collection<? extends RedisNode> masters(RedissonClient redisson) {
		Config config = redisson.getConfig();
		if (config.isClusterConfig()) {
			return redisson.getRedisNodes(RedisNodes.CLUSTER).getMasters();
		}
		List<RedisNode> nodes = new ArrayList<>(1);
		if (config.isSentinelConfig()) {
			nodes.add(redisson.getRedisNodes(RedisNodes.SENTINEL_MASTER_SLAVE).getMaster());
		}
		else if (config.isSingleConfig()) {
			nodes.add(redisson.getRedisNodes(RedisNodes.SINGLE).getInstance());
		}
		else {
			nodes.add(redisson.getRedisNodes(RedisNodes.MASTER_SLAVE).getMaster());
		}
		return nodes;
	}

}
