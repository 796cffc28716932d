package io.streamlease.autoconfigure;

import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.DisposableBean;

/**
 * The Redisson client the engines use: the application's own {@link RedissonClient} bean when it has one, or a
 * client built from Spring Boot's Redis settings and tuned for leases (a command timeout well under the lease
 * TTL, no silent re-sends of scripts). A built client is not exposed as a {@code RedissonClient} bean, so adding
 * Stream Lease does not hand the rest of the application a client with these settings.
 */
public final class StreamLeaseRedis implements DisposableBean {

	private final RedissonClient client;

	private final boolean owned;

	private StreamLeaseRedis(RedissonClient client, boolean owned) {
		this.client = client;
		this.owned = owned;
	}

	/** Uses the application's client; it is left running when the context closes. */
	public static StreamLeaseRedis shared(RedissonClient client) {
		return new StreamLeaseRedis(client, false);
	}

	/** Uses a client built for Stream Lease; it is shut down when the context closes. */
	public static StreamLeaseRedis owned(RedissonClient client) {
		return new StreamLeaseRedis(client, true);
	}

	/** The client. */
	public RedissonClient getClient() {
		return this.client;
	}

	/** Whether Stream Lease built this client (rather than using the application's). */
	public boolean isOwned() {
		return this.owned;
	}

	@Override
	public void destroy() {
		if (this.owned) {
			this.client.shutdown();
		}
	}

}
