package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.streamlease.Checkpoint;
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

	private final String nonce;

	private final Duration renewalTimeout;

	LeaseStore(RedissonClient redisson, EngineSettings settings, String nonce) {
		this.redisson = redisson;
		this.keys = settings.keys();
		this.consumer = settings.consumerId();
		this.nonce = nonce;
		this.ttlMillis = settings.hbInterval().toMillis();
		this.renewalTimeout = settings.renewalTimeout();
		this.lbs = redisson.getStream(this.keys.lbs(), StringCodec.INSTANCE);
	}

	StreamLeaseKeys keys() {
		return this.keys;
	}

	/** The lease value of this instance for a fencing token: {@code <token>:<instance nonce>:<consumer>}. */
	String leaseValue(long token) {
		return token + ":" + this.nonce + ":" + this.consumer;
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

	/** The outcome of acquiring or claiming one stream's lease. */
	record Acquisition(String status, String stream, long token, String lbsId, boolean recovered, String holder,
			Checkpoint checkpoint, Map<String, String> fields) {
	}

	/** One stream to acquire: its name and LBS entry id (empty to claim whatever entry is assigned to it). */
	record Request(String stream, String lbsId) {
	}

	/** Acquires the leases of entries just read ({@code claim} false) or claims lapsed streams ({@code claim} true). */
	CompletableFuture<List<Acquisition>> acquire(List<Request> requests, boolean claim) {
		List<Object> keyList = new ArrayList<>(5 + 2 * requests.size());
		keyList.add(this.keys.lbs());
		keyList.add(this.keys.leaseIndex());
		keyList.add(this.keys.assignments());
		keyList.add(this.keys.fencing());
		keyList.add(this.keys.resubmits());
		List<Object> args = new ArrayList<>(4 + 2 * requests.size());
		args.add(this.keys.group());
		args.add(this.consumer);
		args.add(Long.toString(this.ttlMillis));
		args.add(claim ? "claim" : "read");
		args.add(this.nonce + ":" + this.consumer);
		for (Request request : requests) {
			keyList.add(this.keys.lease(request.stream()));
			keyList.add(this.keys.checkpoint(request.stream()));
			args.add(request.stream());
			args.add(request.lbsId());
		}
		return LeaseScript.ACQUIRE.<List<Object>>run(this.redisson, keyList, args).thenApply((reply) -> {
			List<Acquisition> results = new ArrayList<>(requests.size());
			for (int i = 0; i < requests.size(); i++) {
				List<?> row = (List<?>) reply.get(i);
				results.add(new Acquisition(str(row.get(0)), requests.get(i).stream(), Long.parseLong(str(row.get(1))),
						str(row.get(2)), "1".equals(str(row.get(3))), str(row.get(4)), checkpoint((List<?>) row.get(5)),
						pairs((List<?>) row.get(6))));
			}
			return results;
		});
	}

	/** The outcome of one renewal call. */
	record Renewal(String registration, List<Integer> lostPositions, List<String> liveConsumers) {
	}

	/** Renews a chunk of leases (expected values aligned with the streams), and the registration if {@code heartbeat}. */
	CompletableFuture<Renewal> renew(List<String> streams, List<String> expected, boolean heartbeat) {
		List<Object> keyList = new ArrayList<>(3 + streams.size());
		keyList.add(this.keys.leaseIndex());
		keyList.add(this.keys.consumers());
		keyList.add(this.keys.consumerInstances());
		for (String stream : streams) {
			keyList.add(this.keys.lease(stream));
		}
		List<Object> args = new ArrayList<>(5 + expected.size());
		args.add(this.consumer);
		args.add(Long.toString(this.ttlMillis));
		args.add(this.nonce);
		args.add(heartbeat ? "1" : "0");
		args.add(Integer.toString(this.keys.leasePrefixBytes()));
		args.addAll(expected);
		return LeaseScript.RENEW.<List<Object>>run(this.redisson, keyList, args, this.renewalTimeout).thenApply((reply) -> {
			List<Integer> lost = new ArrayList<>();
			for (Object position : (List<?>) reply.get(1)) {
				lost.add(((Number) position).intValue());
			}
			return new Renewal(str(reply.get(0)), lost, strings((List<?>) reply.get(2)));
		});
	}

	/** Finishes a stream (fenced): {DONE}, {RESUBMITTED, id} or {NOT_OWNER, holder}. */
	List<String> finish(String stream, String expected, String lbsId, Duration retention) {
		List<Object> keyList = List.of(this.keys.lbs(), this.keys.leaseIndex(), this.keys.assignments(),
				this.keys.resubmits(), this.keys.lease(stream), this.keys.checkpoint(stream));
		List<Object> reply = LeaseScript.FINISH.call(this.redisson, keyList,
				List.of(this.keys.group(), stream, expected, lbsId, Long.toString(retention.toMillis())));
		return strings(reply);
	}

	/** Hands off leases (expected values aligned with the streams); returns how many were still held. */
	int handoff(List<String> streams, List<String> expected) {
		List<Object> keyList = new ArrayList<>(1 + streams.size());
		keyList.add(this.keys.leaseIndex());
		for (String stream : streams) {
			keyList.add(this.keys.lease(stream));
		}
		List<Object> args = new ArrayList<>(2 + expected.size());
		args.add(this.keys.handoffChannel());
		args.add(Integer.toString(this.keys.leasePrefixBytes()));
		args.add(this.consumer);
		args.addAll(expected);
		Long released = LeaseScript.HANDOFF.call(this.redisson, keyList, args);
		return released.intValue();
	}

	/** Writes a checkpoint (fenced): {OK} or {NOT_OWNER, holder}. */
	List<String> checkpoint(String stream, String expected, long token, String position, Map<String, String> state) {
		List<Object> args = new ArrayList<>(3 + 2 * state.size());
		args.add(expected);
		args.add(position);
		args.add(Long.toString(token));
		state.forEach((key, value) -> {
			args.add(key);
			args.add(value);
		});
		List<Object> reply = LeaseScript.CHECKPOINT.call(this.redisson,
				List.of(this.keys.lease(stream), this.keys.checkpoint(stream)), args);
		return strings(reply);
	}

	/** Counts a handler attempt (fenced): {OK, attempts} or {NOT_OWNER, holder}. */
	List<String> countAttempt(String stream, String expected) {
		List<Object> reply = LeaseScript.ATTEMPT.call(this.redisson,
				List.of(this.keys.lease(stream), this.keys.checkpoint(stream)), List.of(expected));
		return strings(reply);
	}

	/**
	 * Moves an LBS entry to the dead-letter stream. With a stream and an expected lease value, the move is fenced
	 * and finishes the stream; with empty ones it moves a malformed entry.
	 */
	List<String> deadLetter(String lbsId, String stream, String expected, Map<String, String> fields, int maxLength) {
		String leaseStream = stream.isEmpty() ? "" : stream;
		List<Object> keyList = List.of(this.keys.lbs(), this.keys.deadLetters(), this.keys.leaseIndex(),
				this.keys.assignments(), this.keys.lease(leaseStream), this.keys.checkpoint(leaseStream),
				this.keys.resubmits());
		List<Object> args = new ArrayList<>(5 + 2 * fields.size());
		args.add(this.keys.group());
		args.add(lbsId);
		args.add(Integer.toString(maxLength));
		args.add(expected);
		args.add(stream);
		fields.forEach((key, value) -> {
			args.add(key);
			args.add(value);
		});
		List<Object> reply = LeaseScript.DEAD_LETTER.call(this.redisson, keyList, args);
		return strings(reply);
	}

	/** Registers ({OK} or {TAKEN, ms left}) or deregisters this consumer. */
	List<String> registry(String action) {
		List<Object> reply = LeaseScript.REGISTRY.call(this.redisson,
				List.of(this.keys.consumers(), this.keys.consumerInstances()),
				List.of(action, this.consumer, this.nonce, Long.toString(this.ttlMillis)));
		return strings(reply);
	}

	/** One sweep's findings. */
	record Sweep(List<String> lapsed, List<String> live, Map<String, Long> pendingByConsumer, int examined) {
	}

	Sweep sweep(int limit, int skip, Duration forgetAfter) {
		List<Object> reply = LeaseScript.SWEEP.call(this.redisson,
				List.of(this.keys.leaseIndex(), this.keys.consumers(), this.keys.consumerInstances(), this.keys.lbs()),
				List.of(this.keys.group(), Integer.toString(limit), Long.toString(forgetAfter.toMillis()),
						this.keys.leasePrefix(), Integer.toString(skip)));
		Map<String, Long> pending = new LinkedHashMap<>();
		List<String> flat = strings((List<?>) reply.get(2));
		for (int i = 0; i + 1 < flat.size(); i += 2) {
			pending.put(flat.get(i), Long.parseLong(flat.get(i + 1)));
		}
		return new Sweep(strings((List<?>) reply.get(0)), strings((List<?>) reply.get(1)), pending,
				((Number) reply.get(3)).intValue());
	}

	/** A pending LBS entry: its id, the consumer it is pending for, its fields (empty when deleted). */
	record Pending(String id, String consumer, Map<String, String> fields) {
	}

	/** Pending entries of one consumer (or all, with ""), idle at least {@code minIdle}, after {@code afterId}. */
	List<Pending> pending(String consumer, Duration minIdle, String afterId, int count) {
		List<Object> reply = LeaseScript.PENDING.call(this.redisson, List.of(this.keys.lbs()),
				List.of(this.keys.group(), consumer, Long.toString(minIdle.toMillis()), afterId, Integer.toString(count)));
		List<Pending> result = new ArrayList<>(reply.size() / 3);
		for (int i = 0; i + 2 < reply.size(); i += 3) {
			result.add(new Pending(str(reply.get(i)), str(reply.get(i + 1)), pairs((List<?>) reply.get(i + 2))));
		}
		return result;
	}

	/** Acknowledges entries that are pending but no longer exist. */
	void acknowledge(Collection<String> ids) {
		if (!ids.isEmpty()) {
			this.lbs.ack(this.keys.group(), ids.stream().map(LeaseStore::messageId).toArray(StreamMessageId[]::new));
		}
	}

	/** Removes a consumer with nothing pending from the group. */
	void removeConsumer(String consumer) {
		this.lbs.removeConsumer(this.keys.group(), consumer);
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
