package io.streamlease.engine;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import io.streamlease.LeaseLostException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter path: moves an LBS entry to the dead-letter stream with the reason, the detail and its original
 * fields, counts it and logs a WARN. Two cases: a malformed entry (the reader or a takeover found it), and a held
 * stream whose handler failed on every attempt (fenced: its lease is finished in the same step).
 */
final class DeadLetters {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	private final EngineSettings settings;

	private final LeaseStore store;

	private final HeldStreams held;

	private final Lease.Owner owner;

	private final EngineStatus status;

	private final EngineMetrics metrics;

	DeadLetters(EngineSettings settings, LeaseStore store, HeldStreams held, Lease.Owner owner, EngineStatus status,
			EngineMetrics metrics) {
		this.settings = settings;
		this.store = store;
		this.held = held;
		this.owner = owner;
		this.status = status;
		this.metrics = metrics;
	}

	/**
	 * Original fields copied one by one into a dead letter at most: a script's command takes only so many arguments
	 * from Lua (about 8,000 values); an entry with more keeps them all as one JSON object, {@code dead-letter.fields}.
	 */
	static final int MAX_COPIED_FIELDS = 1000;

	/**
	 * Moves a malformed LBS entry to the dead-letter stream with the reason and its original fields (as one JSON
	 * object in {@code dead-letter.fields} when it has more than {@link #MAX_COPIED_FIELDS}).
	 */
	void malformed(LbsEntry entry) {
		Map<String, String> fields = fields(entry.rejection(), entry.detail(), entry.id());
		if (entry.fields().size() <= MAX_COPIED_FIELDS) {
			entry.fields().forEach(fields::putIfAbsent);
		}
		else {
			fields.put("dead-letter.fields", LbsEntry.JSON.writeValueAsString(entry.fields()));
		}
		this.store.deadLetter(entry.id(), "", null, fields, this.settings.deadLetterMaxLength());
		this.status.deadLettered(entry.rejection());
		logger.warn("Moved LBS entry {} of service '{}' to the dead-letter stream '{}': {}", entry.id(),
				this.settings.serviceName(), this.store.keys().deadLetters(), entry.detail());
	}

	/**
	 * Moves a held stream's LBS entry to the dead-letter stream and finishes the stream, in one fenced step.
	 * @throws LeaseLostException if this consumer no longer holds the lease
	 */
	void handlerFailed(Lease lease, String detail) {
		lease.ensureOwned("dead-letter");
		Map<String, String> fields = fields(DeadLetterReason.HANDLER_FAILED, detail, lease.lbsEntryId());
		fields.put("dead-letter.stream", lease.name());
		fields.put("dead-letter.attempts", Integer.toString(lease.checkpoint().attempts()));
		fields.put(LbsEntry.FIELD, LbsEntry.payload(lease.name(), lease.info()));
		LeaseStore.Fenced reply = this.store.deadLetter(lease.lbsEntryId(), lease.name(), lease.record(), fields,
				this.settings.deadLetterMaxLength());
		if (!reply.owned()) {
			this.owner.disown(lease, "dead-lettering found the stream " + this.owner.describeHolder(reply.value()));
			throw lease.lost("dead-letter", reply.value());
		}
		if (lease.end(Lease.State.DONE)) {
			this.held.remove(lease);
		}
		this.status.deadLettered(DeadLetterReason.HANDLER_FAILED);
		this.metrics.leaseReleased(lease.name(), "dead-letter");
		logger.warn("Moved stream '{}' of service '{}' to the dead-letter stream '{}': {}", lease.name(),
				this.settings.serviceName(), this.store.keys().deadLetters(), detail);
	}

	/** The fields every dead letter has: reason, detail, LBS id, consumer and time. */
	Map<String, String> fields(DeadLetterReason reason, String detail, String lbsId) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("dead-letter.reason", reason.tag());
		fields.put("dead-letter.detail", detail);
		fields.put("dead-letter.lbs-id", lbsId);
		fields.put("dead-letter.consumer", this.settings.consumerId());
		fields.put("dead-letter.at", Instant.now().toString());
		return fields;
	}

}
