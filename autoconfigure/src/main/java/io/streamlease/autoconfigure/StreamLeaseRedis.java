package io.streamlease.autoconfigure;

import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.DisposableBean;

/**
 * The Redisson clients of Stream Lease: the application's own {@link RedissonClient} bean when it has one, or two
 * clients built from Spring Boot's Redis settings, each with its own connection pool:
 * <ul>
 * <li>the <em>lease client</em>, for the engines: renewals, the LBS reader, acquisitions, claims, sweeps, and the
 * fenced checkpoint and finishing scripts; tuned for leases (a command timeout well under the lease TTL, no silent
 * re-sends of scripts);</li>
 * <li>the <em>data client</em>, for data traffic: the entry reader's XREADs and change notifications, the producer
 * template, and whatever the application writes through {@link #getClient()}.</li>
 * </ul>
 * So a flood of data reads can wait for a connection of its own pool, never for one that a renewal needs. Built
 * clients are not exposed as {@code RedissonClient} beans, so adding Stream Lease does not hand the rest of the
 * application a client with these settings. With the application's client, both roles share it; the entry
 * reader's in-flight bounds then keep data traffic from taking every connection.
 */
public final class StreamLeaseRedis implements DisposableBean {

	private final RedissonClient leaseClient;

	private final RedissonClient dataClient;

	private final boolean owned;

	private StreamLeaseRedis(RedissonClient leaseClient, RedissonClient dataClient, boolean owned) {
		this.leaseClient = leaseClient;
		this.dataClient = dataClient;
		this.owned = owned;
	}

	/** Uses the application's client for both roles; it is left running when the context closes. */
	public static StreamLeaseRedis shared(RedissonClient client) {
		return new StreamLeaseRedis(client, client, false);
	}

	/** Uses one client built for Stream Lease for both roles; it is shut down when the context closes. */
	public static StreamLeaseRedis owned(RedissonClient client) {
		return new StreamLeaseRedis(client, client, true);
	}

	/**
	 * Uses two clients built for Stream Lease, one per role; both are shut down when the context closes.
	 */
	public static StreamLeaseRedis owned(RedissonClient leaseClient, RedissonClient dataClient) {
		return new StreamLeaseRedis(leaseClient, dataClient, true);
	}

	/**
	 * The client for data: the one to use for the application's own reads and writes next to its handlers (the
	 * data client).
	 */
	public RedissonClient getClient() {
		return this.dataClient;
	}

	/** The client of the engines: lease traffic and fenced writes. */
	public RedissonClient getLeaseClient() {
		return this.leaseClient;
	}

	/** The client of data traffic: entry reads, change notifications, the producer template. */
	public RedissonClient getDataClient() {
		return this.dataClient;
	}

	/** Whether Stream Lease built its clients (rather than using the application's). */
	public boolean isOwned() {
		return this.owned;
	}

	@Override
	public void destroy() {
		if (this.owned) {
			if (this.dataClient != this.leaseClient) {
				this.dataClient.shutdown();
			}
			this.leaseClient.shutdown();
		}
	}

}
