package io.streamlease.sample;

import java.util.LinkedHashMap;
import java.util.Map;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.autoconfigure.StreamLeaseRedis;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.stereotype.Component;

/**
 * The opt-in processing audit ({@code sample.audit.enabled}, off by default): one record per handled entry in the
 * audit stream, so that a test can check from Redis alone that no two consumers ever acted on one stream with the
 * same fencing token, and see when a stream changed hands. The summary writes are audited by
 * {@code write-summary.lua} itself, in the same script as the write. See {@link SampleProperties.Audit}.
 */
@Component
public class SessionAudit {

	/** The audit record field that says what was recorded: {@value #ENTRY} or {@value #SUMMARY}. */
	public static final String KIND = "kind";

	/** The kind of a record of a handled entry. */
	public static final String ENTRY = "entry";

	/** The kind of a record of a summary write attempt (written by {@code write-summary.lua}). */
	public static final String SUMMARY = "summary";

	private final RedissonClient redisson;

	private final String stream;

	@Autowired
	public SessionAudit(StreamLeaseRedis redis, SampleProperties properties) {
		this(redis.getClient(), streamOf(properties.getAudit()));
	}

	/**
	 * @param redisson the client to write with
	 * @param stream the audit stream, or null for no audit
	 */
	public SessionAudit(RedissonClient redisson, String stream) {
		this.redisson = redisson;
		this.stream = stream;
	}

	/**
	 * The key of the audit stream, or null when the audit is off.
	 */
	public String stream() {
		return this.stream;
	}

	/**
	 * Records that this consumer starts to handle an entry under its fencing token; does nothing when the audit is
	 * off. Runs before the entry changes anything, so a takeover shows in the audit as soon as the new owner acts.
	 * @throws org.redisson.client.RedisException if Redis cannot be written (the handler then fails and the entry
	 * is retried, as for any other write)
	 */
	public void entryHandled(StreamEntry entry, LeasedStream lease) {
		if (this.stream == null) {
			return;
		}
		Map<String, String> record = new LinkedHashMap<>();
		record.put(KIND, ENTRY);
		record.put("stream", entry.stream());
		record.put("entry", entry.id());
		record.put("type", String.valueOf(entry.field(SessionHandler.TYPE)));
		record.put("consumer", lease.consumerId());
		record.put("token", Long.toString(lease.fencingToken()));
		record.put("recovered", Boolean.toString(lease.recovered()));
		this.redisson.<String, String>getStream(this.stream, StringCodec.INSTANCE).add(StreamAddArgs.entries(record));
	}

	private static String streamOf(SampleProperties.Audit audit) {
		if (!audit.isEnabled()) {
			return null;
		}
		if (audit.getStream() == null || audit.getStream().isBlank()) {
			throw new InvalidConfigurationPropertyValueException("sample.audit.stream", audit.getStream(),
					"it must not be blank when sample.audit.enabled is true");
		}
		return audit.getStream();
	}

}
