package io.streamlease.engine;

/**
 * The Redis keys of one service. The LBS key {@code <service>-input} and the group {@code <service>-group} are
 * the wire format shared with redis-stream-client-go producers; every other key starts with
 * {@code {<service>-input}:}, whose hash tag puts it in the same Redis Cluster slot as the LBS, so that one Lua
 * script can touch the LBS and the lease state together. Stream names follow the tag, so whatever characters
 * they hold ({@code {}, {@code }}, {@code :}, spaces) cannot move a key to another slot.
 */
public final class StreamLeaseKeys {

	private final String service;

	private final String prefix;

	StreamLeaseKeys(String service) {
		this.service = service;
		this.prefix = "{" + service + "-input}:";
	}

	/** The load-balancer stream: {@code <service>-input}. */
	public String lbs() {
		return this.service + "-input";
	}

	/** The consumer group on the LBS: {@code <service>-group}. */
	public String group() {
		return this.service + "-group";
	}

	/** The lease of one data stream (string {@code <token>:<instance nonce>:<consumer>}, PX = hb-interval). */
	public String lease(String stream) {
		return leasePrefix() + stream;
	}

	/** What every lease key starts with. */
	public String leasePrefix() {
		return this.prefix + "lease:";
	}

	/** The length of {@link #leasePrefix()} in UTF-8 bytes (what Lua's string functions count). */
	int leasePrefixBytes() {
		return leasePrefix().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
	}

	/** The lease index (sorted set: stream by deadline, server milliseconds). */
	public String leaseIndex() {
		return this.prefix + "leases";
	}

	/** The assignments (hash: stream to the id of its LBS entry). */
	public String assignments() {
		return this.prefix + "assignments";
	}

	/** The fencing counter (string, incremented on every lease acquisition of the service). */
	public String fencing() {
		return this.prefix + "fencing";
	}

	/** The checkpoint of one data stream (hash: position, token, attempts, state:*). */
	public String checkpoint(String stream) {
		return this.prefix + "checkpoint:" + stream;
	}

	/** The resubmissions (hash: stream to the lbs-input of a duplicate that arrived while the stream was held). */
	public String resubmits() {
		return this.prefix + "resubmits";
	}

	/** The consumer registry (sorted set: consumer id by registration deadline). */
	public String consumers() {
		return this.prefix + "consumers";
	}

	/** The instance nonce of each registered consumer id (hash). */
	public String consumerInstances() {
		return this.prefix + "consumer-instances";
	}

	/** The dead-letter stream. */
	public String deadLetters() {
		return this.prefix + "dead-letters";
	}

	/** The pub/sub channel on which handoffs are announced. */
	public String handoffChannel() {
		return this.prefix + "handoff";
	}

	/** The pattern of the keyspace channels of lease keys, with glob characters of the service name escaped. */
	public String keyspacePattern() {
		return "__keyspace@*__:" + escapeGlob(leasePrefix()) + "*";
	}

	/** The stream name of a keyspace channel of a lease key, or null if the channel is not one. */
	String streamOfKeyspaceChannel(String channel) {
		String marker = "__:" + leasePrefix();
		int at = channel.indexOf(marker);
		return (channel.startsWith("__keyspace@") && at > 0) ? channel.substring(at + marker.length()) : null;
	}

	private static String escapeGlob(String text) {
		StringBuilder escaped = new StringBuilder(text.length());
		for (char c : text.toCharArray()) {
			if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
				escaped.append('\\');
			}
			escaped.append(c);
		}
		return escaped.toString();
	}

}
