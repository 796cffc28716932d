package io.streamlease.sample;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Processes sessions. A session is a data stream of entries whose field {@code type} is {@code event} (with an
 * integer field {@code amount}) or {@code end}. The handler counts the events and sums their amounts in the
 * stream's {@link StreamState}, which Stream Lease checkpoints with the stream position under the fencing token:
 * after a failover the new owner resumes from the checkpoint with those totals, so no event is lost or counted
 * twice. At {@code end} it writes {@code summary:<stream>} with a compare-token write and completes the stream.
 * <p>
 * Malformed entries (an unknown or missing {@code type}, an {@code amount} that is missing or not an integer) are
 * skipped with a warning and counted in the summary's {@code skipped} field. They are not thrown as errors: a
 * retry would read the same entry again and fail the same way, and after the retries the whole session would go
 * to the dead-letter stream, losing its good events with the bad one.
 */
@Component
public class SessionHandler {

	/** The field that says what an entry is. */
	public static final String TYPE = "type";

	/** The type of an entry that adds {@code amount} to the session. */
	public static final String EVENT = "event";

	/** The type of the entry that ends the session. */
	public static final String END = "end";

	/** The integer field of an event. */
	public static final String AMOUNT = "amount";

	private static final String EVENTS = "events";

	private static final String SKIPPED = "skipped";

	private static final Logger logger = LoggerFactory.getLogger(SessionHandler.class);

	private final SessionSummaryWriter summaries;

	private final SessionAudit audit;

	private final Duration processingDelay;

	public SessionHandler(SessionSummaryWriter summaries, SessionAudit audit, SampleProperties properties) {
		this.summaries = summaries;
		this.audit = audit;
		this.processingDelay = properties.getProcessingDelay();
	}

	/**
	 * Called by Stream Lease once per entry, in order, for each session this instance holds.
	 */
	@StreamHandler
	public void onEntry(StreamEntry entry, StreamState state, LeasedStream stream) throws InterruptedException {
		// a no-op unless sample.audit.enabled (for fault-injection tests)
		this.audit.entryHandled(entry, stream);
		if (!this.processingDelay.isZero()) {
			// interrupted when the lease is lost: the entry is then left to the stream's new owner
			Thread.sleep(this.processingDelay.toMillis());
		}
		String type = entry.field(TYPE);
		if (EVENT.equals(type)) {
			Long amount = parseAmount(entry.field(AMOUNT));
			if (amount == null) {
				skip(entry, state, "its amount '" + entry.field(AMOUNT) + "' is not an integer");
				return;
			}
			state.put(EVENTS, Long.toString(state.getLong(EVENTS, 0) + 1));
			state.put(AMOUNT, Long.toString(state.getLong(AMOUNT, 0) + amount));
		}
		else if (END.equals(type)) {
			finish(entry, state, stream);
		}
		else {
			skip(entry, state, "its type '" + type + "' is neither '" + EVENT + "' nor '" + END + "'");
		}
	}

	private void finish(StreamEntry entry, StreamState state, LeasedStream stream) {
		long events = state.getLong(EVENTS, 0);
		long amount = state.getLong(AMOUNT, 0);
		long skipped = state.getLong(SKIPPED, 0);
		Map<String, String> summary = new LinkedHashMap<>();
		summary.put(EVENTS, Long.toString(events));
		summary.put(AMOUNT, Long.toString(amount));
		summary.put(SKIPPED, Long.toString(skipped));
		summary.put("consumer", stream.consumerId());
		SessionSummaryWriter.Result result = this.summaries.write(entry.stream(), stream.fencingToken(), summary);
		if (result.written()) {
			logger.info("Session '{}' finished: {} events, amount {}, {} skipped, fencing token {}, recovered {}",
					entry.stream(), events, amount, skipped, stream.fencingToken(), stream.recovered());
		}
		else {
			// only a stale owner gets here: the stream was taken over and its new owner already wrote the summary
			logger.warn("Summary of session '{}' not written: it carries fencing token {}, newer than this "
					+ "consumer's {}; this consumer lost the stream", entry.stream(), result.storedToken(),
					stream.fencingToken());
		}
		// finishes the stream after this entry (a fenced step too: refused if the lease is lost)
		state.complete();
	}

	private static void skip(StreamEntry entry, StreamState state, String reason) {
		state.put(SKIPPED, Long.toString(state.getLong(SKIPPED, 0) + 1));
		logger.warn("Skipped entry {} of session '{}': {}", entry.id(), entry.stream(), reason);
	}

	private static Long parseAmount(String value) {
		if (value == null) {
			return null;
		}
		try {
			return Long.parseLong(value.trim());
		}
		catch (NumberFormatException ex) {
			return null;
		}
	}

}
