package io.streamlease.autoconfigure;

/**
 * The names and tags of the Micrometer meters of Stream Lease. Every meter carries the tag {@code service}; none
 * carries the name of a data stream (their number is unbounded).
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
 * <tr><td>{@code stream.lease.renewal.lost}</td><td>counter</td><td></td><td>leases that a renewal found gone
 * or owned by another consumer</td></tr>
 * <tr><td>{@code stream.lease.handler.duration}</td><td>timer</td><td>{@code outcome}: {@code success},
 * {@code error}, {@code cancelled}, {@code retried}, {@code dead-lettered}</td><td>invocations of the
 * {@code @StreamHandler} method (stream-level: one per stream run)</td></tr>
 * <tr><td>{@code stream.lease.processing.duration}</td><td>timer</td><td></td><td>how long finished streams were
 * held, from acquisition to done</td></tr>
 * <tr><td>{@code stream.lease.dead.letters}</td><td>counter</td><td>{@code reason}: {@code missing-field},
 * {@code invalid-json}, {@code missing-stream-name}, {@code invalid-info}, {@code oversized},
 * {@code handler-failed}</td><td>LBS entries moved to the dead-letter stream</td></tr>
 * <tr><td>{@code stream.lease.keyspace.dropped}</td><td>counter</td><td></td><td>keyspace notifications dropped
 * because the keyspace channel was full (the sweep still finds those streams)</td></tr>
 * <tr><td>{@code stream.lease.sweep.orphans}</td><td>counter</td><td></td><td>lapsed leases and orphaned LBS
 * entries found by the sweep</td></tr>
 * <tr><td>{@code stream.lease.duplicates}</td><td>counter</td><td></td><td>LBS entries that arrived for a stream
 * already held (recorded as resubmissions)</td></tr>
 * </table>
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

	/** Counter: leases found lost by a renewal. */
	public static final String RENEWAL_LOST = "stream.lease.renewal.lost";

	/** Timer, tag {@link #OUTCOME}: handler invocations. */
	public static final String HANDLER_DURATION = "stream.lease.handler.duration";

	/** Timer: time from acquisition to done of finished streams. */
	public static final String PROCESSING_DURATION = "stream.lease.processing.duration";

	/** Counter, tag {@link #REASON}: dead-lettered LBS entries. */
	public static final String DEAD_LETTERS = "stream.lease.dead.letters";

	/** Counter: keyspace notifications dropped because the channel was full. */
	public static final String KEYSPACE_DROPPED = "stream.lease.keyspace.dropped";

	/** Counter: lapsed leases and orphaned entries found by the sweep. */
	public static final String SWEEP_ORPHANS = "stream.lease.sweep.orphans";

	/** Counter: LBS entries for a stream already held. */
	public static final String DUPLICATES = "stream.lease.duplicates";

	/** Tag of every meter: the service. */
	public static final String SERVICE = "service";

	/** Tag of {@link #EVENTS}. */
	public static final String TYPE = "type";

	/** Tag of {@link #CLAIMS} and {@link #RENEWAL_DURATION}. */
	public static final String RESULT = "result";

	/** Tag of {@link #HANDLER_DURATION}. */
	public static final String OUTCOME = "outcome";

	/** Tag of {@link #DEAD_LETTERS}. */
	public static final String REASON = "reason";

	private StreamLeaseMeters() {
	}

}
