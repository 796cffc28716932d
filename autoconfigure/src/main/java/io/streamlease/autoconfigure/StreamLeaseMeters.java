package io.streamlease.autoconfigure;

/**
 * The names and tags of the Micrometer meters of Stream Lease. Every meter carries the tag {@code service}, except
 * the connection pool meters of the Redis clients ({@code stream.lease.redis.*}), which carry {@code client}
 * instead (a client serves every service); none carries the name of a data stream (their number is unbounded).
 * <p>
 * Watching for starvation: {@code stream.lease.renewal.age} approaching 80 % of hb-interval (the local safety
 * deadline, where every lease is disowned), a growing {@code stream.lease.renewal.duration}, and
 * {@code stream.lease.redis.connections.pending} above 0 for the lease client (commands waiting for a
 * connection) come before a DISOWNED storm.
 * <table>
 * <caption>Meters</caption>
 * <tr><th>name</th><th>type</th><th>tags besides service</th><th>what it measures</th></tr>
 * <tr><td>{@code stream.lease.owned}</td><td>gauge</td><td></td><td>data streams this consumer holds now (0
 * before the engine starts)</td></tr>
 * <tr><td>{@code stream.lease.lbs.pending}</td><td>gauge</td><td></td><td>LBS entries pending in the group at
 * the last sweep: held, being claimed or orphaned (NaN before the engine starts)</td></tr>
 * <tr><td>{@code stream.lease.events}</td><td>counter</td><td>{@code type}: {@code added}, {@code claimed},
 * {@code completed}, {@code disowned}, {@code handoff}, {@code expired}</td><td>lifecycle events of leases:
 * acquired from the LBS, claimed after a peer lapsed or handed off, finished (done), lost while held, handed off
 * at close (one per stream), keyspace notifications of a lapsed lease</td></tr>
 * <tr><td>{@code stream.lease.claims}</td><td>counter</td><td>{@code result}: {@code claimed}, {@code owned},
 * {@code already-claimed}, {@code gone}, {@code at-capacity}</td><td>claim attempts of lapsed streams</td></tr>
 * <tr><td>{@code stream.lease.renewal.duration}</td><td>timer</td><td>{@code result}: {@code success},
 * {@code failure}</td><td>renewal ticks: one batch renewal of every held lease</td></tr>
 * <tr><td>{@code stream.lease.renewal.age}</td><td>gauge</td><td></td><td>seconds since the last confirmed
 * renewal tick (NaN before the first); renewals run every hb-interval / 2, and at 80 % of hb-interval every lease
 * is disowned locally</td></tr>
 * <tr><td>{@code stream.lease.terminated}</td><td>gauge</td><td></td><td>1 when the service's engine has
 * terminated (closed, a fatal error such as refused credentials, or {@code retry.max-retries} reached), else 0;
 * while the application runs, 1 means the service processes nothing until it is restarted</td></tr>
 * <tr><td>{@code stream.lease.renewal.lost}</td><td>counter</td><td></td><td>leases that a renewal found gone
 * or owned by another consumer</td></tr>
 * <tr><td>{@code stream.lease.handler.duration}</td><td>timer</td><td>{@code outcome}: {@code success},
 * {@code error}, {@code cancelled}, {@code retried}, {@code dead-lettered}</td><td>invocations of the
 * {@code @StreamHandler} method (stream-level: one per stream run)</td></tr>
 * <tr><td>{@code stream.lease.processing.duration}</td><td>timer</td><td></td><td>how long finished streams were
 * held, from acquisition to done (the hold time of finished streams)</td></tr>
 * <tr><td>{@code stream.lease.held.oldest.age}</td><td>gauge</td><td></td><td>seconds since the oldest stream this
 * consumer holds now was acquired (0 when it holds none): a stuck handler or a stream that never ends shows as a
 * steadily growing value</td></tr>
 * <tr><td>{@code stream.lease.dead.letters}</td><td>counter</td><td>{@code reason}: {@code missing-field},
 * {@code invalid-json}, {@code missing-stream-name}, {@code invalid-info}, {@code oversized},
 * {@code handler-failed}</td><td>LBS entries moved to the dead-letter stream</td></tr>
 * <tr><td>{@code stream.lease.keyspace.dropped}</td><td>counter</td><td></td><td>keyspace notifications dropped
 * because the keyspace channel was full (the sweep still finds those streams)</td></tr>
 * <tr><td>{@code stream.lease.sweep.orphans}</td><td>counter</td><td></td><td>lapsed leases and orphaned LBS
 * entries found by the sweep</td></tr>
 * <tr><td>{@code stream.lease.duplicates}</td><td>counter</td><td></td><td>LBS entries that arrived for a stream
 * already held (recorded as resubmissions)</td></tr>
 * <tr><td>{@code stream.lease.share}</td><td>gauge</td><td></td><td>this consumer's fair share of the
 * service's streams at the last renewal: streams owned or released x its max-concurrent-streams / the sum over the
 * live consumers counted (NaN before the first renewal)</td></tr>
 * <tr><td>{@code stream.lease.rebalance.moved}</td><td>counter</td><td></td><td>streams this consumer handed off
 * to consumers below their fair share (also counted as {@code events} {@code handoff})</td></tr>
 * <tr><td>{@code stream.lease.entry.reads.active}</td><td>gauge</td><td></td><td>XREAD commands of the entry
 * reader in flight (at most entry.max-in-flight-reads; 0 for stream-level handlers)</td></tr>
 * <tr><td>{@code stream.lease.entry.checkpoints.active}</td><td>gauge</td><td></td><td>checkpoint and finishing
 * calls of entry-level handlers in flight (at most entry.max-in-flight-checkpoints)</td></tr>
 * <tr><td>{@code stream.lease.redis.connections.active}</td><td>gauge</td><td>{@code client}: {@code lease},
 * {@code data}, or {@code shared} (the application's client)</td><td>connections of the client's pools taken by a
 * command now (all nodes)</td></tr>
 * <tr><td>{@code stream.lease.redis.connections.idle}</td><td>gauge</td><td>{@code client}</td><td>open
 * connections of the client's pools that are free</td></tr>
 * <tr><td>{@code stream.lease.redis.connections.pending}</td><td>gauge</td><td>{@code client}</td><td>commands
 * waiting for a free connection of the client's pools; above 0 for the lease client means renewals may wait</td></tr>
 * </table>
 * The connection pool gauges read Redisson's internal pool state; with a Redisson version whose internals differ
 * they read NaN.
 */
public final class StreamLeaseMeters {

	/** Gauge: data streams held now. */
	public static final String OWNED = "stream.lease.owned";

	/** Gauge: LBS entries pending in the group at the last sweep. */
	public static final String LBS_PENDING = "stream.lease.lbs.pending";

	/** Counter, tag {@link #TYPE}: lifecycle events of leases. */
	public static final String EVENTS = "stream.lease.events";

	/** Counter, tag {@link #RESULT}: claim attempts. */
	public static final String CLAIMS = "stream.lease.claims";

	/** Timer, tag {@link #RESULT} ({@code success} or {@code failure}): renewal ticks. */
	public static final String RENEWAL_DURATION = "stream.lease.renewal.duration";

	/** Gauge: seconds since the last confirmed renewal tick. */
	public static final String RENEWAL_AGE = "stream.lease.renewal.age";

	/** Gauge: 1 when the service's engine has terminated, else 0. */
	public static final String TERMINATED = "stream.lease.terminated";

	/** Counter: leases found lost by a renewal. */
	public static final String RENEWAL_LOST = "stream.lease.renewal.lost";

	/** Timer, tag {@link #OUTCOME}: handler invocations. */
	public static final String HANDLER_DURATION = "stream.lease.handler.duration";

	/** Timer: time from acquisition to done of finished streams. */
	public static final String PROCESSING_DURATION = "stream.lease.processing.duration";

	/** Gauge: seconds since the oldest stream held now was acquired. */
	public static final String HELD_OLDEST_AGE = "stream.lease.held.oldest.age";

	/** Counter, tag {@link #REASON}: dead-lettered LBS entries. */
	public static final String DEAD_LETTERS = "stream.lease.dead.letters";

	/** Counter: keyspace notifications dropped because the channel was full. */
	public static final String KEYSPACE_DROPPED = "stream.lease.keyspace.dropped";

	/** Counter: lapsed leases and orphaned entries found by the sweep. */
	public static final String SWEEP_ORPHANS = "stream.lease.sweep.orphans";

	/** Counter: LBS entries for a stream already held. */
	public static final String DUPLICATES = "stream.lease.duplicates";

	/** Gauge: this consumer's fair share of the service's streams. */
	public static final String SHARE = "stream.lease.share";

	/** Counter: streams handed off to consumers below their fair share. */
	public static final String REBALANCE_MOVED = "stream.lease.rebalance.moved";

	/** Gauge: XREAD commands of the entry reader in flight. */
	public static final String ENTRY_READS_ACTIVE = "stream.lease.entry.reads.active";

	/** Gauge: checkpoint and finishing calls of entry-level handlers in flight. */
	public static final String ENTRY_CHECKPOINTS_ACTIVE = "stream.lease.entry.checkpoints.active";

	/** Gauge, tag {@link #CLIENT}: pooled connections taken by a command. */
	public static final String REDIS_CONNECTIONS_ACTIVE = "stream.lease.redis.connections.active";

	/** Gauge, tag {@link #CLIENT}: pooled connections open and free. */
	public static final String REDIS_CONNECTIONS_IDLE = "stream.lease.redis.connections.idle";

	/** Gauge, tag {@link #CLIENT}: commands waiting for a free pooled connection. */
	public static final String REDIS_CONNECTIONS_PENDING = "stream.lease.redis.connections.pending";

	/** Tag of every meter but the connection pool meters: the service. */
	public static final String SERVICE = "service";

	/** Tag of {@link #EVENTS}. */
	public static final String TYPE = "type";

	/** Tag of {@link #CLAIMS} and {@link #RENEWAL_DURATION}. */
	public static final String RESULT = "result";

	/** Tag of {@link #HANDLER_DURATION}. */
	public static final String OUTCOME = "outcome";

	/** Tag of {@link #DEAD_LETTERS}. */
	public static final String REASON = "reason";

	/** Tag of the connection pool meters: {@code lease}, {@code data} or {@code shared}. */
	public static final String CLIENT = "client";

	private StreamLeaseMeters() {
	}

}
