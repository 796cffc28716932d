package io.streamlease.engine;

import java.util.Map;

import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;

/**
 * Announces data streams on a service's LBS, in the wire format of redis-stream-client-go: one field
 * {@code lbs-input} with {@code {"DataStreamName": "<name>", "Info": {...}}}. Any other producer that writes this
 * format (a Go producer, {@code redis-cli XADD}) works the same.
 */
public final class LbsProducer {

	private final RStream<String, String> lbs;

	private final String serviceName;

	public LbsProducer(RedissonClient redisson, String serviceName) {
		if (serviceName == null || serviceName.isBlank()) {
			throw new IllegalArgumentException("serviceName must not be blank");
		}
		this.serviceName = serviceName;
		this.lbs = redisson.getStream(new StreamLeaseKeys(serviceName).lbs(), StringCodec.INSTANCE);
	}

	/**
	 * Announces a data stream.
	 * @param stream the data stream name (any characters; not blank)
	 * @param info metadata handed to the consumer as the stream's Info, may be null or empty
	 * @return the id of the LBS entry
	 */
	public String submit(String stream, Map<String, ?> info) {
		if (stream == null || stream.isBlank()) {
			throw new IllegalArgumentException("Cannot submit to service '" + this.serviceName
					+ "': the data stream name must not be blank");
		}
		return this.lbs.add(StreamAddArgs.entry(LbsEntry.FIELD, LbsEntry.payload(stream, info))).toString();
	}

}
