package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.streamlease.Checkpoint;
import org.redisson.api.stream.PendingEntry;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamCreateGroupArgs;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamReadGroupArgs;
import org.redisson.client.codec.StringCodec;

/**
 * Every Redis call of the engine for one service: the Lua scripts (each multi-step change is one script) and
 * the few plain stream commands. Turns script replies into Java values.
 */
final class LeaseStore {

	private final RedissonClient redisson;

	private final StreamLeaseKeys keys;

	private final String consumer;

	private final long ttlMillis;

	private final RStream<String, String> lbs;

	private final Duration renewalTimeout;

	/** Random per engine instance: tells this instance's sessions from those of another process with the same id. */
	private final String nonce;

	LeaseStore(RedissonClient redisson, EngineSettings settings, String nonce) {
		this.nonce = nonce;
		this.redisson = redisson;
		this.keys = settings.keys();
		this.consumer = settings.consumerId();
		this.ttlMillis = settings.hbInterval().toMillis();
		this.renewalTimeout = settings.renewalTimeout();
		this.lbs = redisson.getStream(this.keys.lbs(), StringCodec.INSTANCE);
	}

	StreamLeaseKeys keys() {
		return this.keys;
	}

	/**
	 * Creates the LBS and the group (MKSTREAM) from the LBS's beginning: the LBS belongs to its service, so entries
	 * announced before the first consumer started (or before the group was lost) are read too. An existing group
	 * is fine.
	 */
	void createGroup() {
		try {
			this.lbs.createGroup(StreamCreateGroupArgs.name(this.keys.group()).id(StreamMessageId.ALL).makeStream());
		}
		catch (RuntimeException ex) {
			if (!mentions(ex, "BUSYGROUP")) {
				throw ex;
			}
		}
	}

	/** XREADGROUP of new entries, blocking at most {@code block}. */
	Map<StreamMessageId, Map<String, String>> read(int count, Duration block) {
		Map<StreamMessageId, Map<String, String>> read = this.lbs.readGroup(this.keys.group(), this.consumer,
				StreamReadGroupArgs.neverDelivered().count(count).timeout(block));
		return (read != null) ? read : Map.of();
	}

	// ---- sessions

	/** The outcome of a registration: a new session id, or the time until another live instance's session lapses. */
	record Registration(String sessionId, long takenForMillis) {

		boolean taken() {
			return this.sessionId == null;
		}

	}

	/** Registers this consumer id, opening a new session (and ending any earlier session of this instance). */
	Registration register() {
		List<Object> reply = LeaseScript.REGISTRY.call(this.redisson, sessionKeys(),
				List.of("register", this.consumer, Long.toString(this.ttlMillis), this.nonce, ""));
		List<String> values = strings(reply);
		return "OK".equals(values.get(0)) ? new Registration(values.get(1), 0)
				: new Registration(null, Long.parseLong(values.get(1)));
	}

	/** Ends this consumer's session {@code sessionId} (nothing if another instance registered the id meanwhile). */
	void deregister(String sessionId) {
		LeaseScript.REGISTRY.call(this.redisson, sessionKeys(),
				List.of("deregister", this.consumer, Long.toString(this.ttlMillis), this.nonce, sessionId));
	}

	private List<Object> sessionKeys() {
		return List.of(this.keys.consumers(), this.keys.sessions(), this.keys.sessionConsumers(),
				this.keys.sessionSequence(), this.keys.session(this.consumer), this.keys.consumerInstances());
	}

	/** What a renewal found. */
	enum RenewalStatus {

		/** Renewed. */
		OK,

		/** The session's deadline passed before the renewal arrived: its streams may have been claimed. */
		LAPSED,

		/** Another instance registered this consumer id. */
		TAKEN

	}

	/**
	 * The outcome of a renewal: its status, the live consumers with the milliseconds left on their sessions, the
	 * loads the live consumers published, and the service's streams (owned or released).
	 */
	record Renewal(RenewalStatus status, Map<String, Long> live, Map<String, ConsumerLoad> loads, long total) {

		Renewal(RenewalStatus status, Map<String, Long> live) {
			this(status, live, Map.of(), 0);
		}

	}

	/**
	 * What a live consumer published at its last renewal.
	 * @param capacity its max-concurrent-streams
	 * @param held the streams it held then
	 * @param liveForMillis how long its session has been renewed (since its first renewal)
	 */
	record ConsumerLoad(long capacity, long held, long liveForMillis) {
	}

	/** Renews this consumer's session and publishes its load: one call, whatever the number of streams it holds. */
	CompletableFuture<Renewal> renew(String sessionId) {
		return renew(sessionId, 0, 0);
	}

	/** Renews this consumer's session and publishes its load: one call, whatever the number of streams it holds. */
	CompletableFuture<Renewal> renew(String sessionId, long capacity, int held) {
		List<Object> keyList = List.of(this.keys.consumers(), this.keys.sessions(), this.keys.session(this.consumer),
				this.keys.consumerInstances(), this.keys.loads(), this.keys.owners(), this.keys.released());
		List<Object> args = List.of(this.consumer, sessionId, Long.toString(this.ttlMillis), this.nonce,
				Long.toString(capacity), Integer.toString(held));
		return LeaseScript.RENEW.<List<Object>>run(this.redisson, keyList, args, this.renewalTimeout).thenApply((reply) -> {
			RenewalStatus status = RenewalStatus.valueOf(str(reply.get(0)));
			if (status != RenewalStatus.OK) {
				return new Renewal(status, Map.of());
			}
			List<?> flat = (List<?>) reply.get(2);
			Map<String, ConsumerLoad> loads = new LinkedHashMap<>();
			for (int i = 0; i + 3 < flat.size(); i += 4) {
				loads.put(str(flat.get(i)), new ConsumerLoad(Long.parseLong(str(flat.get(i + 1))),
						Long.parseLong(str(flat.get(i + 2))), Long.parseLong(str(flat.get(i + 3)))));
			}
			return new Renewal(status, longs((List<?>) reply.get(1)), loads, ((Number) reply.get(3)).longValue());
		});
	}

	// ---- acquisitions

	/** What an acquisition or a claim found for one stream. */
	enum AcquisitionStatus {

		/** Taken with a new fencing token. */
		ACQUIRED,

		/** Already owned by this session with this entry (a retry after a lost reply). */
		OWNED,

		/** Another entry of a stream that a live session owns: recorded as a resubmission and removed from the LBS. */
		DUPLICATE,

		/** Claim: a live session of another consumer owns it. */
		HELD,

		/** Claim: its entry is no longer pending or no longer exists. */
		GONE

	}

	/** The outcome of acquiring or claiming one stream. */
	record Acquisition(AcquisitionStatus status, String stream, long token, String lbsId, boolean recovered,
			String holder, Checkpoint checkpoint, Map<String, String> fields) {
	}

	/** The outcome of one acquire call: empty and {@code notLive} when this consumer's session was not live. */
	record Acquisitions(boolean notLive, List<Acquisition> acquisitions) {
	}

	/** One stream to acquire: its name and LBS entry id (claim mode: "" for the entry its record names). */
	record Request(String stream, String lbsId) {
	}

	/** Acquires the streams of entries just read ({@code claim} false) or claims streams ({@code claim} true). */
	CompletableFuture<Acquisitions> acquire(String sessionId, List<Request> requests, boolean claim) {
		List<Object> keyList = new ArrayList<>(8 + requests.size());
		keyList.add(this.keys.lbs());
		keyList.add(this.keys.owners());
		keyList.add(this.keys.consumers());
		keyList.add(this.keys.sessions());
		keyList.add(this.keys.sessionConsumers());
		keyList.add(this.keys.fencing());
		keyList.add(this.keys.resubmits());
		keyList.add(this.keys.released());
		List<Object> args = new ArrayList<>(4 + 2 * requests.size());
		args.add(this.keys.group());
		args.add(this.consumer);
		args.add(sessionId);
		args.add(claim ? "claim" : "read");
		for (Request request : requests) {
			keyList.add(this.keys.checkpoint(request.stream()));
			args.add(request.stream());
			args.add(request.lbsId());
		}
		return LeaseScript.ACQUIRE.<List<Object>>run(this.redisson, keyList, args).thenApply((reply) -> {
			if (!reply.isEmpty() && "NOT_LIVE".equals(str(reply.get(0)))) {
				return new Acquisitions(true, List.of());
			}
			List<Acquisition> results = new ArrayList<>(requests.size());
			for (int i = 0; i < requests.size(); i++) {
				List<?> row = (List<?>) reply.get(i);
				results.add(new Acquisition(AcquisitionStatus.valueOf(str(row.get(0))), requests.get(i).stream(),
						Long.parseLong(str(row.get(1))), str(row.get(2)), "1".equals(str(row.get(3))), str(row.get(4)),
						checkpoint((List<?>) row.get(5)), pairs((List<?>) row.get(6))));
			}
			return new Acquisitions(false, results);
		});
	}

	/** A pending LBS entry: its id and its fields. */
	record Pending(String id, Map<String, String> fields) {
	}

	/**
	 * The outcome of one takeover call: the streams taken, the malformed entries met (to dead-letter), the last
	 * entry id examined (the cursor of the next call) and how many entries were examined.
	 */
	record Takeover(boolean notLive, List<Acquisition> taken, List<Pending> malformed, String last, int examined,
			List<Request> own) {
	}

	/**
	 * Takes over pending entries of {@code of} ("" for every consumer) idle at least {@code minIdle}, after entry
	 * {@code after}: at most {@code count} examined and {@code room} taken; streams owned by a live session are
	 * left alone.
	 */
	Takeover claimPending(String sessionId, String of, Duration minIdle, String after, int count, int room,
			boolean reportOwn) {
		try {
			return StreamLeaseEngine.await(claimPendingAsync(sessionId, of, minIdle, after, count, room, reportOwn));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new RedisCallException("interrupted while running claim-pending.lua", ex);
		}
	}

	/**
	 * {@link #claimPending} without waiting: the takeover of a departed consumer sends its next chunk while it
	 * turns the last one into leases.
	 */
	CompletableFuture<Takeover> claimPendingAsync(String sessionId, String of, Duration minIdle, String after, int count,
			int room, boolean reportOwn) {
		List<Object> keyList = List.of(this.keys.lbs(), this.keys.owners(), this.keys.consumers(), this.keys.sessions(),
				this.keys.sessionConsumers(), this.keys.fencing(), this.keys.released(), this.keys.resubmits());
		List<Object> args = List.of(this.keys.group(), this.consumer, sessionId, of, Long.toString(minIdle.toMillis()),
				after, Integer.toString(count), Integer.toString(room), this.keys.checkpointPrefix(), reportOwn ? "1" : "0");
		return LeaseScript.CLAIM_PENDING.<List<Object>>run(this.redisson, keyList, args).thenApply((reply) -> {
			if (!reply.isEmpty() && "NOT_LIVE".equals(str(reply.get(0)))) {
				return new Takeover(true, List.of(), List.of(), after, 0, List.of());
			}
			// flat: stream, LBS id, lbs-input ("" for an empty Info), n, n checkpoint items; tokens count up from the first
			List<?> flat = (List<?>) reply.get(0);
			long token = Long.parseLong(str(reply.get(5)));
			List<Acquisition> taken = new ArrayList<>();
			for (int i = 0; i + 3 < flat.size();) {
				int items = ((Number) flat.get(i + 3)).intValue();
				String input = str(flat.get(i + 2));
				taken.add(new Acquisition(AcquisitionStatus.ACQUIRED, str(flat.get(i)), token++, str(flat.get(i + 1)), true,
						this.consumer, checkpoint(flat.subList(i + 4, i + 4 + items)),
						input.isEmpty() ? Map.of() : Map.of(LbsEntry.FIELD, input)));
				i += 4 + items;
			}
			List<Pending> malformed = new ArrayList<>();
			for (Object item : (List<?>) reply.get(1)) {
				List<?> row = (List<?>) item;
				malformed.add(new Pending(str(row.get(0)), pairs((List<?>) row.get(1))));
			}
			List<Request> own = new ArrayList<>();
			for (Object item : (List<?>) reply.get(4)) {
				List<?> row = (List<?>) item;
				own.add(new Request(str(row.get(0)), str(row.get(1))));
			}
			return new Takeover(false, taken, malformed, str(reply.get(2)), ((Number) reply.get(3)).intValue(), own);
		});
	}

	/** How many entries one adopt call moves at most. */
	static final int ADOPT_BATCH = 1000;

	/**
	 * Moves to this consumer the LBS entries of streams it took over, which claim-pending leaves pending for their
	 * earlier consumer: each one whose stream this session still owns under the given record.
	 * @return how many entries were moved, or -1 when the session is not live (nothing was moved)
	 */
	long adopt(String sessionId, Map<String, OwnershipRecord> records) {
		List<Object> keyList = List.of(this.keys.lbs(), this.keys.owners(), this.keys.consumers(), this.keys.sessions());
		List<Object> args = new ArrayList<>(3 + 2 * records.size());
		args.add(this.keys.group());
		args.add(this.consumer);
		args.add(sessionId);
		records.forEach((stream, record) -> {
			args.add(stream);
			args.add(record.value());
		});
		Long moved = LeaseScript.ADOPT.call(this.redisson, keyList, args);
		return (moved != null) ? moved : 0;
	}

	// ---- fenced operations

	/** What finishing a stream found. */
	enum FinishStatus {

		/** Finished. */
		DONE,

		/** Finished; a duplicate arrived meanwhile, so the stream was announced again. */
		RESUBMITTED,

		/** Already finished (this call was repeated after a lost reply). */
		FINISHED,

		/** The caller no longer owns the stream. */
		NOT_OWNER

	}

	/** The outcome of finishing: the status and the new entry id (RESUBMITTED) or the record found (NOT_OWNER). */
	record Finish(FinishStatus status, String detail) {
	}

	/** Finishes a stream (fenced). */
	Finish finish(String stream, OwnershipRecord expected, Duration retention) {
		List<Object> keyList = List.of(this.keys.lbs(), this.keys.owners(), this.keys.consumers(), this.keys.sessions(),
				this.keys.resubmits(), this.keys.checkpoint(stream));
		List<String> reply = strings(LeaseScript.FINISH.call(this.redisson, keyList, List.of(this.keys.group(), stream,
				expected.value(), this.consumer, Long.toString(retention.toMillis()))));
		return new Finish(FinishStatus.valueOf(reply.get(0)), (reply.size() > 1) ? reply.get(1) : null);
	}

	/** The outcome of a fenced write: whether the caller owned the stream, and the value (or the record found). */
	record Fenced(boolean owned, String value) {
	}

	/** Writes a checkpoint (fenced). */
	Fenced checkpoint(String stream, OwnershipRecord expected, String position, Map<String, String> state) {
		List<Object> args = new ArrayList<>(4 + 2 * state.size());
		args.add(stream);
		args.add(expected.value());
		args.add(this.consumer);
		args.add(position);
		state.forEach((key, value) -> {
			args.add(key);
			args.add(value);
		});
		return fenced(LeaseScript.CHECKPOINT.call(this.redisson, fencedKeys(stream), args));
	}

	/** Counts a handler attempt (fenced); the value is the count. */
	Fenced countAttempt(String stream, OwnershipRecord expected) {
		return fenced(LeaseScript.ATTEMPT.call(this.redisson, fencedKeys(stream),
				List.of(stream, expected.value(), this.consumer)));
	}

	private List<Object> fencedKeys(String stream) {
		return List.of(this.keys.owners(), this.keys.consumers(), this.keys.sessions(), this.keys.checkpoint(stream));
	}

	/**
	 * Moves an LBS entry to the dead-letter stream. With a stream and its expected record, the move is fenced and
	 * finishes the stream; with neither it moves a malformed entry.
	 */
	Fenced deadLetter(String lbsId, String stream, OwnershipRecord expected, Map<String, String> fields, int maxLength) {
		List<Object> keyList = (expected == null) ? List.of(this.keys.lbs(), this.keys.deadLetters())
				: List.of(this.keys.lbs(), this.keys.deadLetters(), this.keys.owners(), this.keys.consumers(),
						this.keys.sessions(), this.keys.checkpoint(stream), this.keys.resubmits());
		List<Object> args = new ArrayList<>(6 + 2 * fields.size());
		args.add(this.keys.group());
		args.add(lbsId);
		args.add(Integer.toString(maxLength));
		args.add((expected != null) ? expected.value() : "");
		args.add((expected != null) ? stream : "");
		args.add(this.consumer);
		fields.forEach((key, value) -> {
			args.add(key);
			args.add(value);
		});
		return fenced(LeaseScript.DEAD_LETTER.call(this.redisson, keyList, args));
	}

	private static Fenced fenced(List<Object> reply) {
		List<String> values = strings(reply);
		return new Fenced("OK".equals(values.get(0)), (values.size() > 1) ? values.get(1) : null);
	}

	// ---- handoff

	/** Ends this consumer's session at once and tells peers, who take its streams over; returns 1, or 0 if not live. */
	int handoffSession(String sessionId) {
		Long ended = LeaseScript.HANDOFF.call(this.redisson, handoffKeys(),
				List.of("session", this.keys.handoffChannel(), this.consumer, sessionId));
		return ended.intValue();
	}

	/** Releases the given streams (records aligned with the streams) and tells peers; returns how many. */
	int handoffStreams(String sessionId, List<String> streams, List<OwnershipRecord> records) {
		return handoffStreams(sessionId, streams, records, null);
	}

	/**
	 * Releases the given streams (records aligned with the streams) and tells peers, naming the consumer meant to
	 * claim them (a rebalance) or none ({@code target} null); returns how many.
	 */
	int handoffStreams(String sessionId, List<String> streams, List<OwnershipRecord> records, String target) {
		List<Object> args = new ArrayList<>(5 + 2 * streams.size());
		args.add("streams");
		args.add(this.keys.handoffChannel());
		args.add(this.consumer);
		args.add(sessionId);
		args.add((target != null) ? target : "");
		for (int i = 0; i < streams.size(); i++) {
			args.add(streams.get(i));
			args.add(records.get(i).value());
		}
		Long released = LeaseScript.HANDOFF.call(this.redisson, handoffKeys(), args);
		return released.intValue();
	}

	private List<Object> handoffKeys() {
		return List.of(this.keys.owners(), this.keys.consumers(), this.keys.sessions(), this.keys.sessionConsumers(),
				this.keys.released(), this.keys.session(this.consumer), this.keys.consumerInstances(), this.keys.loads());
	}

	// ---- sweep

	/** One sweep's findings: live consumers (ms left), pending entries per consumer, streams released unclaimed. */
	record Sweep(Map<String, Long> live, Map<String, Long> pendingByConsumer, Map<String, String> released) {
	}

	Sweep sweep(Duration forgetAfter, int releasedLimit) {
		List<Object> reply = LeaseScript.SWEEP.call(this.redisson,
				List.of(this.keys.lbs(), this.keys.consumers(), this.keys.sessions(), this.keys.sessionConsumers(),
						this.keys.released(), this.keys.consumerInstances(), this.keys.loads()),
				List.of(this.keys.group(), Long.toString(forgetAfter.toMillis()), Integer.toString(releasedLimit)));
		return new Sweep(longs((List<?>) reply.get(0)), longs((List<?>) reply.get(1)), pairs((List<?>) reply.get(2)));
	}

	/** The consumer of a session id, or null when the session is gone (for messages). */
	String consumerOf(String sessionId) {
		return this.redisson.<String, String>getMap(this.keys.sessionConsumers(), StringCodec.INSTANCE).get(sessionId);
	}

	/** Up to {@code count} entries pending for {@code consumer}, with their fields (empty when deleted); read only. */
	List<Pending> pendingOf(String consumer, int count) {
		List<Pending> result = new ArrayList<>();
		for (PendingEntry pending : this.lbs.listPending(this.keys.group(), consumer, StreamMessageId.MIN,
				StreamMessageId.MAX, count)) {
			Map<StreamMessageId, Map<String, String>> found = this.lbs.range(pending.getId(), pending.getId());
			result.add(new Pending(pending.getId().toString(), found.isEmpty() ? Map.of() : found.values().iterator().next()));
		}
		return result;
	}

	/** Acknowledges entries that are pending but no longer exist. */
	void acknowledge(Collection<String> ids) {
		if (!ids.isEmpty()) {
			this.lbs.ack(this.keys.group(), ids.stream().map(LeaseStore::messageId).toArray(StreamMessageId[]::new));
		}
	}

	static StreamMessageId messageId(String id) {
		int dash = id.indexOf('-');
		return new StreamMessageId(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
	}

	static boolean mentions(Throwable failure, String code) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause.getMessage() != null && cause.getMessage().contains(code)) {
				return true;
			}
		}
		return false;
	}

	private static Checkpoint checkpoint(List<?> flat) {
		if (flat.isEmpty()) {
			return Checkpoint.NONE;
		}
		Map<String, String> fields = pairs(flat);
		Map<String, String> state = new LinkedHashMap<>();
		fields.forEach((key, value) -> {
			if (key.startsWith("state:")) {
				state.put(key.substring(6), value);
			}
		});
		return new Checkpoint(fields.getOrDefault("position", ""), state,
				Long.parseLong(fields.getOrDefault("token", "0")), Integer.parseInt(fields.getOrDefault("attempts", "0")));
	}

	private static Map<String, String> pairs(List<?> flat) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i + 1 < flat.size(); i += 2) {
			map.put(str(flat.get(i)), str(flat.get(i + 1)));
		}
		return map;
	}

	private static Map<String, Long> longs(List<?> flat) {
		Map<String, Long> map = new LinkedHashMap<>();
		for (int i = 0; i + 1 < flat.size(); i += 2) {
			map.put(str(flat.get(i)), Long.parseLong(str(flat.get(i + 1))));
		}
		return map;
	}

	private static List<String> strings(List<?> values) {
		List<String> result = new ArrayList<>(values.size());
		for (Object value : values) {
			result.add(str(value));
		}
		return result;
	}

	private static String str(Object value) {
		return (value != null) ? value.toString() : null;
	}

}
