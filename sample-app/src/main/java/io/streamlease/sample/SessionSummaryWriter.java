package io.streamlease.sample;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streamlease.autoconfigure.StreamLeaseRedis;
import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Writes the summary of a session, {@code summary:<stream>}, with a compare-token write: the hash keeps the fencing
 * token of its last writer, and a write with a smaller token is refused (see {@code write-summary.lua}). This is the
 * pattern to copy for any write a handler makes outside Stream Lease's own keys: a consumer that lost its lease
 * during a pause cannot overwrite what the stream's newer owner wrote. With the audit on ({@code sample.audit.enabled})
 * the script also records every attempt, accepted or rejected, in the audit stream.
 */
@Component
public class SessionSummaryWriter {

	/** The field that holds the fencing token of the last writer. */
	public static final String FENCING_TOKEN = "fencingToken";

	private static final String SCRIPT = load("write-summary.lua");

	private final RedissonClient redisson;

	private final String auditStream;

	/**
	 * @param redis the client Stream Lease uses: built from {@code spring.data.redis.*} (an application with a
	 * {@code RedissonClient} bean of its own would inject that instead, and Stream Lease would use it too)
	 * @param audit where to record write attempts, if anywhere
	 */
	@Autowired
	public SessionSummaryWriter(StreamLeaseRedis redis, SessionAudit audit) {
		this(redis.getClient(), audit.stream());
	}

	/**
	 * @param redisson the client to write with
	 */
	public SessionSummaryWriter(RedissonClient redisson) {
		this(redisson, null);
	}

	/**
	 * @param redisson the client to write with
	 * @param auditStream the audit stream that records every write attempt, or null for none
	 */
	public SessionSummaryWriter(RedissonClient redisson, String auditStream) {
		this.redisson = redisson;
		this.auditStream = auditStream;
	}

	/**
	 * The key of the summary of a session.
	 */
	public static String key(String stream) {
		return "summary:" + stream;
	}

	/**
	 * Writes the fields and the token to the summary of a session, unless it already carries a greater token.
	 * @param stream the session's data stream
	 * @param fencingToken the writer's fencing token ({@code LeasedStream.fencingToken()})
	 * @param fields the fields to set
	 * @return whether it was written, and the token the summary carries now
	 */
	public Result write(String stream, long fencingToken, Map<String, String> fields) {
		List<Object> args = new ArrayList<>(1 + 2 * fields.size());
		args.add(Long.toString(fencingToken));
		fields.forEach((field, value) -> {
			args.add(field);
			args.add(value);
		});
		List<Object> keys = (this.auditStream != null) ? List.of(key(stream), this.auditStream) : List.of(key(stream));
		// eval runs the script by its SHA once Redisson has loaded it (its script cache is on by default)
		List<Object> reply = this.redisson.getScript(StringCodec.INSTANCE)
			.eval(RScript.Mode.READ_WRITE, SCRIPT, RScript.ReturnType.LIST, keys, args.toArray());
		return new Result(((Number) reply.get(0)).longValue() == 1, Long.parseLong(reply.get(1).toString()));
	}

	/**
	 * The outcome of a compare-token write.
	 *
	 * @param written whether the fields were written
	 * @param storedToken the token the summary carries now: the writer's when written, the newer owner's when not
	 */
	public record Result(boolean written, long storedToken) {
	}

	private static String load(String name) {
		try (InputStream in = SessionSummaryWriter.class.getResourceAsStream(name)) {
			if (in == null) {
				throw new IllegalStateException("Script " + name + " is missing from the class path");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not read script " + name, ex);
		}
	}

}
