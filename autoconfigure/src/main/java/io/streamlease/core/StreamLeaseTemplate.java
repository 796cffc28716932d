package io.streamlease.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.streamlease.engine.LbsProducer;
import org.redisson.api.RedissonClient;

/**
 * Announces data streams on the LBS of a service, in the wire format of redis-stream-client-go
 * ({@code lbs-input} = {@code {"DataStreamName": ..., "Info": {...}}}).
 */
public class StreamLeaseTemplate {

	private final RedissonClient redisson;

	private final String defaultService;

	private final Map<String, LbsProducer> producers = new ConcurrentHashMap<>();

	/**
	 * @param redisson the client to write with
	 * @param defaultService the service of {@link #submit(String, Map)}
	 */
	public StreamLeaseTemplate(RedissonClient redisson, String defaultService) {
		this.redisson = redisson;
		this.defaultService = defaultService;
	}

	/**
	 * Announces a data stream on the default service's LBS.
	 * @return the LBS entry id
	 */
	public String submit(String stream, Map<String, ?> info) {
		return submit(this.defaultService, stream, info);
	}

	/**
	 * Announces a data stream on a service's LBS.
	 * @return the LBS entry id
	 */
	public String submit(String service, String stream, Map<String, ?> info) {
		return this.producers.computeIfAbsent(service, (name) -> new LbsProducer(this.redisson, name)).submit(stream, info);
	}

	/**
	 * The service of {@link #submit(String, Map)}.
	 */
	public String getDefaultService() {
		return this.defaultService;
	}

}
