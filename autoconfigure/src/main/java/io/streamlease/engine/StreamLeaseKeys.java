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

	/**
	 * The ownership records (hash: stream to {@code <token>:<session id>:<LBS entry id>}); a record is valid only
	 * while its session is live.
	 */
	public String owners() {
		return this.prefix + "owners";
	}

	/** The instance nonce of each registered consumer id (hash): tells two processes with one id apart. */
	public String consumerInstances() {
		return this.prefix + "consumer-instances";
	}

	/** The current session id of each registered consumer id (hash). */
	public String sessions() {
		return this.prefix + "sessions";
	}

	/** The consumer id of each current session id (hash). */
	public String sessionConsumers() {
		return this.prefix + "session-consumers";
	}

	/** The counter that numbers sessions (string). */
	public String sessionSequence() {
		return this.prefix + "session-seq";
	}

	/** The session key of a consumer (string: its session id, PX = hb-interval); its expiry announces a lapse. */
	public String session(String consumer) {
		return sessionPrefix() + consumer;
	}

	/** What every session key starts with. */
	String sessionPrefix() {
		return this.prefix + "session:";
	}

	/** The streams handed off alone (hash: stream to the id of its LBS entry), until a peer claims them. */
	public String released() {
		return this.prefix + "released";
	}

	/**
	 * The load of each consumer (hash: consumer id to {@code <session id>:<capacity>:<held>:<since>}), written by its
	 * renewal, read by every renewal for fair share.
	 */
	public String loads() {
		return this.prefix + "loads";
	}

	/** The fencing counter (string: the last token issued on an acquisition of the service's streams). */
	public String fencing() {
		return this.prefix + "fencing";
	}

	/** The checkpoint of one data stream (hash: position, token, attempts, state:*). */
	public String checkpoint(String stream) {
		return checkpointPrefix() + stream;
	}

	/** What every checkpoint key starts with. */
	String checkpointPrefix() {
		return this.prefix + "checkpoint:";
	}

	/** The resubmissions (hash: stream to the lbs-input of a duplicate that arrived while the stream was held). */
	public String resubmits() {
		return this.prefix + "resubmits";
	}

	/** The consumer registry (sorted set: consumer id by session deadline, server milliseconds). */
	public String consumers() {
		return this.prefix + "consumers";
	}

	/** The dead-letter stream. */
	public String deadLetters() {
		return this.prefix + "dead-letters";
	}

	/** The pub/sub channel on which handoffs are announced. */
	public String handoffChannel() {
		return this.prefix + "handoff";
	}

	/** The pattern of the keyspace channels of session keys, with glob characters of the service name escaped. */
	public String keyspacePattern() {
		return "__keyspace@*__:" + escapeGlob(sessionPrefix()) + "*";
	}

	/** The consumer id of a keyspace channel of a session key, or null if the channel is not one. */
	String consumerOfKeyspaceChannel(String channel) {
		String marker = "__:" + sessionPrefix();
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
